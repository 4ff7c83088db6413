/* micro_avx2.c: the AVX2+FMA micro-kernel, 6 rows x 16 columns of accumulators (12 ymm registers). */
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define ROWS 6
#define COLS 16

/* One row's two accumulators take one step: acc = fma(a, b, acc) in every lane. */
#define STEP(r)                                                                                                        \
    do {                                                                                                               \
        const __m256 ar = _mm256_broadcast_ss(pa + (r));                                                               \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                                                                    \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                                                                    \
    } while (0)

#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define DECLARE(r) __m256 c##r##0, c##r##1;
#define ZERO(r) c##r##0 = _mm256_setzero_ps(); c##r##1 = _mm256_setzero_ps();
#define LOAD(r) c##r##0 = _mm256_loadu_ps(ws + (r) * COLS); c##r##1 = _mm256_loadu_ps(ws + (r) * COLS + 8);
#define STORE(r) _mm256_storeu_ps(ws + (r) * COLS, c##r##0); _mm256_storeu_ps(ws + (r) * COLS + 8, c##r##1);
#define STORE_TILE(r) _mm256_storeu_ps(tile + (r) * COLS, c##r##0); _mm256_storeu_ps(tile + (r) * COLS + 8, c##r##1);
#define STEPS(r) STEP(r);
/* The rule's epilogue on a whole row: alpha * acc unless alpha is 1, then fma(beta, c_old, .) unless beta is 0. */
#define FINISH(r)                                                                                                      \
    {                                                                                                                  \
        __m256 v0 = c##r##0, v1 = c##r##1;                                                                             \
        float *row = c + (r) * ldc;                                                                                    \
        if (scale) { v0 = _mm256_mul_ps(va, v0); v1 = _mm256_mul_ps(va, v1); }                                         \
        if (add) {                                                                                                     \
            v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row), v0);                                                        \
            v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(row + 8), v1);                                                    \
        }                                                                                                              \
        _mm256_storeu_ps(row, v0);                                                                                     \
        _mm256_storeu_ps(row + 8, v1);                                                                                 \
    }

__attribute__((target("avx2,fma"))) void ablate_micro_avx2(long kc, const float *pa, const float *pb, float *ws,
                                                            int first, int last, float alpha, float beta, float *c,
                                                            long ldc, long mv, long nv) {
    FOR_ROWS(DECLARE)
    if (first) {
        FOR_ROWS(ZERO)
    } else {
        FOR_ROWS(LOAD)
    }
    for (long p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(pb), b1 = _mm256_loadu_ps(pb + 8);
        FOR_ROWS(STEPS)
        pa += ROWS;
        pb += COLS;
    }
    if (!last) {
        FOR_ROWS(STORE)
        return;
    }
    if (mv == ROWS && nv == COLS) {
        const int scale = alpha != 1.0f, add = beta != 0.0f;
        const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
        FOR_ROWS(FINISH)
        return;
    }
    float tile[ROWS * COLS] __attribute__((aligned(32)));
    FOR_ROWS(STORE_TILE)
    ablate_finish_tile(tile, COLS, alpha, beta, c, ldc, mv, nv);
}
#endif
