/* gemm_internal.h: what the blocked driver and the vector micro-kernels share (not part of the public header). */
#ifndef ABLATE_GEMM_INTERNAL_H
#define ABLATE_GEMM_INTERNAL_H

/* One MR x NR tile: kc steps of acc = fma(pa[p*MR + r], pb[p*NR + j], acc) on packed panels. The accumulators start
 * at +0 when `first`, else are loaded from `ws` (MR*NR, row-major); when not `last` they are stored back to `ws`.
 * When `last`, the epilogue (alpha, then beta with fma) writes the valid mv x nv part of the tile to c (stride ldc). */
typedef void (*ablate_micro_kernel)(long kc, const float *pa, const float *pb, float *ws, int first, int last,
                                    float alpha, float beta, float *c, long ldc, long mv, long nv);

/* The epilogue of one element, the rule's last two lines (used for edge tiles and by the scalar path). */
float ablate_finish(float acc, float alpha, float beta, const float *c_old);

/* Finishes the valid mv x nv part of a tile whose accumulators are in `tile` (row stride nr). */
void ablate_finish_tile(const float *tile, long nr, float alpha, float beta, float *c, long ldc, long mv, long nv);

/* The packing-and-blocking driver around a micro-kernel of mr x nr accumulators. */
void ablate_gemm_blocked(ablate_micro_kernel micro, long mr, long nr, int transA, int transB, long m, long n, long k,
                         float alpha, const float *a, long lda, const float *b, long ldb, float beta, float *c,
                         long ldc);

/* The scalar path: the rule with fmaf, one output row at a time. */
void ablate_gemm_scalar(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc);

#if defined(__x86_64__)
void ablate_micro_avx512(long kc, const float *pa, const float *pb, float *ws, int first, int last, float alpha,
                         float beta, float *c, long ldc, long mv, long nv);
void ablate_micro_avx2(long kc, const float *pa, const float *pb, float *ws, int first, int last, float alpha,
                       float beta, float *c, long ldc, long mv, long nv);
/* dst[j * ldd + i] = src[i * lds + j] for i, j in 0..<8 (AVX2; the vector paths run only where AVX2 is). */
void ablate_transpose8x8(const float *src, long lds, float *dst, long ldd);
int ablate_cpu_has_avx512f(void);
int ablate_cpu_has_avx2_fma(void);
#endif

#endif
