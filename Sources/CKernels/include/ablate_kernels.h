/* ablate_kernels.h: Ablate's own single-precision GEMM kernels (AVX-512, AVX2+FMA, portable scalar), bitwise identical. */
#ifndef ABLATE_KERNELS_H
#define ABLATE_KERNELS_H

/* The kernel paths. Every path computes every element of C with the same arithmetic, so they give the same bits:
 *
 *   acc = +0
 *   for p = 0, 1, ..., k-1 (in that order):  acc = fma(op(A)[i][p], op(B)[p][j], acc)   (one rounding each)
 *   c   = (alpha == 1) ? acc : alpha * acc                                               (one rounding)
 *   if (beta != 0)  c = fma(beta, c_old, c)                                              (c_old unread when beta is 0)
 *
 * The vector paths vectorise across output columns j and register-block across rows i, never across k; when k is
 * blocked for the cache, the running accumulator is stored and reloaded, never summed with another partial sum.
 * Edge tiles are computed on zero-padded packed operands and their valid elements finished with scalar fmaf,
 * which rounds as the vector FMA does. The C target is compiled with -ffp-contract=off, so no a*b+c is fused
 * behind the rule's back. An element's result therefore depends neither on its position in the product, nor on
 * the product's size, nor on how a caller splits the product into blocks of rows or columns. */
enum {
    ABLATE_GEMM_SCALAR = 0,
    ABLATE_GEMM_AVX2 = 1,
    ABLATE_GEMM_AVX512 = 2,
};

/* 1 when the CPU and the OS support the path (cpuid and XCR0); the scalar path always is. */
int ablate_gemm_supported(int kernel);

/* C = alpha * op(A) * op(B) + beta * C by the rule above, row-major: op(A) is m x k (A is k x m when transA),
 * op(B) is k x n (B is n x k when transB), C is m x n with row stride ldc. Runs on the calling thread; its packing
 * buffers are per thread. An unsupported `kernel` falls back to the scalar path (same bits). */
void ablate_sgemm(int kernel, int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                  const float *b, long ldb, float beta, float *c, long ldc);

#endif
