/* COpenBLAS: OpenBLAS's CBLAS interface and its runtime controls (thread count, kernel name), plus a CPU probe. */
#ifndef ABLATE_COPENBLAS_SHIM_H
#define ABLATE_COPENBLAS_SHIM_H
#include <cblas.h>

#if defined(__x86_64__)
#include <cpuid.h>
/* 1 when the CPU has AVX-512 F, DQ, BW and VL (what OpenBLAS's SkylakeX kernels use) and the OS saves the
   AVX-512 register state (XCR0 bits 1, 2, 5, 6, 7); 0 otherwise. */
static inline int ablate_cpu_has_avx512(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & (1u << 27))) return 0; /* OSXSAVE */
    unsigned int xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 0xE6u) != 0xE6u) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int f = 1u << 16, dq = 1u << 17, bw = 1u << 30, vl = 1u << 31;
    return (ebx & f) && (ebx & dq) && (ebx & bw) && (ebx & vl);
}
/* 1 when the CPU has AVX and the OS saves the AVX register state (XCR0 bits 1 and 2): what OpenBLAS's
   Sandybridge kernels use. */
static inline int ablate_cpu_has_avx(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (!(ecx & (1u << 27)) || !(ecx & (1u << 28))) return 0; /* OSXSAVE, AVX */
    unsigned int xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    return (xcr0_lo & 0x6u) == 0x6u;
}
#else
static inline int ablate_cpu_has_avx512(void) { return 0; }
static inline int ablate_cpu_has_avx(void) { return 0; }
#endif

#endif
