/* cpu.c: which kernel paths the CPU and OS support (cpuid and XCR0), and the public entry point that picks one. */
#include "ablate_kernels.h"
#include "gemm_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* XCR0, or 0 when the OS does not enable XSAVE (cpuid leaf 1 ECX bit 27, OSXSAVE). */
static unsigned int xcr0_low(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & (1u << 27))) return 0;
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return lo;
}

/* AVX-512F (leaf 7 EBX bit 16) with the OS saving SSE, AVX and the AVX-512 state (XCR0 bits 1, 2, 5, 6, 7). */
int ablate_cpu_has_avx512f(void) {
    unsigned int eax, ebx, ecx, edx;
    if ((xcr0_low() & 0xE6u) != 0xE6u) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & (1u << 16)) != 0;
}

/* AVX (leaf 1 ECX bit 28), FMA (leaf 1 ECX bit 12) and AVX2 (leaf 7 EBX bit 5), with XCR0 bits 1 and 2. */
int ablate_cpu_has_avx2_fma(void) {
    unsigned int eax, ebx, ecx, edx;
    if ((xcr0_low() & 0x6u) != 0x6u) return 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & (1u << 28)) || !(ecx & (1u << 12))) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & (1u << 5)) != 0;
}
#endif

int ablate_gemm_supported(int kernel) {
    switch (kernel) {
    case ABLATE_GEMM_SCALAR: return 1;
#if defined(__x86_64__)
    case ABLATE_GEMM_AVX2: return ablate_cpu_has_avx2_fma();
    case ABLATE_GEMM_AVX512: return ablate_cpu_has_avx512f() && ablate_cpu_has_avx2_fma();
#endif
    default: return 0;
    }
}

void ablate_sgemm(int kernel, int transA, int transB, long m, long n, long k, float alpha, const float *a, long lda,
                  const float *b, long ldb, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        /* No products: every accumulator stays +0; the epilogue alone. */
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] = ablate_finish(0.0f, alpha, beta, &c[i * ldc + j]);
        return;
    }
#if defined(__x86_64__)
    /* The probe is cheap but not free: cache it (benign race, every thread computes the same value). */
    static int supported[3] = {-1, -1, -1};
    if (kernel == ABLATE_GEMM_AVX512 || kernel == ABLATE_GEMM_AVX2) {
        int known = __atomic_load_n(&supported[kernel], __ATOMIC_RELAXED);
        if (known < 0) {
            known = ablate_gemm_supported(kernel);
            __atomic_store_n(&supported[kernel], known, __ATOMIC_RELAXED);
        }
        if (known && kernel == ABLATE_GEMM_AVX512) {
            ablate_gemm_blocked(ablate_micro_avx512, 8, 32, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c,
                                ldc);
            return;
        }
        if (known && kernel == ABLATE_GEMM_AVX2) {
            ablate_gemm_blocked(ablate_micro_avx2, 6, 16, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c,
                                ldc);
            return;
        }
    }
#endif
    ablate_gemm_scalar(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
