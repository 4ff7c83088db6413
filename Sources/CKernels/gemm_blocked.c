/* gemm_blocked.c: the vector paths' driver: packs A and B panels, blocks for the caches, runs a micro-kernel per tile. */
#include <stdlib.h>
#include <string.h>
#include "gemm_internal.h"

/* Depth of one k block: the running accumulators are stored and reloaded between blocks (never summed). */
enum { KC = 256 };
/* Rows of one A block (rounded down to a multiple of the micro-kernel's rows). */
enum { MC_TARGET = 144 };
/* Floats of packed B (the whole depth of a column block) a thread keeps at most: bounds the column block. */
enum { B_PACK_FLOATS = 1 << 20 };
/* Widest column block. */
enum { NC_MAX = 2048 };

/* A per-thread, 64-byte-aligned buffer grown as needed (never freed: the compute threads live with the process). */
typedef struct {
    float *data;
    size_t capacity;
} buffer;

static _Thread_local buffer a_pack, b_pack, workspace;

static float *reserve(buffer *buf, size_t floats) {
    if (buf->capacity < floats) {
        free(buf->data);
        size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
        buf->data = aligned_alloc(64, bytes);
        if (!buf->data) abort();
        buf->capacity = bytes / sizeof(float);
    }
    return buf->data;
}

/* Packs rows i0..i0+mc of op(A), depth p0..p0+kc, into panels of mr rows: panel q holds kc steps of mr values.
 * Rows past mc are zero. */
static void pack_a(int transA, const float *a, long lda, long i0, long mc, long p0, long kc, long mr, float *dst) {
    for (long q = 0; q < mc; q += mr) {
        const long rows = mc - q < mr ? mc - q : mr;
        if (transA) {
            for (long p = 0; p < kc; p++) {
                const float *src = a + (p0 + p) * lda + i0 + q;
                float *out = dst + p * mr;
                long r = 0;
                for (; r < rows; r++) out[r] = src[r];
                for (; r < mr; r++) out[r] = 0.0f;
            }
        } else {
#if defined(__x86_64__)
            if (rows == mr && mr == 8) {
                /* A full panel of 8 rows: 8 x 8 transposes, then the depth's remainder one by one. */
                long p = 0;
                for (; p + 8 <= kc; p += 8) ablate_transpose8x8(a + (i0 + q) * lda + p0 + p, lda, dst + p * mr, mr);
                for (; p < kc; p++)
                    for (long r = 0; r < mr; r++) dst[p * mr + r] = a[(i0 + q + r) * lda + p0 + p];
                dst += kc * mr;
                continue;
            }
#endif
            for (long r = 0; r < mr; r++) {
                if (r < rows) {
                    const float *src = a + (i0 + q + r) * lda + p0;
                    for (long p = 0; p < kc; p++) dst[p * mr + r] = src[p];
                } else {
                    for (long p = 0; p < kc; p++) dst[p * mr + r] = 0.0f;
                }
            }
        }
        dst += kc * mr;
    }
}

/* Packs columns j0..j0+nc of op(B), depth p0..p0+kc, into panels of nr columns: panel q holds kc steps of nr values.
 * Columns past nc are zero. */
static void pack_b(int transB, const float *b, long ldb, long p0, long kc, long j0, long nc, long nr, float *dst) {
    for (long q = 0; q < nc; q += nr) {
        const long cols = nc - q < nr ? nc - q : nr;
        if (transB) {
#if defined(__x86_64__)
            if (cols == nr && nr % 8 == 0) {
                /* A full panel: 8 x 8 transposes of 8 columns by 8 steps, then the depth's remainder one by one. */
                for (long j = 0; j < nr; j += 8) {
                    const float *src = b + (j0 + q + j) * ldb + p0;
                    long p = 0;
                    for (; p + 8 <= kc; p += 8) ablate_transpose8x8(src + p, ldb, dst + p * nr + j, nr);
                    for (; p < kc; p++)
                        for (long jj = 0; jj < 8; jj++) dst[p * nr + j + jj] = src[jj * ldb + p];
                }
                dst += kc * nr;
                continue;
            }
#endif
            for (long j = 0; j < nr; j++) {
                if (j < cols) {
                    const float *src = b + (j0 + q + j) * ldb + p0;
                    for (long p = 0; p < kc; p++) dst[p * nr + j] = src[p];
                } else {
                    for (long p = 0; p < kc; p++) dst[p * nr + j] = 0.0f;
                }
            }
        } else {
            for (long p = 0; p < kc; p++) {
                const float *src = b + (p0 + p) * ldb + j0 + q;
                float *out = dst + p * nr;
                if (cols == nr) {
                    memcpy(out, src, (size_t)nr * sizeof(float));
                } else {
                    long j = 0;
                    for (; j < cols; j++) out[j] = src[j];
                    for (; j < nr; j++) out[j] = 0.0f;
                }
            }
        }
        dst += kc * nr;
    }
}

void ablate_gemm_blocked(ablate_micro_kernel micro, long mr, long nr, int transA, int transB, long m, long n, long k,
                         float alpha, const float *a, long lda, const float *b, long ldb, float beta, float *c,
                         long ldc) {
    const long mc_max = (MC_TARGET / mr) * mr;
    long nc_max = B_PACK_FLOATS / k / nr * nr;
    if (nc_max < nr) nc_max = nr;
    if (nc_max > NC_MAX) nc_max = NC_MAX;
    const long kblocks = (k + KC - 1) / KC;
    for (long j0 = 0; j0 < n; j0 += nc_max) {
        const long nc = n - j0 < nc_max ? n - j0 : nc_max;
        const long nc_pad = (nc + nr - 1) / nr * nr;
        /* The whole depth of this column block, k block after k block (block p0 starts at p0 * nc_pad). */
        float *bp = reserve(&b_pack, (size_t)k * nc_pad);
        for (long p0 = 0; p0 < k; p0 += KC) {
            const long kc = k - p0 < KC ? k - p0 : KC;
            pack_b(transB, b, ldb, p0, kc, j0, nc, nr, bp + p0 * nc_pad);
        }
        for (long i0 = 0; i0 < m; i0 += mc_max) {
            const long mc = m - i0 < mc_max ? m - i0 : mc_max;
            const long mc_pad = (mc + mr - 1) / mr * mr;
            float *ap = reserve(&a_pack, (size_t)mc_pad * KC);
            float *ws = kblocks > 1 ? reserve(&workspace, (size_t)mc_pad * nc_pad) : NULL;
            for (long p0 = 0; p0 < k; p0 += KC) {
                const long kc = k - p0 < KC ? k - p0 : KC;
                const int first = p0 == 0, last = p0 + kc == k;
                pack_a(transA, a, lda, i0, mc, p0, kc, mr, ap);
                const float *bblock = bp + p0 * nc_pad;
                for (long jq = 0; jq < nc; jq += nr) {
                    const long nv = nc - jq < nr ? nc - jq : nr;
                    for (long iq = 0; iq < mc; iq += mr) {
                        const long mv = mc - iq < mr ? mc - iq : mr;
                        float *tile = ws ? ws + (iq * nc_pad + jq * mr) : NULL;
                        micro(kc, ap + iq * kc, bblock + jq * kc, tile, first, last, alpha, beta,
                              c + (i0 + iq) * ldc + j0 + jq, ldc, mv, nv);
                    }
                }
            }
        }
    }
}
