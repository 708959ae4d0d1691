// Attention kernels, scalar reference (libm expf, plain loops in key order). The SIMD variants
// (x86_attn_impl.h) are tested against these; see loza_kernels.h for the contracts.
#include "loza_kernels.h"
#include "simd.h"

#include <math.h>

// Walks the concatenation of spans from global key index j0.
static const uint16_t *lz_span_row(const loza_kv_span *spans, int64_t nspans, int64_t j, int kv, int64_t hd) {
    for (int64_t s = 0; s < nspans; s++) {
        if (j < spans[s].count) return (kv ? spans[s].v : spans[s].k) + (size_t)j * (size_t)hd;
        j -= spans[s].count;
    }
    return NULL;
}

void loza_attn_partial_ref(const float *q, int64_t nq, int64_t hd, float scale, const loza_kv_span *spans,
                           int64_t nspans, int64_t j0, int64_t j1, float *work, float *m, float *l, float *o) {
    const int64_t nk = j1 > j0 ? j1 - j0 : 0;
    for (int64_t g = 0; g < nq; g++) {
        float *s = work + g * nk;
        float mx = -INFINITY;
        for (int64_t j = 0; j < nk; j++) {
            const uint16_t *k = lz_span_row(spans, nspans, j0 + j, 0, hd);
            float d = 0.0f;
            for (int64_t i = 0; i < hd; i++) d += loza_f16_to_f32(k[i]) * q[g * hd + i];
            s[j] = d * scale;
            if (s[j] > mx) mx = s[j];
        }
        float sum = 0.0f;
        for (int64_t j = 0; j < nk; j++) {
            s[j] = expf(s[j] - mx);
            sum += s[j];
        }
        float *out = o + g * hd;
        for (int64_t i = 0; i < hd; i++) out[i] = 0.0f;
        for (int64_t j = 0; j < nk; j++) {
            const uint16_t *v = lz_span_row(spans, nspans, j0 + j, 1, hd);
            for (int64_t i = 0; i < hd; i++) out[i] += s[j] * loza_f16_to_f32(v[i]);
        }
        m[g] = mx;
        l[g] = sum;
    }
}

void loza_attn_merge(int64_t nq, int64_t hd, int64_t nparts, const float *m, const float *l, const float *o,
                     float *out) {
    for (int64_t g = 0; g < nq; g++) {
        float mx = -INFINITY;
        for (int64_t c = 0; c < nparts; c++) if (m[c * nq + g] > mx) mx = m[c * nq + g];
        float *y = out + g * hd;
        for (int64_t i = 0; i < hd; i++) y[i] = 0.0f;
        float sum = 0.0f;
        for (int64_t c = 0; c < nparts; c++) {
            const float mc = m[c * nq + g];
            if (mc == -INFINITY) continue;  // an empty part
            const float w = expf(mc - mx);
            sum += w * l[c * nq + g];
            const float *oc = o + (c * nq + g) * hd;
            for (int64_t i = 0; i < hd; i++) y[i] += w * oc[i];
        }
        const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
        for (int64_t i = 0; i < hd; i++) y[i] *= inv;
    }
}

void loza_attn_softmax_tile_ref(float *S, int64_t rows, int64_t cols, int64_t lds, float *m, float *l, float *O,
                                int64_t ldo, int64_t dv) {
    for (int64_t r = 0; r < rows; r++) {
        float *s = S + r * lds;
        float mx = m[r];
        for (int64_t j = 0; j < cols; j++) if (s[j] > mx) mx = s[j];
        if (mx == -INFINITY) {  // every key so far masked: nothing to add
            for (int64_t j = 0; j < cols; j++) s[j] = 0.0f;
            continue;
        }
        const float alpha = expf(m[r] - mx);
        float sum = 0.0f;
        for (int64_t j = 0; j < cols; j++) {
            s[j] = expf(s[j] - mx);
            sum += s[j];
        }
        l[r] = l[r] * alpha + sum;
        m[r] = mx;
        float *y = O + r * ldo;
        for (int64_t i = 0; i < dv; i++) y[i] *= alpha;
    }
}

void loza_exp_f32_ref(const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
}
