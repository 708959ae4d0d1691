// Scalar reference quantizers. The 32-element types and the activation types (Q8_0, Q8_1, Q8_K)
// follow ggml's round-to-nearest reference quantizers step for step, so activations quantize to
// the same bits as llama.cpp's. The K-quants use a small weighted least-squares scale search of
// our own (good, not ggml's exact search): they only build test tensors.
#include <float.h>
#include <math.h>
#include "blocks.h"

static inline int nearest_int(float v) { return (int)lrintf(v); }  // ties to even, like ggml's
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

static void q_q4_0(const float *x, block_q4_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK4_0) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK4_0; j++) {
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = LOZA_F2H(d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            const int xi0 = clampi((int)(x[j] * id + 8.5f), 0, 15);
            const int xi1 = clampi((int)(x[j + QK4_0 / 2] * id + 8.5f), 0, 15);
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

static void q_q4_1(const float *x, block_q4_1 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK4_1) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK4_1; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = LOZA_F2H(d);
        y[i].m = LOZA_F2H(min);
        for (int j = 0; j < QK4_1 / 2; j++) {
            const int xi0 = clampi((int)((x[j] - min) * id + 0.5f), 0, 15);
            const int xi1 = clampi((int)((x[j + QK4_1 / 2] - min) * id + 0.5f), 0, 15);
            y[i].qs[j] = (uint8_t)(xi0 | (xi1 << 4));
        }
    }
}

static void q_q5_0(const float *x, block_q5_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK5_0) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK5_0; j++) {
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        }
        const float d = max / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = LOZA_F2H(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int xi0 = clampi((int)(x[j] * id + 16.5f), 0, 31);
            const int xi1 = clampi((int)(x[j + QK5_0 / 2] * id + 16.5f), 0, 31);
            y[i].qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((uint32_t)(xi0 & 0x10) >> 4) << j;
            qh |= ((uint32_t)(xi1 & 0x10) >> 4) << (j + QK5_0 / 2);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

static void q_q5_1(const float *x, block_q5_1 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK5_1) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < QK5_1; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = LOZA_F2H(d);
        y[i].m = LOZA_F2H(min);
        uint32_t qh = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int xi0 = clampi((int)((x[j] - min) * id + 0.5f), 0, 31);
            const int xi1 = clampi((int)((x[j + QK5_1 / 2] - min) * id + 0.5f), 0, 31);
            y[i].qs[j] = (uint8_t)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
            qh |= ((uint32_t)(xi0 & 0x10) >> 4) << j;
            qh |= ((uint32_t)(xi1 & 0x10) >> 4) << (j + QK5_1 / 2);
        }
        memcpy(y[i].qh, &qh, 4);
    }
}

static void q_q8_0(const float *x, block_q8_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = LOZA_F2H(d);
        for (int j = 0; j < QK8_0; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

static void q_q8_1(const float *x, block_q8_1 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK8_1) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_1; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = LOZA_F2H(d);
        int sum = 0;
        for (int j = 0; j < QK8_1 / 2; j++) {
            y[i].qs[j] = (int8_t)roundf(x[j] * id);
            y[i].qs[j + QK8_1 / 2] = (int8_t)roundf(x[j + QK8_1 / 2] * id);
            sum += y[i].qs[j] + y[i].qs[j + QK8_1 / 2];
        }
        y[i].s = LOZA_F2H((float)sum * d);
    }
}

static void q_q8_K(const float *x, block_q8_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        }
        if (amax == 0.0f) {
            y[i].d = 0.0f;
            memset(y[i].qs, 0, sizeof y[i].qs);
            memset(y[i].bsums, 0, sizeof y[i].bsums);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            const int v = nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int k = 0; k < 16; k++) sum += y[i].qs[j * 16 + k];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1.0f / iscale;
    }
}

// Fit x ~= scale * L - mn (L in [0, nmax], scale >= 0, mn >= 0) for one sub-block of 32, weighted by w.
// Tries a few inverse scales around nmax / range and keeps the least-squares fit with the least error.
static void fit_scale_min(const float *x, const float *w, int nmax, float *scale, float *mn) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < 32; j++) { lo = fminf(lo, x[j]); hi = fmaxf(hi, x[j]); }
    if (lo > 0.0f) lo = 0.0f;
    if (hi <= lo) { *scale = 0.0f; *mn = -lo; return; }
    float best_err = INFINITY, best_scale = (hi - lo) / (float)nmax, best_min = -lo;
    for (int k = -10; k <= 10; k++) {
        const float iscale = ((float)nmax + 0.1f * (float)k) / (hi - lo);
        float sw = 0, sl = 0, sl2 = 0, sx = 0, sxl = 0;
        for (int j = 0; j < 32; j++) {
            const float l = (float)clampi(nearest_int(iscale * (x[j] - lo)), 0, nmax);
            sw += w[j]; sl += w[j] * l; sl2 += w[j] * l * l; sx += w[j] * x[j]; sxl += w[j] * x[j] * l;
        }
        const float det = sw * sl2 - sl * sl;
        if (det <= 0.0f) continue;
        float s = (sw * sxl - sx * sl) / det;
        float off = (sl2 * sx - sl * sxl) / det;  // x ~= s * l + off, need off <= 0
        if (off > 0.0f) { off = 0.0f; s = sl2 > 0.0f ? sxl / sl2 : 0.0f; }
        if (s < 0.0f) continue;
        float err = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float l = (float)clampi(nearest_int(iscale * (x[j] - lo)), 0, nmax);
            const float e = s * l + off - x[j];
            err += w[j] * e * e;
        }
        if (err < best_err) { best_err = err; best_scale = s; best_min = -off; }
    }
    *scale = best_scale;
    *mn = best_min;
}

// Shared by q4_K (nmax 15) and q5_K (nmax 31): 6-bit sub-block scales/mins, levels in L[256].
static void quantize_k_scales(const float *x, int nmax, loza_half *d_out, loza_half *dmin_out,
                              uint8_t scales[K_SCALE_SIZE], uint8_t L[QK_K]) {
    float sub_scale[8], sub_min[8], w[32];
    float max_scale = 0.0f, max_min = 0.0f;
    float sumx2 = 0.0f;
    for (int j = 0; j < QK_K; j++) sumx2 += x[j] * x[j];
    const float av_x = sqrtf(sumx2 / QK_K);
    for (int s = 0; s < 8; s++) {
        for (int j = 0; j < 32; j++) w[j] = av_x + fabsf(x[32 * s + j]);
        fit_scale_min(x + 32 * s, w, nmax, &sub_scale[s], &sub_min[s]);
        if (sub_scale[s] > max_scale) max_scale = sub_scale[s];
        if (sub_min[s] > max_min) max_min = sub_min[s];
    }
    const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    memset(scales, 0, K_SCALE_SIZE);
    for (int s = 0; s < 8; s++) {
        const uint8_t ls = (uint8_t)clampi(nearest_int(inv_scale * sub_scale[s]), 0, 63);
        const uint8_t lm = (uint8_t)clampi(nearest_int(inv_min * sub_min[s]), 0, 63);
        if (s < 4) {
            scales[s] = ls;
            scales[s + 4] = lm;
        } else {
            scales[s + 4] = (uint8_t)((ls & 0x0F) | ((lm & 0x0F) << 4));
            scales[s - 4] |= (uint8_t)((ls >> 4) << 6);
            scales[s] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out = LOZA_F2H(max_scale / 63.0f);
    *dmin_out = LOZA_F2H(max_min / 63.0f);
    const float d = LOZA_H2F(*d_out), dmin = LOZA_H2F(*dmin_out);
    for (int s = 0; s < 8; s++) {
        uint8_t sc, m;
        loza_get_scale_min_k4(s, scales, &sc, &m);
        const float dd = d * (float)sc, dm = dmin * (float)m;
        for (int j = 0; j < 32; j++) {
            L[32 * s + j] = dd != 0.0f ? (uint8_t)clampi(nearest_int((x[32 * s + j] + dm) / dd), 0, nmax) : 0;
        }
    }
}

static void q_q4_K(const float *x, block_q4_K *y, int64_t nb) {
    uint8_t L[QK_K];
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        quantize_k_scales(x, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
        uint8_t *q = y[i].qs;
        for (int c = 0; c < 4; c++, q += 32)
            for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

static void q_q5_K(const float *x, block_q5_K *y, int64_t nb) {
    uint8_t L[QK_K];
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        quantize_k_scales(x, 31, &y[i].d, &y[i].dmin, y[i].scales, L);
        memset(y[i].qh, 0, sizeof y[i].qh);
        uint8_t *ql = y[i].qs;
        for (int c = 0; c < 4; c++, ql += 32) {
            const uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
            for (int l = 0; l < 32; l++) {
                int l1 = L[64 * c + l], l2 = L[64 * c + 32 + l];
                if (l1 > 15) { l1 -= 16; y[i].qh[l] |= u1; }
                if (l2 > 15) { l2 -= 16; y[i].qh[l] |= u2; }
                ql[l] = (uint8_t)(l1 | (l2 << 4));
            }
        }
    }
}

// Symmetric fit x ~= scale * l, l in [-32, 31], for one sub-block of 16 (least squares over a few
// candidate inverse scales).
static float fit_scale_q6(const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 16; j++) {
        if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
    }
    if (amax == 0.0f) return 0.0f;
    float best = -1.0f, best_scale = max / -32.0f;
    for (int k = -9; k <= 9; k++) {
        const float iscale = -(32.0f + 0.1f * (float)k) / max;
        float sxl = 0.0f, sl2 = 0.0f;
        for (int j = 0; j < 16; j++) {
            const float l = (float)clampi(nearest_int(iscale * x[j]), -32, 31);
            sxl += x[j] * l;
            sl2 += l * l;
        }
        if (sl2 > 0.0f && sxl * sxl / sl2 > best) { best = sxl * sxl / sl2; best_scale = sxl / sl2; }
    }
    return best_scale;
}

static void q_q6_K(const float *x, block_q6_K *y, int64_t nb) {
    uint8_t L[QK_K];
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        float sub[16], amax = 0.0f, max = 0.0f;
        for (int s = 0; s < 16; s++) {
            sub[s] = fit_scale_q6(x + 16 * s);
            if (fabsf(sub[s]) > amax) { amax = fabsf(sub[s]); max = sub[s]; }
        }
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -128.0f / max;
        y[i].d = LOZA_F2H(1.0f / iscale);
        for (int s = 0; s < 16; s++) y[i].scales[s] = (int8_t)clampi(nearest_int(iscale * sub[s]), -128, 127);
        const float d = LOZA_H2F(y[i].d);
        for (int s = 0; s < 16; s++) {
            const float dd = d * (float)y[i].scales[s];
            for (int j = 0; j < 16; j++) {
                const int l = dd != 0.0f ? clampi(nearest_int(x[16 * s + j] / dd), -32, 31) : 0;
                L[16 * s + j] = (uint8_t)(l + 32);
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32) {
            const uint8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0x0F) | ((Lh[l + 64] & 0x0F) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0x0F) | ((Lh[l + 96] & 0x0F) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                  ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

void loza_quantize_row_ref(int type, const float *src, void *dst, int64_t n) {
    const int64_t be = loza_block_elems(type);
    if (be == 0 || n <= 0 || n % be != 0) return;
    const int64_t nb = n / be;
    switch (type) {
    case LOZA_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case LOZA_TYPE_F16: {
        uint16_t *h = dst;
        for (int64_t i = 0; i < n; i++) h[i] = loza_float_to_half(src[i]);
        break;
    }
    case LOZA_TYPE_BF16: {
        uint16_t *h = dst;
        for (int64_t i = 0; i < n; i++) h[i] = loza_float_to_bf16_bits(src[i]);
        break;
    }
    case LOZA_TYPE_Q4_0: q_q4_0(src, dst, nb); break;
    case LOZA_TYPE_Q4_1: q_q4_1(src, dst, nb); break;
    case LOZA_TYPE_Q5_0: q_q5_0(src, dst, nb); break;
    case LOZA_TYPE_Q5_1: q_q5_1(src, dst, nb); break;
    case LOZA_TYPE_Q8_0: q_q8_0(src, dst, nb); break;
    case LOZA_TYPE_Q8_1: q_q8_1(src, dst, nb); break;
    case LOZA_TYPE_Q4_K: q_q4_K(src, dst, nb); break;
    case LOZA_TYPE_Q5_K: q_q5_K(src, dst, nb); break;
    case LOZA_TYPE_Q6_K: q_q6_K(src, dst, nb); break;
    case LOZA_TYPE_Q8_K: q_q8_K(src, dst, nb); break;
    default: break;
    }
}

void loza_quantize_act_ref(int weight_type, const float *x, void *dst, int64_t n) {
    const int vt = loza_vec_dot_type(weight_type);
    if (vt < 0) return;
    loza_quantize_row_ref(vt, x, dst, n);
}
