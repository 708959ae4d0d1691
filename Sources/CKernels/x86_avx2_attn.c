// Attention kernels on 256-bit vectors (AVX2 + FMA + F16C); see x86_attn_impl.h.
#if defined(__x86_64__) || defined(_M_X64)
#define LZ_FN __attribute__((target("avx2,fma,f16c")))
#define LZ_SUF(name) name##_avx2
#define LZ_W 8
#include "x86_attn_impl.h"

void lz_install_attn_avx2(struct lz_kernels *k) {
    k->attn_partial = attn_partial_avx2;
    k->attn_softmax_tile = attn_softmax_tile_avx2;
    k->exp_f32 = exp_f32_avx2;
}
#endif
