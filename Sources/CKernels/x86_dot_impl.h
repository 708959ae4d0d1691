// Quantized dot products and matvec on 256-bit vectors, instantiated once per x86 level by the file
// that includes it. The includer defines:
//   LZ_FN        function attributes (target(...)) for every function here
//   LZ_SUF(name) the level's suffix, e.g. name##_avx2
//   LZ_AVX512    1: AVX-512 BW/VL instructions may be used (masks)
//   LZ_VNNI      1: int8 / int16 dot steps use vpdpbusd / vpdpwssd (AVX-512 VNNI + VL); 0: maddubs + madd
//
// The 32-element types run one row at a time on activations prepared once per call (see below).
// The K-quant and float types have one `rows` kernel that computes `nr` rows (1..LZ_NR) against the
// same activation blocks, loading and preparing each activation block once; the per-row arithmetic
// does not depend on nr, so vec_dot, and matvec with any row grouping, give the same bits for a row.
// LZ_NR is 1: with 2 or 4 rows at a time the kernels ran faster on cache-resident weights but much
// slower on weights streamed from memory (scripts/kernel-bench, Q4_1 4864x896 on AVX2: 20 GB/s with
// one row, 7 with two, 10.6 with four, 12.9 with four and software prefetch), and decode streams
// every weight from memory. `BENCH_CFLAGS=-DLZ_NR=4 scripts/kernel-bench Q4_K` measures it again.
//
// Per block the integer dot product is exact; it is kept in 8 int32 lanes and scaled into 8 float
// lanes (fma), summed across lanes at the end of the row. The reference instead sums each block
// to one int and accumulates in block order, so results differ from it by float rounding only.

#include <immintrin.h>
#include <string.h>
#include "blocks.h"
#include "simd.h"

#ifndef LZ_NR
#define LZ_NR 1  // rows per matvec step, see above
#endif
#define LZ_INL static inline __attribute__((always_inline))

// --- helpers ---------------------------------------------------------------------------------------

// Scales are converted as whole vectors (a half broadcast to 8 lanes, vcvtph2ps): converting one lane
// (_cvtsh_ss, or a vmovd) lets the compiler merge the half into a live register with vpinsrw, which
// chains every block on the accumulator's latency.
LZ_FN LZ_INL __m256 LZ_SUF(h2f8)(uint16_t h) { return _mm256_cvtph_ps(_mm_set1_epi16((short)h)); }
// Two adjacent halves (d, m) -> lanes 0 and 1, other lanes 0.
LZ_FN LZ_INL __m128 LZ_SUF(h2f_pair)(const uint16_t *p) {
    uint32_t u;
    memcpy(&u, p, 4);
    return _mm_cvtph_ps(_mm_set_epi32(0, 0, 0, (int)u));
}

LZ_FN LZ_INL float LZ_SUF(hsum_ps)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

LZ_FN LZ_INL int32_t LZ_SUF(hsum_epi32x4)(__m128i v) {
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}

// acc + sum over groups of 4 of u8 * s8 (u < 128 or s != -128 pairs: no int16 saturation for our data)
LZ_FN LZ_INL __m256i LZ_SUF(dot_u8s8)(__m256i acc, __m256i u, __m256i s) {
#if LZ_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    const __m256i p = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
#endif
}

// acc + sum over pairs of int16 * int16
LZ_FN LZ_INL __m256i LZ_SUF(dot_i16)(__m256i acc, __m256i a, __m256i b) {
#if LZ_VNNI
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// 16 bytes of packed nibbles -> 32 bytes: low nibbles first, then high nibbles.
LZ_FN LZ_INL __m256i LZ_SUF(nibbles32)(const uint8_t *qs) {
    const __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)qs));
    const __m256i b = _mm256_srlv_epi64(t, _mm256_setr_epi64x(0, 0, 4, 4));
    return _mm256_and_si256(b, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, 0x10 where bit j is set (the fifth bit of Q5_0 / Q5_1).
LZ_FN LZ_INL __m256i LZ_SUF(bit4_32)(const uint8_t *qh) {
    uint32_t x;
    memcpy(&x, qh, 4);
    const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                            0x0202020202020202, 0x0303030303030303);
    __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
    b = _mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    b = _mm256_cmpeq_epi8(b, _mm256_set1_epi64x(-1));
    return _mm256_and_si256(b, _mm256_set1_epi8(0x10));
}

// The 5-bit quants of Q5_0 / Q5_1 as 32 unsigned bytes. AVX-512 BW: qh is the mask of a masked add.
LZ_FN LZ_INL __m256i LZ_SUF(q5_bytes)(const uint8_t *qs, const uint8_t *qh) {
#if LZ_AVX512
    uint32_t bits;
    memcpy(&bits, qh, 4);
    const __m256i nib = LZ_SUF(nibbles32)(qs);
    return _mm256_mask_add_epi8(nib, _cvtu32_mask32(bits), nib, _mm256_set1_epi8(0x10));
#else
    return _mm256_or_si256(LZ_SUF(nibbles32)(qs), LZ_SUF(bit4_32)(qh));
#endif
}

// --- 32-element blocks against Q8_0 / Q8_1 ---------------------------------------------------------
// These kernels work one row at a time on activations prepared once per call: each block's scale
// as f32 and, for Q4_0 / Q5_0, the integer correction -off * sum(y) (their unsigned q has value
// q - off), which seeds the row's dot step; for Q8_1, (d, s) as two f32. A matvec prepares all of
// its activation blocks once (up to LZ_PREP_MAX, else row by row like vec_dot); vec_dot prepares
// LZ_CHUNK blocks at a time. Preparation gives identical values either way and the row's block
// order never changes, so matvec and vec_dot give the same bits.

#define LZ_CHUNK 64
#define LZ_PREP_MAX 4096  // blocks of 32: rows up to 131072 elements

typedef struct { float d; int32_t neg; } lz_prep_q8_0;  // scale of y, -off * sum(y)
typedef struct { float d, s; } lz_prep_q8_1;            // scale of y, its s

static inline void lz_prep_q8_0_blocks(const block_q8_0 *y, int64_t nb, int off, lz_prep_q8_0 *p) {
    for (int64_t i = 0; i < nb; i++) {
        int32_t sum = 0;
        for (int j = 0; j < QK8_0; j++) sum += y[i].qs[j];
        p[i].d = loza_half_to_float(y[i].d);
        p[i].neg = -off * sum;
    }
}

static inline void lz_prep_q8_1_blocks(const block_q8_1 *y, int64_t nb, int off, lz_prep_q8_1 *p) {
    (void)off;
    for (int64_t i = 0; i < nb; i++) {
        p[i].d = loza_half_to_float(y[i].d);
        p[i].s = loza_half_to_float(y[i].s);
    }
}

// acc (lanes) += d * dy * (q.y - off * sum(y)) over blocks [0, nb); Q4_0 / Q5_0.
#define LZ_STEP_OFFSET(NAME, BLOCK, LOADQ)                                                             \
    LZ_FN LZ_INL void LZ_SUF(NAME##_step)(const BLOCK *x, const block_q8_0 *y, const lz_prep_q8_0 *p,   \
                                          int64_t nb, __m256 *acc, __m128 *macc) {                     \
        (void)macc;                                                                                    \
        for (int64_t i = 0; i < nb; i++) {                                                             \
            const __m256i seed = _mm256_zextsi128_si256(_mm_cvtsi32_si128(p[i].neg));                 \
            const __m256i yq = _mm256_loadu_si256((const __m256i *)y[i].qs);                           \
            const __m256i sumi = LZ_SUF(dot_u8s8)(seed, LOADQ(&x[i]), yq);                             \
            const __m256 d = _mm256_mul_ps(LZ_SUF(h2f8)(x[i].d), _mm256_set1_ps(p[i].d));             \
            *acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), *acc);                                 \
        }                                                                                              \
    }

#define LZ_LOADQ_Q4_0(x) LZ_SUF(nibbles32)((x)->qs)
#define LZ_LOADQ_Q5_0(x) LZ_SUF(q5_bytes)((x)->qs, (x)->qh)
LZ_STEP_OFFSET(q4_0, block_q4_0, LZ_LOADQ_Q4_0)
LZ_STEP_OFFSET(q5_0, block_q5_0, LZ_LOADQ_Q5_0)

// Q8_0 . Q8_0: signed x signed via |x| and sign(y, x).
LZ_FN LZ_INL void LZ_SUF(q8_0_step)(const block_q8_0 *x, const block_q8_0 *y, const lz_prep_q8_0 *p,
                                    int64_t nb, __m256 *acc, __m128 *macc) {
    (void)macc;
    for (int64_t i = 0; i < nb; i++) {
        const __m256i xq = _mm256_loadu_si256((const __m256i *)x[i].qs);
        const __m256i yq = _mm256_loadu_si256((const __m256i *)y[i].qs);
        const __m256i sumi = LZ_SUF(dot_u8s8)(_mm256_setzero_si256(), _mm256_abs_epi8(xq),
                                              _mm256_sign_epi8(yq, xq));
        const __m256 d = _mm256_mul_ps(LZ_SUF(h2f8)(x[i].d), _mm256_set1_ps(p[i].d));
        *acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), *acc);
    }
}

// Q4_1 / Q5_1 . Q8_1: acc += d * dy * (q.y); macc lane 1 += m * s (in block order).
#define LZ_STEP_MIN(NAME, BLOCK, LOADQ)                                                                \
    LZ_FN LZ_INL void LZ_SUF(NAME##_step)(const BLOCK *x, const block_q8_1 *y, const lz_prep_q8_1 *p,   \
                                          int64_t nb, __m256 *acc, __m128 *macc) {                     \
        for (int64_t i = 0; i < nb; i++) {                                                             \
            const __m256i yq = _mm256_loadu_si256((const __m256i *)y[i].qs);                           \
            const __m256i sumi = LZ_SUF(dot_u8s8)(_mm256_setzero_si256(), LOADQ(&x[i]), yq);           \
            const __m128 ds = _mm_castpd_ps(_mm_load_sd((const double *)&p[i]));                       \
            const __m128 pr = _mm_mul_ps(LZ_SUF(h2f_pair)(&x[i].d), ds); /* (d*dy, m*s) */             \
            *acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(pr), _mm256_cvtepi32_ps(sumi), *acc);         \
            *macc = _mm_add_ps(*macc, pr);                                                             \
        }                                                                                              \
    }

#define LZ_LOADQ_Q4_1(x) LZ_SUF(nibbles32)((x)->qs)
#define LZ_LOADQ_Q5_1(x) LZ_SUF(q5_bytes)((x)->qs, (x)->qh)
LZ_STEP_MIN(q4_1, block_q4_1, LZ_LOADQ_Q4_1)
LZ_STEP_MIN(q5_1, block_q5_1, LZ_LOADQ_Q5_1)

// vec_dot and matvec of a 32-element type from its step kernel and activation preparation.
#define LZ_ENTRY32(NAME, BLOCK, ACT, OFF)                                                              \
    LZ_FN static float LZ_SUF(vec_dot_##NAME)(const void *row, const void *act, int64_t n) {          \
        const BLOCK *x = row;                                                                          \
        const block_##ACT *y = act;                                                                    \
        const int64_t nb = n / 32;                                                                     \
        lz_prep_##ACT p[LZ_CHUNK];                                                                     \
        __m256 acc = _mm256_setzero_ps();                                                              \
        __m128 macc = _mm_setzero_ps();                                                                \
        for (int64_t i0 = 0; i0 < nb; i0 += LZ_CHUNK) {                                               \
            const int64_t m = nb - i0 < LZ_CHUNK ? nb - i0 : LZ_CHUNK;                                 \
            lz_prep_##ACT##_blocks(y + i0, m, OFF, p);                                                 \
            LZ_SUF(NAME##_step)(x + i0, y + i0, p, m, &acc, &macc);                                    \
        }                                                                                              \
        return LZ_SUF(hsum_ps)(acc) + _mm_cvtss_f32(_mm_movehdup_ps(macc));                            \
    }                                                                                                  \
    LZ_FN static void LZ_SUF(matvec_##NAME)(const void *w, size_t stride, const void *act, float *out, \
                                            int64_t nrows, int64_t n) {                                \
        const int64_t nb = n / 32;                                                                     \
        if (nb > LZ_PREP_MAX) {                                                                        \
            for (int64_t r = 0; r < nrows; r++)                                                        \
                out[r] = LZ_SUF(vec_dot_##NAME)((const uint8_t *)w + (size_t)r * stride, act, n);      \
            return;                                                                                    \
        }                                                                                              \
        const block_##ACT *y = act;                                                                    \
        lz_prep_##ACT p[LZ_PREP_MAX];                                                                  \
        lz_prep_##ACT##_blocks(y, nb, OFF, p);                                                         \
        for (int64_t r = 0; r < nrows; r++) {                                                          \
            const BLOCK *x = (const BLOCK *)((const uint8_t *)w + (size_t)r * stride);                 \
            __m256 acc = _mm256_setzero_ps();                                                          \
            __m128 macc = _mm_setzero_ps();                                                            \
            LZ_SUF(NAME##_step)(x, y, p, nb, &acc, &macc);                                             \
            out[r] = LZ_SUF(hsum_ps)(acc) + _mm_cvtss_f32(_mm_movehdup_ps(macc));                      \
        }                                                                                              \
    }

LZ_ENTRY32(q4_0, block_q4_0, q8_0, 8)
LZ_ENTRY32(q5_0, block_q5_0, q8_0, 16)
LZ_ENTRY32(q8_0, block_q8_0, q8_0, 0)
LZ_ENTRY32(q4_1, block_q4_1, q8_1, 0)
LZ_ENTRY32(q5_1, block_q5_1, q8_1, 0)

// --- K-quants against Q8_K -------------------------------------------------------------------------

// Unpack the 12 scale bytes of Q4_K / Q5_K into 8 scales (bytes 0-7) and 8 mins (bytes 8-15).
LZ_FN LZ_INL __m128i LZ_SUF(k4_scales_mins)(const uint8_t *scales) {
    uint32_t u[4];
    memcpy(u, scales, 12);
    const uint32_t m1 = 0x3f3f3f3f, m2 = 0x0f0f0f0f, m3 = 0x03030303;
    u[3] = ((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4);
    const uint32_t mins_lo = u[1] & m1;
    u[1] = (u[2] & m2) | (((u[0] >> 6) & m3) << 4);
    u[2] = mins_lo;
    u[0] &= m1;
    return _mm_loadu_si128((const __m128i *)u);
}

// Broadcast int16 lane j (0..7) of a 128-bit vector to all 16 lanes of a 256-bit one.
LZ_FN LZ_INL __m256i LZ_SUF(bcast16)(__m256i s16x2, int j) {
    const __m256i idx = _mm256_set1_epi16((short)((2 * j) | ((2 * j + 1) << 8)));
    return _mm256_shuffle_epi8(s16x2, idx);
}

// sum_j mins[j] * (bsums[2j] + bsums[2j+1]) for the 8 sub-block mins (u8, low 8 bytes of `mins`)
// given the 8 pair sums of bsums as int16 (`bpair`).
LZ_FN LZ_INL int32_t LZ_SUF(k4_summ)(__m128i mins_u8, __m128i bpair) {
    return LZ_SUF(hsum_epi32x4)(_mm_madd_epi16(_mm_cvtepu8_epi16(mins_u8), bpair));
}

// Q4_K and Q5_K share everything but the fifth bit: HIGHBITS=0 for Q4_K.
#define LZ_ROWS_K45(NAME, BLOCK, HIGHBITS)                                                            \
    LZ_FN LZ_INL void LZ_SUF(NAME##_rows)(const int nr, const uint8_t *w, size_t stride,              \
                                         const block_q8_K *y, int64_t nb, float *out) {              \
        __m256 acc[LZ_NR];                                                                            \
        float macc[LZ_NR];                                                                            \
        for (int r = 0; r < nr; r++) { acc[r] = _mm256_setzero_ps(); macc[r] = 0.0f; }                \
        const __m256i m4 = _mm256_set1_epi8(0x0F);                                                   \
        for (int64_t i = 0; i < nb; i++) {                                                            \
            const int8_t *a = y[i].qs;                                                                \
            const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);                       \
            const __m256i bp32 = _mm256_madd_epi16(bs, _mm256_set1_epi16(1));                         \
            const __m128i bpair = _mm_packs_epi32(_mm256_castsi256_si128(bp32),                       \
                                                  _mm256_extracti128_si256(bp32, 1));                 \
            __m256i ya[8];                                                                            \
            for (int k = 0; k < 8; k++) ya[k] = _mm256_loadu_si256((const __m256i *)(a + 32 * k));    \
            for (int r = 0; r < nr; r++) {                                                            \
                const BLOCK *x = (const BLOCK *)(w + (size_t)r * stride) + i;                         \
                const __m128i sm = LZ_SUF(k4_scales_mins)(x->scales);                                 \
                const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));              \
                const int32_t summ = LZ_SUF(k4_summ)(_mm_unpackhi_epi64(sm, sm), bpair);              \
                __m256i hb = HIGHBITS ? _mm256_loadu_si256((const __m256i *)((const uint8_t *)x +     \
                                                            offsetof(block_q5_K, qh)))                \
                                      : _mm256_setzero_si256();                                       \
                const uint8_t *qs = (const uint8_t *)x + (HIGHBITS ? offsetof(block_q5_K, qs)         \
                                                                   : offsetof(block_q4_K, qs));       \
                __m256i sumi = _mm256_setzero_si256();                                                \
                for (int c = 0; c < 4; c++) {                                                         \
                    const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));             \
                    __m256i lo = _mm256_and_si256(q, m4);                                             \
                    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);                       \
                    if (HIGHBITS) {                                                                   \
                        const __m256i b10 = _mm256_set1_epi8(0x10);                                   \
                        lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(hb, 4), b10));    \
                        hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(hb, 3), b10));    \
                        hb = _mm256_srli_epi16(hb, 2);                                                \
                    }                                                                                 \
                    const __m256i plo = _mm256_maddubs_epi16(lo, ya[2 * c]);                          \
                    const __m256i phi = _mm256_maddubs_epi16(hi, ya[2 * c + 1]);                      \
                    sumi = LZ_SUF(dot_i16)(sumi, plo, LZ_SUF(bcast16)(sc16, 2 * c));                  \
                    sumi = LZ_SUF(dot_i16)(sumi, phi, LZ_SUF(bcast16)(sc16, 2 * c + 1));              \
                }                                                                                     \
                /* (d * yd, dmin * yd) */                                                             \
                const __m128 dd = _mm_mul_ps(LZ_SUF(h2f_pair)(&x->d), _mm_set1_ps(y[i].d));           \
                acc[r] = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(sumi), acc[r]);\
                const float mterm = _mm_cvtss_f32(_mm_movehdup_ps(dd)) * (float)summ;                 \
                macc[r] += mterm;                                                                     \
            }                                                                                         \
        }                                                                                             \
        for (int r = 0; r < nr; r++) out[r] = LZ_SUF(hsum_ps)(acc[r]) - macc[r];                      \
    }

LZ_ROWS_K45(q4_K, block_q4_K, 0)
LZ_ROWS_K45(q5_K, block_q5_K, 1)

// Q6_K: q in 0..63 with value q - 32: sumi = sum_k sc_k * (q.y)_k - 32 * sum_k sc_k * bsums_k.
LZ_FN LZ_INL void LZ_SUF(q6_K_rows)(const int nr, const uint8_t *w, size_t stride,
                                    const block_q8_K *y, int64_t nb, float *out) {
    __m256 acc[LZ_NR];
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03);
    const __m256i mC = _mm256_set1_epi8(0x0C), m30 = _mm256_set1_epi8(0x30);
    const __m256i mC0 = _mm256_set1_epi8((char)0xC0);
    // lane 0 of the shuffle picks int16 2g, lane 1 picks 2g+1 (of the half's 8 scales, broadcast).
    for (int64_t i = 0; i < nb; i++) {
        const int8_t *a = y[i].qs;
        const __m256i bs = _mm256_loadu_si256((const __m256i *)y[i].bsums);
        __m256i ya[8];
        for (int k = 0; k < 8; k++) ya[k] = _mm256_loadu_si256((const __m256i *)(a + 32 * k));
        for (int r = 0; r < nr; r++) {
            const block_q6_K *x = (const block_q6_K *)(w + (size_t)r * stride) + i;
            const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
            __m256i sumi = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
            sumi = _mm256_sub_epi32(_mm256_setzero_si256(), sumi);
            for (int h = 0; h < 2; h++) {
                const __m256i half = h ? _mm256_permute2x128_si256(sc16, sc16, 0x11)
                                       : _mm256_permute2x128_si256(sc16, sc16, 0x00);
                const __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h));
                const __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32));
                const __m256i qh = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
                const __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                                   _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4));
                const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                                   _mm256_slli_epi16(_mm256_and_si256(qh, mC), 2));
                const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                                   _mm256_and_si256(qh, m30));
                const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                   _mm256_srli_epi16(_mm256_and_si256(qh, mC0), 2));
                const __m256i qq[4] = {q0, q1, q2, q3};
                for (int g = 0; g < 4; g++) {
                    const __m256i p = _mm256_maddubs_epi16(qq[g], ya[4 * h + g]);
                    const __m256i idx = _mm256_setr_epi8(
                        (char)(4 * g), (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1), (char)(4 * g),
                        (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1),
                        (char)(4 * g), (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1), (char)(4 * g),
                        (char)(4 * g + 1), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                        (char)(4 * g + 3), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                        (char)(4 * g + 3), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                        (char)(4 * g + 3), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                        (char)(4 * g + 3));
                    sumi = LZ_SUF(dot_i16)(sumi, p, _mm256_shuffle_epi8(half, idx));
                }
            }
            const __m256 d = _mm256_mul_ps(LZ_SUF(h2f8)(x->d), _mm256_set1_ps(y[i].d));
            acc[r] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc[r]);
        }
    }
    for (int r = 0; r < nr; r++) out[r] = LZ_SUF(hsum_ps)(acc[r]);
}

// --- float rows against f32 activations --------------------------------------------------------------

LZ_FN LZ_INL __m256 LZ_SUF(load_f16)(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
LZ_FN LZ_INL __m256 LZ_SUF(load_bf16)(const uint16_t *p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}
LZ_FN LZ_INL __m256 LZ_SUF(load_f32)(const float *p) { return _mm256_loadu_ps(p); }

#define LZ_ROWS_FLOAT(NAME, ELEM, LOAD, SCALAR)                                                       \
    LZ_FN LZ_INL void LZ_SUF(NAME##_rows)(const int nr, const uint8_t *w, size_t stride,              \
                                         const float *y, int64_t n, float *out) {                    \
        __m256 acc[LZ_NR][2];                                                                         \
        for (int r = 0; r < nr; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();                     \
        int64_t i = 0;                                                                                \
        for (; i + 16 <= n; i += 16) {                                                                \
            const __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);                \
            for (int r = 0; r < nr; r++) {                                                            \
                const ELEM *x = (const ELEM *)(w + (size_t)r * stride);                               \
                acc[r][0] = _mm256_fmadd_ps(LOAD(x + i), y0, acc[r][0]);                              \
                acc[r][1] = _mm256_fmadd_ps(LOAD(x + i + 8), y1, acc[r][1]);                          \
            }                                                                                         \
        }                                                                                             \
        for (int r = 0; r < nr; r++) {                                                                \
            const ELEM *x = (const ELEM *)(w + (size_t)r * stride);                                   \
            float s = LZ_SUF(hsum_ps)(_mm256_add_ps(acc[r][0], acc[r][1]));                           \
            for (int64_t j = i; j < n; j++) {                                                         \
                const float t = SCALAR(x[j]) * y[j];                                                  \
                s += t;                                                                               \
            }                                                                                         \
            out[r] = s;                                                                               \
        }                                                                                             \
    }

#define LZ_SCALAR_F32(v) (v)
LZ_ROWS_FLOAT(f32, float, LZ_SUF(load_f32), LZ_SCALAR_F32)
LZ_ROWS_FLOAT(f16, uint16_t, LZ_SUF(load_f16), loza_half_to_float)
LZ_ROWS_FLOAT(bf16, uint16_t, LZ_SUF(load_bf16), loza_bf16_bits_to_float)

// --- K-quant and float entry points: vec_dot (one row) and matvec (LZ_NR rows at a time) ----------

#define LZ_ENTRY(NAME, ACT, QK)                                                                       \
    LZ_FN static float LZ_SUF(vec_dot_##NAME)(const void *row, const void *act, int64_t n) {         \
        float r;                                                                                      \
        LZ_SUF(NAME##_rows)(1, (const uint8_t *)row, 0, (const ACT *)act, n / (QK), &r);              \
        return r;                                                                                     \
    }                                                                                                 \
    LZ_FN static void LZ_SUF(matvec_##NAME)(const void *w, size_t stride, const void *act, float *y,  \
                                            int64_t nrows, int64_t n) {                               \
        const uint8_t *p = (const uint8_t *)w;                                                        \
        int64_t r = 0;                                                                                \
        for (; r + LZ_NR <= nrows; r += LZ_NR)                                                        \
            LZ_SUF(NAME##_rows)(LZ_NR, p + (size_t)r * stride, stride, (const ACT *)act, n / (QK), y + r); \
        for (; r < nrows; r++)                                                                        \
            LZ_SUF(NAME##_rows)(1, p + (size_t)r * stride, stride, (const ACT *)act, n / (QK), y + r); \
    }

LZ_ENTRY(q4_K, block_q8_K, QK_K)
LZ_ENTRY(q5_K, block_q8_K, QK_K)
LZ_ENTRY(q6_K, block_q8_K, QK_K)
LZ_ENTRY(f32, float, 1)
LZ_ENTRY(f16, float, 1)
LZ_ENTRY(bf16, float, 1)

// --- several activations against the same rows (verifying guessed tokens in one pass) ---------------
// y[j * ystride + r] = dot(row r, act j). Each row is loaded (and unpacked) once per group of
// LZ_MACT activations, each activation of the group has its own accumulators, and every
// activation's arithmetic is the one-activation kernel's, step for step (same block order, same
// float operations; the integer sums are exact), so every output has exactly matvec's bits.

#define LZ_MACT 4
#define LZ_MULTI_PREP 8192  // prepared activation blocks on the stack (64 KB)

// Per-activation block steps of the 32-element types, given the row's block already loaded.
#define LZ_MSTEP_OFFSET(k)                                                                            \
    do {                                                                                              \
        const lz_prep_q8_0 *pp = &pk[k][i];                                                           \
        const __m256i seed = _mm256_zextsi128_si256(_mm_cvtsi32_si128(pp->neg));                      \
        const __m256i yq = _mm256_loadu_si256((const __m256i *)yk[k][i].qs);                          \
        const __m256i sumi = LZ_SUF(dot_u8s8)(seed, xq, yq);                                          \
        const __m256 d = _mm256_mul_ps(xd, _mm256_set1_ps(pp->d));                                    \
        acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc[k]);                                \
    } while (0)
#define LZ_MSTEP_Q8(k)                                                                                \
    do {                                                                                              \
        const __m256i yq = _mm256_loadu_si256((const __m256i *)yk[k][i].qs);                          \
        const __m256i sumi = LZ_SUF(dot_u8s8)(_mm256_setzero_si256(), xa, _mm256_sign_epi8(yq, xq));  \
        const __m256 d = _mm256_mul_ps(xd, _mm256_set1_ps(pk[k][i].d));                               \
        acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc[k]);                                \
    } while (0)
#define LZ_MSTEP_MIN(k)                                                                               \
    do {                                                                                              \
        const __m256i yq = _mm256_loadu_si256((const __m256i *)yk[k][i].qs);                          \
        const __m256i sumi = LZ_SUF(dot_u8s8)(_mm256_setzero_si256(), xq, yq);                        \
        const __m128 ds = _mm_castpd_ps(_mm_load_sd((const double *)&pk[k][i]));                      \
        const __m128 pr = _mm_mul_ps(xdm, ds);                                                        \
        acc[k] = _mm256_fmadd_ps(_mm256_broadcastss_ps(pr), _mm256_cvtepi32_ps(sumi), acc[k]);        \
        macc[k] = _mm_add_ps(macc[k], pr);                                                            \
    } while (0)

// Per-block loads of the row shared by the group: xq (unpacked), xd (its scale, 8 lanes), xa (|xq|,
// Q8_0 only), xdm ((d, m) pair, min types only).
#define LZ_MLOAD_OFFSET(LOADQ)                                                                        \
    const __m256i xq = LOADQ(&x[i]);                                                                  \
    const __m256 xd = LZ_SUF(h2f8)(x[i].d);
#define LZ_MLOAD_Q8(LOADQ)                                                                            \
    const __m256i xq = _mm256_loadu_si256((const __m256i *)x[i].qs);                                  \
    const __m256i xa = _mm256_abs_epi8(xq);                                                           \
    const __m256 xd = LZ_SUF(h2f8)(x[i].d);
#define LZ_MLOAD_MIN(LOADQ)                                                                           \
    const __m256i xq = LOADQ(&x[i]);                                                                  \
    const __m128 xdm = LZ_SUF(h2f_pair)(&x[i].d);

// One row against a group of M activations; inlined with M a constant (1..LZ_MACT), so the loops
// over k unroll and the accumulators stay in registers.
#define LZ_MULTI32(NAME, BLOCK, ACT, OFF, LOADQ, KIND)                                                \
    LZ_FN LZ_INL void LZ_SUF(mgroup_##NAME)(const BLOCK *x, int64_t nb, const block_##ACT *const *yk,   \
                                            const lz_prep_##ACT *const *pk, const int M, float *y,    \
                                            int64_t ystride) {                                        \
        __m256 acc[LZ_MACT];                                                                          \
        __m128 macc[LZ_MACT];                                                                         \
        _Pragma("clang loop unroll(full)")                                                            \
        for (int k = 0; k < M; k++) { acc[k] = _mm256_setzero_ps(); macc[k] = _mm_setzero_ps(); }     \
        (void)macc;                                                                                   \
        for (int64_t i = 0; i < nb; i++) {                                                            \
            LZ_MLOAD_##KIND(LOADQ)                                                                    \
            _Pragma("clang loop unroll(full)")                                                        \
            for (int k = 0; k < M; k++) LZ_MSTEP_##KIND(k);                                           \
        }                                                                                             \
        _Pragma("clang loop unroll(full)")                                                            \
        for (int k = 0; k < M; k++)                                                                   \
            y[k * ystride] = LZ_SUF(hsum_ps)(acc[k]) + _mm_cvtss_f32(_mm_movehdup_ps(macc[k]));       \
    }                                                                                                 \
    LZ_FN static void LZ_SUF(matvec_multi_##NAME)(const void *w, size_t stride, const void *const *acts, \
                                                  int64_t nact, float *y, int64_t ystride,           \
                                                  int64_t nrows, int64_t n) {                        \
        const int64_t nb = n / 32;                                                                    \
        if (nb * nact > LZ_MULTI_PREP) {                                                              \
            for (int64_t j = 0; j < nact; j++)                                                        \
                LZ_SUF(matvec_##NAME)(w, stride, acts[j], y + j * ystride, nrows, n);                 \
            return;                                                                                   \
        }                                                                                             \
        lz_prep_##ACT prep[LZ_MULTI_PREP];                                                            \
        const block_##ACT *ys[LZ_MULTI_PREP / 8];                                                     \
        const lz_prep_##ACT *ps[LZ_MULTI_PREP / 8];                                                   \
        for (int64_t j = 0; j < nact; j++) {                                                          \
            ys[j] = (const block_##ACT *)acts[j];                                                     \
            ps[j] = prep + j * nb;                                                                    \
            lz_prep_##ACT##_blocks(ys[j], nb, OFF, prep + j * nb);                                    \
        }                                                                                             \
        for (int64_t r = 0; r < nrows; r++) {                                                         \
            const BLOCK *x = (const BLOCK *)((const uint8_t *)w + (size_t)r * stride);                \
            for (int64_t j0 = 0; j0 < nact; j0 += LZ_MACT) {                                          \
                float *out = y + j0 * ystride + r;                                                    \
                switch (nact - j0 < LZ_MACT ? (int)(nact - j0) : LZ_MACT) {                           \
                case 1: LZ_SUF(mgroup_##NAME)(x, nb, ys + j0, ps + j0, 1, out, ystride); break;        \
                case 2: LZ_SUF(mgroup_##NAME)(x, nb, ys + j0, ps + j0, 2, out, ystride); break;        \
                case 3: LZ_SUF(mgroup_##NAME)(x, nb, ys + j0, ps + j0, 3, out, ystride); break;        \
                default: LZ_SUF(mgroup_##NAME)(x, nb, ys + j0, ps + j0, 4, out, ystride); break;       \
                }                                                                                     \
            }                                                                                         \
        }                                                                                             \
    }

#define LZ_LOADQ_NONE(x) _mm256_setzero_si256()
LZ_MULTI32(q4_0, block_q4_0, q8_0, 8, LZ_LOADQ_Q4_0, OFFSET)
LZ_MULTI32(q5_0, block_q5_0, q8_0, 16, LZ_LOADQ_Q5_0, OFFSET)
LZ_MULTI32(q8_0, block_q8_0, q8_0, 0, LZ_LOADQ_NONE, Q8)
LZ_MULTI32(q4_1, block_q4_1, q8_1, 0, LZ_LOADQ_Q4_1, MIN)
LZ_MULTI32(q5_1, block_q5_1, q8_1, 0, LZ_LOADQ_Q5_1, MIN)

// Q4_K / Q5_K: the row's block is unpacked once (scales, mins, 4-bit / 5-bit values), then each
// activation of the group takes the steps of LZ_ROWS_K45 with nr = 1.
#define LZ_MULTI_K45(NAME, BLOCK, HIGHBITS)                                                           \
    LZ_FN LZ_INL void LZ_SUF(mgroup_##NAME)(const BLOCK *xr, int64_t nb, const void *const *acts,       \
                                            const int m, float *y, int64_t ystride) {                 \
        const __m256i m4 = _mm256_set1_epi8(0x0F);                                                   \
        __m256 acc[LZ_MACT];                                                                          \
        float macc[LZ_MACT];                                                                          \
        for (int k = 0; k < LZ_MACT; k++) { acc[k] = _mm256_setzero_ps(); macc[k] = 0.0f; }           \
        for (int64_t i = 0; i < nb; i++) {                                                            \
            const BLOCK *x = xr + i;                                                                  \
            const __m128i sm = LZ_SUF(k4_scales_mins)(x->scales);                                     \
            const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));                  \
            __m256i hb = HIGHBITS ? _mm256_loadu_si256((const __m256i *)((const uint8_t *)x +         \
                                                        offsetof(block_q5_K, qh)))                    \
                                  : _mm256_setzero_si256();                                           \
            const uint8_t *qs = (const uint8_t *)x + (HIGHBITS ? offsetof(block_q5_K, qs)             \
                                                               : offsetof(block_q4_K, qs));           \
            __m256i sumi[LZ_MACT];                                                                    \
            for (int k = 0; k < LZ_MACT; k++) sumi[k] = _mm256_setzero_si256();                       \
            for (int c = 0; c < 4; c++) {                                                             \
                const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));                 \
                __m256i lo = _mm256_and_si256(q, m4);                                                 \
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);                           \
                if (HIGHBITS) {                                                                       \
                    const __m256i b10 = _mm256_set1_epi8(0x10);                                       \
                    lo = _mm256_or_si256(lo, _mm256_and_si256(_mm256_slli_epi16(hb, 4), b10));         \
                    hi = _mm256_or_si256(hi, _mm256_and_si256(_mm256_slli_epi16(hb, 3), b10));         \
                    hb = _mm256_srli_epi16(hb, 2);                                                    \
                }                                                                                     \
                const __m256i slo = LZ_SUF(bcast16)(sc16, 2 * c);                                     \
                const __m256i shi = LZ_SUF(bcast16)(sc16, 2 * c + 1);                                 \
                for (int k = 0; k < m; k++) {                                                         \
                    const int8_t *a = ((const block_q8_K *)acts[k])[i].qs;                       \
                    const __m256i plo = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(a + 64 * c)));         \
                    const __m256i phi = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(a + 64 * c + 32)));         \
                    sumi[k] = LZ_SUF(dot_i16)(sumi[k], plo, slo);                                     \
                    sumi[k] = LZ_SUF(dot_i16)(sumi[k], phi, shi);                                     \
                }                                                                                     \
            }                                                                                         \
            const __m128 xdm = LZ_SUF(h2f_pair)(&x->d);                                               \
            const __m128i mins = _mm_unpackhi_epi64(sm, sm);                                          \
            for (int k = 0; k < m; k++) {                                                             \
                const block_q8_K *yb = (const block_q8_K *)acts[k] + i;                          \
                const __m256i bs = _mm256_loadu_si256((const __m256i *)yb->bsums);                    \
                const __m256i bp32 = _mm256_madd_epi16(bs, _mm256_set1_epi16(1));                     \
                const __m128i bpair = _mm_packs_epi32(_mm256_castsi256_si128(bp32),                   \
                                                      _mm256_extracti128_si256(bp32, 1));             \
                const int32_t summ = LZ_SUF(k4_summ)(mins, bpair);                                    \
                const __m128 dd = _mm_mul_ps(xdm, _mm_set1_ps(yb->d));                                \
                acc[k] = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(sumi[k]), acc[k]);         \
                const float mterm = _mm_cvtss_f32(_mm_movehdup_ps(dd)) * (float)summ;                 \
                macc[k] += mterm;                                                                     \
            }                                                                                         \
        }                                                                                             \
        for (int k = 0; k < m; k++) y[k * ystride] = LZ_SUF(hsum_ps)(acc[k]) - macc[k];             \
    }                                                                                                 \
    LZ_FN static void LZ_SUF(matvec_multi_##NAME)(const void *w, size_t stride, const void *const *acts, \
                                                  int64_t nact, float *y, int64_t ystride,           \
                                                  int64_t nrows, int64_t n) {                        \
        const int64_t nb = n / QK_K;                                                                  \
        for (int64_t r = 0; r < nrows; r++) {                                                         \
            const BLOCK *xr = (const BLOCK *)((const uint8_t *)w + (size_t)r * stride);               \
            for (int64_t j0 = 0; j0 < nact; j0 += LZ_MACT) {                                          \
                float *out = y + j0 * ystride + r;                                                    \
                switch (nact - j0 < LZ_MACT ? (int)(nact - j0) : LZ_MACT) {                           \
                case 1: LZ_SUF(mgroup_##NAME)(xr, nb, acts + j0, 1, out, ystride); break;              \
                case 2: LZ_SUF(mgroup_##NAME)(xr, nb, acts + j0, 2, out, ystride); break;              \
                case 3: LZ_SUF(mgroup_##NAME)(xr, nb, acts + j0, 3, out, ystride); break;              \
                default: LZ_SUF(mgroup_##NAME)(xr, nb, acts + j0, 4, out, ystride); break;             \
                }                                                                                     \
            }                                                                                         \
        }                                                                                             \
    }

LZ_MULTI_K45(q4_K, block_q4_K, 0)
LZ_MULTI_K45(q5_K, block_q5_K, 1)

// Q6_K: the row's block is unpacked once per half, each activation takes LZ q6_K_rows's steps.
LZ_FN LZ_INL void LZ_SUF(mgroup_q6_K)(const block_q6_K *xr, int64_t nb, const void *const *acts, const int m,
                              float *y, int64_t ystride) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(0x03);
    const __m256i mC = _mm256_set1_epi8(0x0C), m30 = _mm256_set1_epi8(0x30);
    const __m256i mC0 = _mm256_set1_epi8((char)0xC0);
    __m256 acc[LZ_MACT];
    for (int k = 0; k < LZ_MACT; k++) acc[k] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const block_q6_K *x = xr + i;
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)x->scales));
        __m256i sumi[LZ_MACT];
        for (int k = 0; k < m; k++) {
            const block_q8_K *yb = (const block_q8_K *)acts[k] + i;
            const __m256i bs = _mm256_loadu_si256((const __m256i *)yb->bsums);
            const __m256i t = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
            sumi[k] = _mm256_sub_epi32(_mm256_setzero_si256(), t);
        }
        for (int h = 0; h < 2; h++) {
            const __m256i half = h ? _mm256_permute2x128_si256(sc16, sc16, 0x11)
                                   : _mm256_permute2x128_si256(sc16, sc16, 0x00);
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h));
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * h + 32));
            const __m256i qh = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * h));
            const __m256i qq[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(qh, mC), 2)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(qh, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                _mm256_srli_epi16(_mm256_and_si256(qh, mC0), 2))};
            for (int g = 0; g < 4; g++) {
                const __m256i idx = _mm256_setr_epi8(
                    (char)(4 * g), (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1), (char)(4 * g),
                    (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1),
                    (char)(4 * g), (char)(4 * g + 1), (char)(4 * g), (char)(4 * g + 1), (char)(4 * g),
                    (char)(4 * g + 1), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                    (char)(4 * g + 3), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                    (char)(4 * g + 3), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                    (char)(4 * g + 3), (char)(4 * g + 2), (char)(4 * g + 3), (char)(4 * g + 2),
                    (char)(4 * g + 3));
                const __m256i sc = _mm256_shuffle_epi8(half, idx);
                for (int k = 0; k < m; k++) {
                    const int8_t *a = ((const block_q8_K *)acts[k])[i].qs;
                    const __m256i p = _mm256_maddubs_epi16(
                        qq[g], _mm256_loadu_si256((const __m256i *)(a + 32 * (4 * h + g))));
                    sumi[k] = LZ_SUF(dot_i16)(sumi[k], p, sc);
                }
            }
        }
        const __m256 xd = LZ_SUF(h2f8)(x->d);
        for (int k = 0; k < m; k++) {
            const block_q8_K *yb = (const block_q8_K *)acts[k] + i;
            const __m256 d = _mm256_mul_ps(xd, _mm256_set1_ps(yb->d));
            acc[k] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[k]), acc[k]);
        }
    }
    for (int k = 0; k < m; k++) y[k * ystride] = LZ_SUF(hsum_ps)(acc[k]);
}

LZ_FN static void LZ_SUF(matvec_multi_q6_K)(const void *w, size_t stride, const void *const *acts, int64_t nact,
                                           float *y, int64_t ystride, int64_t nrows, int64_t n) {
    const int64_t nb = n / QK_K;
    for (int64_t r = 0; r < nrows; r++) {
        const block_q6_K *xr = (const block_q6_K *)((const uint8_t *)w + (size_t)r * stride);
        for (int64_t j0 = 0; j0 < nact; j0 += LZ_MACT) {
            float *out = y + j0 * ystride + r;
            switch (nact - j0 < LZ_MACT ? (int)(nact - j0) : LZ_MACT) {
            case 1: LZ_SUF(mgroup_q6_K)(xr, nb, acts + j0, 1, out, ystride); break;
            case 2: LZ_SUF(mgroup_q6_K)(xr, nb, acts + j0, 2, out, ystride); break;
            case 3: LZ_SUF(mgroup_q6_K)(xr, nb, acts + j0, 3, out, ystride); break;
            default: LZ_SUF(mgroup_q6_K)(xr, nb, acts + j0, 4, out, ystride); break;
            }
        }
    }
}

#define LZ_SET(k, TYPE, NAME)                                                                         \
    do {                                                                                              \
        (k)->vec_dot[TYPE] = LZ_SUF(vec_dot_##NAME);                                                  \
        (k)->matvec[TYPE] = LZ_SUF(matvec_##NAME);                                                    \
    } while (0)

static void LZ_SUF(install_dot)(struct lz_kernels *k) {
    k->matvec_multi[LOZA_TYPE_Q4_0] = LZ_SUF(matvec_multi_q4_0);
    k->matvec_multi[LOZA_TYPE_Q4_1] = LZ_SUF(matvec_multi_q4_1);
    k->matvec_multi[LOZA_TYPE_Q5_0] = LZ_SUF(matvec_multi_q5_0);
    k->matvec_multi[LOZA_TYPE_Q5_1] = LZ_SUF(matvec_multi_q5_1);
    k->matvec_multi[LOZA_TYPE_Q8_0] = LZ_SUF(matvec_multi_q8_0);
    k->matvec_multi[LOZA_TYPE_Q4_K] = LZ_SUF(matvec_multi_q4_K);
    k->matvec_multi[LOZA_TYPE_Q5_K] = LZ_SUF(matvec_multi_q5_K);
    k->matvec_multi[LOZA_TYPE_Q6_K] = LZ_SUF(matvec_multi_q6_K);
    LZ_SET(k, LOZA_TYPE_Q4_0, q4_0);
    LZ_SET(k, LOZA_TYPE_Q4_1, q4_1);
    LZ_SET(k, LOZA_TYPE_Q5_0, q5_0);
    LZ_SET(k, LOZA_TYPE_Q5_1, q5_1);
    LZ_SET(k, LOZA_TYPE_Q8_0, q8_0);
    LZ_SET(k, LOZA_TYPE_Q4_K, q4_K);
    LZ_SET(k, LOZA_TYPE_Q5_K, q5_K);
    LZ_SET(k, LOZA_TYPE_Q6_K, q6_K);
    LZ_SET(k, LOZA_TYPE_F32, f32);
    LZ_SET(k, LOZA_TYPE_F16, f16);
    LZ_SET(k, LOZA_TYPE_BF16, bf16);
}
