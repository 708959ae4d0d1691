// AVX2 (+FMA, F16C) activation quantizers (Q8_0, Q8_1, Q8_K) and row dequantizers (every quantized
// weight type, F16, BF16). Both reproduce the scalar references bit for bit (same float operations
// in the same order, roundf / lrintf rounding, RNE float->half), so every ISA level feeds the dot
// products identical integer activations and prefill sees identical weights.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include "blocks.h"
#include "simd.h"

#define LZ_FN __attribute__((target("avx2,fma,f16c")))
#define LZ_INL static inline __attribute__((always_inline))

LZ_FN LZ_INL float hmax_ps(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

LZ_FN LZ_INL int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

LZ_FN LZ_INL __m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// roundf: nearest, halfway cases away from zero (a - trunc(a) is exact).
LZ_FN LZ_INL __m256i roundf_epi32(__m256 v) {
    const __m256 a = abs_ps(v);
    const __m256 t = _mm256_round_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 up = _mm256_cmp_ps(_mm256_sub_ps(a, t), _mm256_set1_ps(0.5f), _CMP_GE_OQ);
    const __m256 r = _mm256_add_ps(t, _mm256_and_ps(up, _mm256_set1_ps(1.0f)));
    const __m256 s = _mm256_or_ps(r, _mm256_and_ps(v, _mm256_set1_ps(-0.0f)));
    return _mm256_cvttps_epi32(s);
}

// Four vectors of 8 int32 in [-128, 127] -> 32 int8 in order.
LZ_FN LZ_INL __m256i pack32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

LZ_FN LZ_INL uint16_t f2h(float f) { return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT); }

// Quantize 32 floats the way Q8_0 / Q8_1 do; returns d, stores qs, sum of the quants in *sum.
LZ_FN LZ_INL float q8_32(const float *x, int8_t *qs, int32_t *sum) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int k = 0; k < 4; k++) {
        v[k] = _mm256_loadu_ps(x + 8 * k);
        amax = _mm256_max_ps(amax, abs_ps(v[k]));
    }
    const float d = hmax_ps(amax) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i q[4];
    for (int k = 0; k < 4; k++) q[k] = roundf_epi32(_mm256_mul_ps(v[k], vid));
    _mm256_storeu_si256((__m256i *)qs, pack32(q[0], q[1], q[2], q[3]));
    if (sum) *sum = hsum_epi32(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    return d;
}

LZ_FN static void quant_q8_0_avx2(const float *x, void *dst, int64_t n) {
    block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / QK8_0; i++) y[i].d = f2h(q8_32(x + QK8_0 * i, y[i].qs, NULL));
}

LZ_FN static void quant_q8_1_avx2(const float *x, void *dst, int64_t n) {
    block_q8_1 *y = dst;
    for (int64_t i = 0; i < n / QK8_1; i++) {
        int32_t sum;
        const float d = q8_32(x + QK8_1 * i, y[i].qs, &sum);
        y[i].d = f2h(d);
        y[i].s = f2h((float)sum * d);
    }
}

LZ_FN static void quant_q8_K_avx2(const float *x, void *dst, int64_t n) {
    block_q8_K *y = dst;
    for (int64_t i = 0; i < n / QK_K; i++, x += QK_K) {
        __m256 amaxv = _mm256_setzero_ps();
        for (int k = 0; k < QK_K / 8; k++) amaxv = _mm256_max_ps(amaxv, abs_ps(_mm256_loadu_ps(x + 8 * k)));
        const float amax = hmax_ps(amaxv);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float max = 0.0f;  // the first element of largest magnitude, with its sign
        for (int k = 0; k < QK_K / 8; k++) {
            const __m256 eq = _mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + 8 * k)), _mm256_set1_ps(amax), _CMP_EQ_OQ);
            const int m = _mm256_movemask_ps(eq);
            if (m) { max = x[8 * k + __builtin_ctz((unsigned)m)]; break; }
        }
        const float iscale = -127.0f / max;
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        for (int g = 0; g < QK_K / 32; g++) {
            __m256i q[4];
            for (int k = 0; k < 4; k++)
                q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(vis, _mm256_loadu_ps(x + 32 * g + 8 * k))), lim);
            _mm256_storeu_si256((__m256i *)(y[i].qs + 32 * g), pack32(q[0], q[1], q[2], q[3]));
            y[i].bsums[2 * g] = (int16_t)hsum_epi32(_mm256_add_epi32(q[0], q[1]));
            y[i].bsums[2 * g + 1] = (int16_t)hsum_epi32(_mm256_add_epi32(q[2], q[3]));
        }
        y[i].d = 1.0f / iscale;
    }
}

// --- dequantization ------------------------------------------------------------------------------

// 32 int8 values * d -> 32 floats
LZ_FN LZ_INL void store_i8x32_scaled(float *y, __m256i q, __m256 d) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    _mm256_storeu_ps(y + 0, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), d));
    _mm256_storeu_ps(y + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), d));
    _mm256_storeu_ps(y + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), d));
    _mm256_storeu_ps(y + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), d));
}

LZ_FN LZ_INL __m256i nibbles32(const uint8_t *qs) {
    const __m128i t = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
}

LZ_FN LZ_INL __m256i bit4_32(const uint8_t *qh) {
    uint32_t x;
    memcpy(&x, qh, 4);
    const __m256i shuf = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
    b = _mm256_cmpeq_epi8(_mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)), _mm256_set1_epi64x(-1));
    return _mm256_and_si256(b, _mm256_set1_epi8(0x10));
}

LZ_FN static void dequant_q8_0_avx2(const void *src, float *dst, int64_t n) {
    const block_q8_0 *x = src;
    for (int64_t i = 0; i < n / QK8_0; i++)
        store_i8x32_scaled(dst + QK8_0 * i, _mm256_loadu_si256((const __m256i *)x[i].qs),
                           _mm256_set1_ps(loza_half_to_float(x[i].d)));
}

LZ_FN static void dequant_q5_0_avx2(const void *src, float *dst, int64_t n) {
    const block_q5_0 *x = src;
    for (int64_t i = 0; i < n / QK5_0; i++) {
        const __m256i q = _mm256_or_si256(nibbles32(x[i].qs), bit4_32(x[i].qh));
        store_i8x32_scaled(dst + QK5_0 * i, _mm256_sub_epi8(q, _mm256_set1_epi8(16)),
                           _mm256_set1_ps(loza_half_to_float(x[i].d)));
    }
}

LZ_FN static void dequant_q4_0_avx2(const void *src, float *dst, int64_t n) {
    const block_q4_0 *x = src;
    for (int64_t i = 0; i < n / QK4_0; i++)
        store_i8x32_scaled(dst + QK4_0 * i, _mm256_sub_epi8(nibbles32(x[i].qs), _mm256_set1_epi8(8)),
                           _mm256_set1_ps(loza_half_to_float(x[i].d)));
}

// q * d + m for 32 unsigned q (rounded twice, as the reference: no fma)
LZ_FN LZ_INL void store_u8x32_affine(float *y, __m256i q, __m256 d, __m256 m) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i part[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int k = 0; k < 4; k++) {
        const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part[k]));
        _mm256_storeu_ps(y + 8 * k, _mm256_add_ps(_mm256_mul_ps(f, d), m));
    }
}

LZ_FN static void dequant_q4_1_avx2(const void *src, float *dst, int64_t n) {
    const block_q4_1 *x = src;
    for (int64_t i = 0; i < n / QK4_1; i++)
        store_u8x32_affine(dst + QK4_1 * i, nibbles32(x[i].qs), _mm256_set1_ps(loza_half_to_float(x[i].d)),
                           _mm256_set1_ps(loza_half_to_float(x[i].m)));
}

LZ_FN static void dequant_q5_1_avx2(const void *src, float *dst, int64_t n) {
    const block_q5_1 *x = src;
    for (int64_t i = 0; i < n / QK5_1; i++)
        store_u8x32_affine(dst + QK5_1 * i, _mm256_or_si256(nibbles32(x[i].qs), bit4_32(x[i].qh)),
                           _mm256_set1_ps(loza_half_to_float(x[i].d)), _mm256_set1_ps(loza_half_to_float(x[i].m)));
}

// Q4_K and Q5_K (HIGHBITS: the fifth bit of each element from qh, bit 2c / 2c+1 of chunk c).
LZ_FN LZ_INL void dequant_k45(const uint8_t *scales, uint16_t hd, uint16_t hdmin, const uint8_t *qs,
                              const uint8_t *qh, float *y) {
    const float d = loza_half_to_float(hd), dmin = loza_half_to_float(hdmin);
    const __m256i m4 = _mm256_set1_epi8(0x0F), b10 = _mm256_set1_epi8(0x10);
    __m256i hb = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i half[2] = {_mm256_and_si256(q, m4), _mm256_and_si256(_mm256_srli_epi16(q, 4), m4)};
        if (qh) {
            half[0] = _mm256_or_si256(half[0], _mm256_and_si256(_mm256_slli_epi16(hb, 4), b10));
            half[1] = _mm256_or_si256(half[1], _mm256_and_si256(_mm256_slli_epi16(hb, 3), b10));
            hb = _mm256_srli_epi16(hb, 2);
        }
        for (int s = 0; s < 2; s++) {
            uint8_t sc, m;
            loza_get_scale_min_k4(2 * c + s, scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            // d1 * q - m1 (the reference's order): negate m1 exactly and add
            store_u8x32_affine(y + 64 * c + 32 * s, half[s], _mm256_set1_ps(d1), _mm256_set1_ps(-m1));
        }
    }
}

LZ_FN static void dequant_q4_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q4_K *x = src;
    for (int64_t i = 0; i < n / QK_K; i++) dequant_k45(x[i].scales, x[i].d, x[i].dmin, x[i].qs, NULL, dst + QK_K * i);
}

LZ_FN static void dequant_q5_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q5_K *x = src;
    for (int64_t i = 0; i < n / QK_K; i++) dequant_k45(x[i].scales, x[i].d, x[i].dmin, x[i].qs, x[i].qh, dst + QK_K * i);
}

LZ_FN static void dequant_q6_K_avx2(const void *src, float *dst, int64_t n) {
    const block_q6_K *x = src;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03), m32 = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const float d = loza_half_to_float(x[i].d);
        for (int h = 0; h < 2; h++) {
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * h));
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m3), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), m3), 4)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), m3), 4)),
            };
            for (int g = 0; g < 4; g++) {
                const __m256i v = _mm256_sub_epi8(q[g], m32);
                const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
                const __m128i part[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
                float *y = dst + QK_K * i + 128 * h + 32 * g;
                for (int k = 0; k < 4; k++) {  // 8 elements; sub-block of 16 = (k / 2)
                    const float ds = d * (float)x[i].scales[8 * h + 2 * g + k / 2];
                    const __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part[k]));
                    _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_set1_ps(ds), f));
                }
            }
        }
    }
}

LZ_FN static void dequant_f16_avx2(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) dst[i] = loza_half_to_float(h[i]);
}

LZ_FN static void dequant_bf16_avx2(const void *src, float *dst, int64_t n) {
    const uint16_t *h = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(h + i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; i++) dst[i] = loza_bf16_bits_to_float(h[i]);
}

void lz_install_avx2_quant(struct lz_kernels *k) {
    k->quant_act[LOZA_TYPE_Q8_0] = quant_q8_0_avx2;
    k->quant_act[LOZA_TYPE_Q8_1] = quant_q8_1_avx2;
    k->quant_act[LOZA_TYPE_Q8_K] = quant_q8_K_avx2;
    k->dequant[LOZA_TYPE_Q4_0] = dequant_q4_0_avx2;
    k->dequant[LOZA_TYPE_Q4_1] = dequant_q4_1_avx2;
    k->dequant[LOZA_TYPE_Q5_1] = dequant_q5_1_avx2;
    k->dequant[LOZA_TYPE_BF16] = dequant_bf16_avx2;
    k->dequant[LOZA_TYPE_Q5_0] = dequant_q5_0_avx2;
    k->dequant[LOZA_TYPE_Q8_0] = dequant_q8_0_avx2;
    k->dequant[LOZA_TYPE_Q4_K] = dequant_q4_K_avx2;
    k->dequant[LOZA_TYPE_Q5_K] = dequant_q5_K_avx2;
    k->dequant[LOZA_TYPE_Q6_K] = dequant_q6_K_avx2;
    k->dequant[LOZA_TYPE_F16] = dequant_f16_avx2;
}
#endif
