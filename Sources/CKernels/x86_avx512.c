// AVX-512 (F/BW/VL/DQ) level: the 256-bit dot kernels of x86_dot_impl.h compiled for AVX-512 (EVEX
// encoding, 32 vector registers). Reached only when dispatch.c has seen the OS enable ZMM state.
#if defined(__x86_64__) || defined(_M_X64)
#include "loza_kernels.h"
#include "simd.h"

#define LZ_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#define LZ_SUF(name) name##_avx512
#define LZ_AVX512 1
#define LZ_VNNI 0
#include "x86_dot_impl.h"

void lz_install_avx512(struct lz_kernels *k) { install_dot_avx512(k); }
#endif
