// Attention kernels on 512-bit vectors (AVX-512 F/DQ); see x86_attn_impl.h.
#if defined(__x86_64__) || defined(_M_X64)
#define LZ_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
#define LZ_SUF(name) name##_avx512
#define LZ_W 16
#include "x86_attn_impl.h"

void lz_install_attn_avx512(struct lz_kernels *k) {
    k->attn_partial = attn_partial_avx512;
    k->attn_softmax_tile = attn_softmax_tile_avx512;
    k->exp_f32 = exp_f32_avx512;
}
#endif
