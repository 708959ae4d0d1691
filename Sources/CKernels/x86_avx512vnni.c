// AVX-512 VNNI level: the dot kernels of x86_dot_impl.h with vpdpbusd / vpdpwssd (VNNI on 256-bit
// vectors via AVX-512 VL) in place of maddubs + madd.
#if defined(__x86_64__) || defined(_M_X64)
#include "loza_kernels.h"
#include "simd.h"

#define LZ_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define LZ_SUF(name) name##_avx512vnni
#define LZ_AVX512 1
#define LZ_VNNI 1
#include "x86_dot_impl.h"

void lz_install_gemm_vnni(struct lz_kernels *k);  // x86_gemm_vnni.c

void lz_install_avx512vnni(struct lz_kernels *k) {
    install_dot_avx512vnni(k);
    lz_install_gemm_vnni(k);
}
#endif
