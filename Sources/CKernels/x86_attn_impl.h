// Attention kernels (decode partials, prefill online-softmax step, vector exp), instantiated once
// per x86 level by the file that includes it. The includer defines:
//   LZ_FN        function attributes (target(...))
//   LZ_SUF(name) the level's suffix
//   LZ_W         vector width in floats: 8 (AVX2, __m256) or 16 (AVX-512, __m512)
//
// Decode (attn_partial): K rows of a block of LOZA_ATTN_BLOCK keys are converted to f32 once and
// shared by every head of the GQA group; each head's scores come 4 keys at a time (4 accumulators,
// one horizontal-add tree), exp is a polynomial, and V rows (again converted once per block) are
// added into each head's output kept in registers over the block. A score's bits depend only on its
// key and query (a lone key goes through the same add tree with zero partners), and each output
// element adds keys in key order, so cutting the keys into spans or blocks never changes a bit.
#include <immintrin.h>
#include <math.h>
#include "loza_kernels.h"
#include "simd.h"

#define LZ_INL static inline __attribute__((always_inline))

#if LZ_W == 16
typedef __m512 lz_v;
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, x) _mm512_storeu_ps(p, x)
#define VSET1(x) _mm512_set1_ps(x)
#define VZERO() _mm512_setzero_ps()
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VMUL(a, b) _mm512_mul_ps(a, b)
#define VADD(a, b) _mm512_add_ps(a, b)
#define VSUB(a, b) _mm512_sub_ps(a, b)
#define VMAX(a, b) _mm512_max_ps(a, b)
#define VLOADH(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
LZ_FN LZ_INL __m256 LZ_SUF(fold)(lz_v a) {
    return _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
}
#else
typedef __m256 lz_v;
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, x) _mm256_storeu_ps(p, x)
#define VSET1(x) _mm256_set1_ps(x)
#define VZERO() _mm256_setzero_ps()
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VMUL(a, b) _mm256_mul_ps(a, b)
#define VADD(a, b) _mm256_add_ps(a, b)
#define VSUB(a, b) _mm256_sub_ps(a, b)
#define VMAX(a, b) _mm256_max_ps(a, b)
#define VLOADH(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
LZ_FN LZ_INL __m256 LZ_SUF(fold)(lz_v a) { return a; }
#endif

// Sums of four vectors -> lanes 0..3 (a, b, c, d); each lane's add tree does not depend on the others.
LZ_FN LZ_INL __m128 LZ_SUF(hsum4)(lz_v a, lz_v b, lz_v c, lz_v d) {
    const __m256 ab = _mm256_hadd_ps(LZ_SUF(fold)(a), LZ_SUF(fold)(b));
    const __m256 cd = _mm256_hadd_ps(LZ_SUF(fold)(c), LZ_SUF(fold)(d));
    const __m256 t = _mm256_hadd_ps(ab, cd);
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

LZ_FN LZ_INL float LZ_SUF(hsum)(lz_v a) {
    const lz_v z = VZERO();
    return _mm_cvtss_f32(LZ_SUF(hsum4)(a, z, z, z));
}

LZ_FN LZ_INL float LZ_SUF(hmax)(lz_v a) {
#if LZ_W == 16
    return _mm512_reduce_max_ps(a);
#else
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
#endif
}

// exp(x): x = n ln2 + r, |r| <= ln2/2 (ln2 in two parts), e^r by a degree-6 polynomial (Cephes
// expf coefficients), times 2^n built in the exponent bits. 0 below -87.34 (and for -inf).
LZ_FN LZ_INL lz_v LZ_SUF(vexp)(lz_v x) {
    const lz_v hi = VSET1(88.3762626647949f), lo = VSET1(-87.3365447505531f);
#if LZ_W == 16
    const __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    const lz_v fx = _mm512_roundscale_ps(VMUL(x, VSET1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
    const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    const lz_v fx = _mm256_round_ps(VMUL(x, VSET1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#endif
    x = VFMA(fx, VSET1(-0.693359375f), x);
    x = VFMA(fx, VSET1(2.12194440e-4f), x);
    const lz_v z = VMUL(x, x);
    lz_v y = VSET1(1.9875691500E-4f);
    y = VFMA(y, x, VSET1(1.3981999507E-3f));
    y = VFMA(y, x, VSET1(8.3334519073E-3f));
    y = VFMA(y, x, VSET1(4.1665795894E-2f));
    y = VFMA(y, x, VSET1(1.6666665459E-1f));
    y = VFMA(y, x, VSET1(5.0000001201E-1f));
    y = VFMA(y, z, VADD(x, VSET1(1.0f)));
#if LZ_W == 16
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fx), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mul_ps((__mmask16)~under, y, _mm512_castsi512_ps(e));
#else
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(under, VMUL(y, _mm256_castsi256_ps(e)));
#endif
}

// s[0..n) <- exp(s - mx); returns the sum (lanes in order of j mod LZ_W, then the fixed add tree).
// The tail goes through the same vector code, padded with -inf (exp = 0).
LZ_FN LZ_INL float LZ_SUF(exp_sum)(float *s, int64_t n, float mx) {
    const lz_v vm = VSET1(mx);
    lz_v acc = VZERO();
    int64_t j = 0;
    for (; j + LZ_W <= n; j += LZ_W) {
        const lz_v p = LZ_SUF(vexp)(VSUB(VLOAD(s + j), vm));
        VSTORE(s + j, p);
        acc = VADD(acc, p);
    }
    if (j < n) {
        float pad[LZ_W];
        for (int i = 0; i < LZ_W; i++) pad[i] = j + i < n ? s[j + i] : -INFINITY;
        const lz_v p = LZ_SUF(vexp)(VSUB(VLOAD(pad), vm));
        VSTORE(pad, p);
        for (int64_t i = 0; j + i < n; i++) s[j + i] = pad[i];
        acc = VADD(acc, p);
    }
    return LZ_SUF(hsum)(acc);
}

LZ_FN LZ_INL float LZ_SUF(row_max)(const float *s, int64_t n, float mx) {
    lz_v acc = VSET1(mx);
    int64_t j = 0;
    for (; j + LZ_W <= n; j += LZ_W) acc = VMAX(acc, VLOAD(s + j));
    float r = LZ_SUF(hmax)(acc);
    for (; j < n; j++) r = s[j] > r ? s[j] : r;
    return r;
}

// f16 rows -> f32 block (rows hd apart).
LZ_FN LZ_INL void LZ_SUF(cvt_rows)(const uint16_t *src, float *dst, int64_t n, int64_t hd) {
    const int64_t total = n * hd;
    for (int64_t i = 0; i < total; i += LZ_W) VSTORE(dst + i, VLOADH(src + i));
}

// Scores of one head against n converted keys, head_dim = NC vectors (a compile-time constant at the
// call sites, so q stays in registers); the same FMA order per key as the generic loop.
LZ_FN LZ_INL void LZ_SUF(scores_fixed)(const int NC, const float *qg, const float *blk, int64_t n, float *sg,
                                        float scale) {
    const int64_t hd = (int64_t)NC * LZ_W;
    lz_v qv[8];
    for (int c = 0; c < NC; c++) qv[c] = VLOAD(qg + c * LZ_W);
    int64_t r = 0;
    for (; r + 4 <= n; r += 4) {
        const float *k0 = blk + r * hd;
        lz_v a0 = VZERO(), a1 = VZERO(), a2 = VZERO(), a3 = VZERO();
        for (int c = 0; c < NC; c++) {
            a0 = VFMA(qv[c], VLOAD(k0 + c * LZ_W), a0);
            a1 = VFMA(qv[c], VLOAD(k0 + hd + c * LZ_W), a1);
            a2 = VFMA(qv[c], VLOAD(k0 + 2 * hd + c * LZ_W), a2);
            a3 = VFMA(qv[c], VLOAD(k0 + 3 * hd + c * LZ_W), a3);
        }
        _mm_storeu_ps(sg + r, _mm_mul_ps(LZ_SUF(hsum4)(a0, a1, a2, a3), _mm_set1_ps(scale)));
    }
    for (; r < n; r++) {
        const float *k0 = blk + r * hd;
        lz_v a0 = VZERO();
        for (int c = 0; c < NC; c++) a0 = VFMA(qv[c], VLOAD(k0 + c * LZ_W), a0);
        const lz_v z = VZERO();
        sg[r] = _mm_cvtss_f32(LZ_SUF(hsum4)(a0, z, z, z)) * scale;
    }
}

// Two heads' outputs (4 vectors each, kept in registers) over n converted V rows: each V vector is
// loaded once for both heads; each output element adds the keys in order as the one-head loop does.
LZ_FN LZ_INL void LZ_SUF(pv_pair4)(const float *p0, const float *p1, const float *blk, int64_t n, int64_t hd,
                                    float *o0, float *o1) {
    lz_v x0 = VLOAD(o0), x1 = VLOAD(o0 + LZ_W), x2 = VLOAD(o0 + 2 * LZ_W), x3 = VLOAD(o0 + 3 * LZ_W);
    lz_v y0 = VLOAD(o1), y1 = VLOAD(o1 + LZ_W), y2 = VLOAD(o1 + 2 * LZ_W), y3 = VLOAD(o1 + 3 * LZ_W);
    const float *vr = blk;
    for (int64_t r = 0; r < n; r++, vr += hd) {
        const lz_v a = VSET1(p0[r]), b = VSET1(p1[r]);
        const lz_v v0 = VLOAD(vr), v1 = VLOAD(vr + LZ_W), v2 = VLOAD(vr + 2 * LZ_W), v3 = VLOAD(vr + 3 * LZ_W);
        x0 = VFMA(a, v0, x0); x1 = VFMA(a, v1, x1); x2 = VFMA(a, v2, x2); x3 = VFMA(a, v3, x3);
        y0 = VFMA(b, v0, y0); y1 = VFMA(b, v1, y1); y2 = VFMA(b, v2, y2); y3 = VFMA(b, v3, y3);
    }
    VSTORE(o0, x0); VSTORE(o0 + LZ_W, x1); VSTORE(o0 + 2 * LZ_W, x2); VSTORE(o0 + 3 * LZ_W, x3);
    VSTORE(o1, y0); VSTORE(o1 + LZ_W, y1); VSTORE(o1 + 2 * LZ_W, y2); VSTORE(o1 + 3 * LZ_W, y3);
}

LZ_FN static void LZ_SUF(attn_partial)(const float *q, int64_t nq, int64_t hd, float scale,
                                       const loza_kv_span *spans, int64_t nspans, int64_t j0, int64_t j1,
                                       float *work, float *m, float *l, float *o) {
    if (hd % LZ_W != 0) {
        loza_attn_partial_ref(q, nq, hd, scale, spans, nspans, j0, j1, work, m, l, o);
        return;
    }
    const int64_t nk = j1 > j0 ? j1 - j0 : 0;
    for (int64_t i = 0; i < nq * hd; i++) o[i] = 0.0f;
    if (nk == 0) {
        for (int64_t g = 0; g < nq; g++) { m[g] = -INFINITY; l[g] = 0.0f; }
        return;
    }
    float *S = work, *blk = work + nq * nk;
    int64_t s0 = 0, off0 = j0;
    while (s0 < nspans && off0 >= spans[s0].count) { off0 -= spans[s0].count; s0++; }

    // Pass 1: scores of every head, one read of K.
    int64_t si = s0, off = off0;
    for (int64_t jj = 0; jj < nk;) {
        int64_t n = nk - jj;
        if (n > LOZA_ATTN_BLOCK) n = LOZA_ATTN_BLOCK;
        if (n > spans[si].count - off) n = spans[si].count - off;
        LZ_SUF(cvt_rows)(spans[si].k + (size_t)off * (size_t)hd, blk, n, hd);
        for (int64_t g = 0; g < nq; g++) {
            const float *qg = q + g * hd;
            float *sg = S + g * nk + jj;
            if (hd == 4 * LZ_W) { LZ_SUF(scores_fixed)(4, qg, blk, n, sg, scale); continue; }
            if (hd == 8 * LZ_W) { LZ_SUF(scores_fixed)(8, qg, blk, n, sg, scale); continue; }
            int64_t r = 0;
            for (; r + 4 <= n; r += 4) {
                const float *k0 = blk + r * hd;
                lz_v a0 = VZERO(), a1 = VZERO(), a2 = VZERO(), a3 = VZERO();
                for (int64_t c = 0; c < hd; c += LZ_W) {
                    const lz_v qv = VLOAD(qg + c);
                    a0 = VFMA(qv, VLOAD(k0 + c), a0);
                    a1 = VFMA(qv, VLOAD(k0 + hd + c), a1);
                    a2 = VFMA(qv, VLOAD(k0 + 2 * hd + c), a2);
                    a3 = VFMA(qv, VLOAD(k0 + 3 * hd + c), a3);
                }
                _mm_storeu_ps(sg + r, _mm_mul_ps(LZ_SUF(hsum4)(a0, a1, a2, a3), _mm_set1_ps(scale)));
            }
            for (; r < n; r++) {
                const float *k0 = blk + r * hd;
                lz_v a0 = VZERO();
                for (int64_t c = 0; c < hd; c += LZ_W) a0 = VFMA(VLOAD(qg + c), VLOAD(k0 + c), a0);
                const lz_v z = VZERO();
                sg[r] = _mm_cvtss_f32(LZ_SUF(hsum4)(a0, z, z, z)) * scale;
            }
        }
        jj += n;
        off += n;
        if (off == spans[si].count) { si++; off = 0; }
    }

    // Softmax numerators and sums.
    for (int64_t g = 0; g < nq; g++) {
        float *sg = S + g * nk;
        m[g] = LZ_SUF(row_max)(sg, nk, -INFINITY);
        l[g] = LZ_SUF(exp_sum)(sg, nk, m[g]);
    }

    // Pass 2: weighted V sums, one read of V; each head's output stays in registers over a block.
    si = s0; off = off0;
    for (int64_t jj = 0; jj < nk;) {
        int64_t n = nk - jj;
        if (n > LOZA_ATTN_BLOCK) n = LOZA_ATTN_BLOCK;
        if (n > spans[si].count - off) n = spans[si].count - off;
        LZ_SUF(cvt_rows)(spans[si].v + (size_t)off * (size_t)hd, blk, n, hd);
        int64_t g0 = 0;
        if (hd == 4 * LZ_W)
            for (; g0 + 2 <= nq; g0 += 2)
                LZ_SUF(pv_pair4)(S + g0 * nk + jj, S + (g0 + 1) * nk + jj, blk, n, hd, o + g0 * hd, o + (g0 + 1) * hd);
        for (int64_t g = g0; g < nq; g++) {
            const float *pg = S + g * nk + jj;
            float *og = o + g * hd;
            int64_t c = 0;
            for (; c + 4 * LZ_W <= hd; c += 4 * LZ_W) {
                lz_v y0 = VLOAD(og + c), y1 = VLOAD(og + c + LZ_W);
                lz_v y2 = VLOAD(og + c + 2 * LZ_W), y3 = VLOAD(og + c + 3 * LZ_W);
                const float *vr = blk + c;
                for (int64_t r = 0; r < n; r++, vr += hd) {
                    const lz_v p = VSET1(pg[r]);
                    y0 = VFMA(p, VLOAD(vr), y0);
                    y1 = VFMA(p, VLOAD(vr + LZ_W), y1);
                    y2 = VFMA(p, VLOAD(vr + 2 * LZ_W), y2);
                    y3 = VFMA(p, VLOAD(vr + 3 * LZ_W), y3);
                }
                VSTORE(og + c, y0); VSTORE(og + c + LZ_W, y1);
                VSTORE(og + c + 2 * LZ_W, y2); VSTORE(og + c + 3 * LZ_W, y3);
            }
            for (; c < hd; c += LZ_W) {
                lz_v y0 = VLOAD(og + c);
                const float *vr = blk + c;
                for (int64_t r = 0; r < n; r++, vr += hd) y0 = VFMA(VSET1(pg[r]), VLOAD(vr), y0);
                VSTORE(og + c, y0);
            }
        }
        jj += n;
        off += n;
        if (off == spans[si].count) { si++; off = 0; }
    }
}

LZ_FN static void LZ_SUF(attn_softmax_tile)(float *S, int64_t rows, int64_t cols, int64_t lds, float *m,
                                            float *l, float *O, int64_t ldo, int64_t dv) {
    for (int64_t r = 0; r < rows; r++) {
        float *s = S + r * lds;
        const float mx = LZ_SUF(row_max)(s, cols, m[r]);
        if (mx == -INFINITY) {
            for (int64_t j = 0; j < cols; j++) s[j] = 0.0f;
            continue;
        }
        float a[LZ_W];
        VSTORE(a, LZ_SUF(vexp)(VSET1(m[r] - mx)));
        const float alpha = a[0];
        const float sum = LZ_SUF(exp_sum)(s, cols, mx);
        l[r] = l[r] * alpha + sum;
        m[r] = mx;
        if (alpha != 1.0f) {
            float *y = O + r * ldo;
            const lz_v va = VSET1(alpha);
            int64_t i = 0;
            for (; i + LZ_W <= dv; i += LZ_W) VSTORE(y + i, VMUL(va, VLOAD(y + i)));
            for (; i < dv; i++) y[i] *= alpha;
        }
    }
}

LZ_FN static void LZ_SUF(exp_f32)(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + LZ_W <= n; i += LZ_W) VSTORE(y + i, LZ_SUF(vexp)(VLOAD(x + i)));
    if (i < n) {
        float pad[LZ_W];
        for (int j = 0; j < LZ_W; j++) pad[j] = i + j < n ? x[i + j] : 0.0f;
        VSTORE(pad, LZ_SUF(vexp)(VLOAD(pad)));
        for (int j = 0; i + j < n; j++) y[i + j] = pad[j];
    }
}
