/* gemm_scalar.c: the portable path, the kernels' rule written out with fmaf, and the shared element epilogue. */
#include <math.h>
#include <stdlib.h>
#include "gemm_internal.h"

float ablate_finish(float acc, float alpha, float beta, const float *c_old) {
    float v = alpha == 1.0f ? acc : alpha * acc;
    if (beta != 0.0f) v = fmaf(beta, *c_old, v);
    return v;
}

void ablate_finish_tile(const float *tile, long nr, float alpha, float beta, float *c, long ldc, long mv, long nv) {
    for (long r = 0; r < mv; r++)
        for (long j = 0; j < nv; j++) c[r * ldc + j] = ablate_finish(tile[r * nr + j], alpha, beta, &c[r * ldc + j]);
}

/* One row's accumulators, per thread, grown as needed (never freed: the compute threads live with the process). */
static _Thread_local float *row_buffer;
static _Thread_local long row_capacity;

void ablate_gemm_scalar(int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc) {
    if (row_capacity < n) {
        float *grown = realloc(row_buffer, (size_t)n * sizeof(float));
        if (!grown) abort();
        row_buffer = grown;
        row_capacity = n;
    }
    float *acc = row_buffer;
    for (long i = 0; i < m; i++) {
        for (long j = 0; j < n; j++) acc[j] = 0.0f;
        for (long p = 0; p < k; p++) {
            const float av = transA ? a[p * lda + i] : a[i * lda + p];
            if (transB) {
                for (long j = 0; j < n; j++) acc[j] = fmaf(av, b[j * ldb + p], acc[j]);
            } else {
                const float *brow = b + p * ldb;
                for (long j = 0; j < n; j++) acc[j] = fmaf(av, brow[j], acc[j]);
            }
        }
        for (long j = 0; j < n; j++) c[i * ldc + j] = ablate_finish(acc[j], alpha, beta, &c[i * ldc + j]);
    }
}
