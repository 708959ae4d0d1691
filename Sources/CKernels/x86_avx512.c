// AVX-512 (F/BW/VL/DQ) variants; reached only when dispatch.c has seen the OS enable ZMM state.
#if defined(__x86_64__) || defined(_M_X64)
#include "loza_kernels.h"
#include "simd.h"
#include <immintrin.h>

void lz_install_avx512(struct lz_kernels *k) {
    (void)k;  // no AVX-512 variant yet: the level inherits AVX2's
}

void lz_install_avx512vnni(struct lz_kernels *k) {
    (void)k;  // no VNNI variant yet: the level inherits AVX-512's
}
#endif
