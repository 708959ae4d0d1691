// Quantized GEMM panel kernel, AVX-512 VNNI on 256-bit vectors: 16 weight rows (two groups of 8, one
// row per int32 lane) x up to 4 tokens at a time. Each 4-byte step of a sub-block is one vpdpbusd per
// (group, token) with the token's 4 activation bytes broadcast; per sub-block the exact int32 sums are
// scaled into f32 accumulators with the operations of panel_ref in gemm_ref.c (same bits).
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>
#include "gemm.h"
#include "simd.h"

#define LZ_FN __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define LZ_INL static inline __attribute__((always_inline))

LZ_FN LZ_INL void tile(const int NT, const int BW, const int MIN, const uint8_t *panel, int off, int64_t n,
                       const uint8_t *a0, size_t astride, float *y, int64_t ldy, int nrows) {
    const int64_t nbw = n / BW, steps = BW / 4;
    const float *psc = (const float *)(panel + 16 * n), *pmn = psc + 16 * nbw;
    const int8_t *aq[4];
    const float *ad[4], *ads[4];
    const int32_t *as16[4];
    for (int t = 0; t < NT; t++) {
        const uint8_t *a = a0 + (size_t)t * astride;
        aq[t] = (const int8_t *)a;
        ad[t] = lz_act_d(a, n);
        ads[t] = lz_act_dsum(a, n);
        as16[t] = lz_act_sum16(a, n);
    }
    __m256 f0[4], f1[4];
    for (int t = 0; t < NT; t++) f0[t] = f1[t] = _mm256_setzero_ps();
    const uint8_t *wq = panel;
    for (int64_t b = 0; b < nbw; b++) {
        __m256i i0[4], i1[4];
        for (int t = 0; t < NT; t++) {
            const int32_t s = BW == 32 ? as16[t][2 * b] + as16[t][2 * b + 1] : as16[t][b];
            i0[t] = i1[t] = _mm256_set1_epi32(-off * s);
        }
        const int8_t *ab = NULL;
        (void)ab;
        for (int64_t st = 0; st < steps; st++) {
            const __m256i w0 = _mm256_load_si256((const __m256i *)(wq + 32 * st));
            const __m256i w1 = _mm256_load_si256((const __m256i *)(wq + 32 * (steps + st)));
            for (int t = 0; t < NT; t++) {
                int32_t v;
                memcpy(&v, aq[t] + b * BW + 4 * st, 4);
                const __m256i av = _mm256_set1_epi32(v);
                i0[t] = _mm256_dpbusd_epi32(i0[t], w0, av);
                i1[t] = _mm256_dpbusd_epi32(i1[t], w1, av);
            }
        }
        wq += 64 * steps;
        const __m256 s0 = _mm256_loadu_ps(psc + 16 * b), s1 = _mm256_loadu_ps(psc + 16 * b + 8);
        for (int t = 0; t < NT; t++) {
            const __m256 da = _mm256_set1_ps(ad[t][(b * BW) / 32]);
            f0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0[t]), _mm256_mul_ps(s0, da), f0[t]);
            f1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1[t]), _mm256_mul_ps(s1, da), f1[t]);
        }
        if (MIN) {
            const __m256 m0 = _mm256_loadu_ps(pmn + 16 * b), m1 = _mm256_loadu_ps(pmn + 16 * b + 8);
            for (int t = 0; t < NT; t++) {
                const __m256 ds = _mm256_set1_ps(ads[t][b]);
                f0[t] = _mm256_fnmadd_ps(m0, ds, f0[t]);
                f1[t] = _mm256_fnmadd_ps(m1, ds, f1[t]);
            }
        }
    }
    for (int t = 0; t < NT; t++) {
        float *yt = y + t * ldy;
        if (nrows == 16) {
            _mm256_storeu_ps(yt, f0[t]);
            _mm256_storeu_ps(yt + 8, f1[t]);
        } else {
            float tmp[16];
            _mm256_storeu_ps(tmp, f0[t]);
            _mm256_storeu_ps(tmp + 8, f1[t]);
            memcpy(yt, tmp, sizeof(float) * (size_t)nrows);
        }
    }
}

#define LZ_PANEL(NAME, BW, MIN)                                                                            \
    LZ_FN static void NAME(const uint8_t *panel, int off, int64_t n, const uint8_t *act, size_t astride,    \
                           int64_t ntok, float *y, int64_t ldy, int nrows) {                                \
        int64_t t = 0;                                                                                     \
        for (; t + 4 <= ntok; t += 4)                                                                      \
            tile(4, BW, MIN, panel, off, n, act + (size_t)t * astride, astride, y + t * ldy, ldy, nrows);   \
        switch (ntok - t) {                                                                                \
        case 3: tile(3, BW, MIN, panel, off, n, act + (size_t)t * astride, astride, y + t * ldy, ldy, nrows); break; \
        case 2: tile(2, BW, MIN, panel, off, n, act + (size_t)t * astride, astride, y + t * ldy, ldy, nrows); break; \
        case 1: tile(1, BW, MIN, panel, off, n, act + (size_t)t * astride, astride, y + t * ldy, ldy, nrows); break; \
        default: break;                                                                                    \
        }                                                                                                  \
    }

LZ_PANEL(panel_32, 32, 0)
LZ_PANEL(panel_32m, 32, 1)
LZ_PANEL(panel_16, 16, 0)

LZ_FN static void gemm_panel_vnni(const void *panel, int bw, int has_min, int off, int64_t n, const void *act,
                                  size_t act_stride, int64_t ntok, float *y, int64_t ldy, int nrows) {
    if (bw == 16 && !has_min) panel_16(panel, off, n, act, act_stride, ntok, y, ldy, nrows);
    else if (has_min) panel_32m(panel, off, n, act, act_stride, ntok, y, ldy, nrows);
    else panel_32(panel, off, n, act, act_stride, ntok, y, ldy, nrows);
}

void lz_install_gemm_vnni(struct lz_kernels *k) { k->gemm_panel = gemm_panel_vnni; }
#endif
