// Scalar reference dot products: weight row x activations quantized by loza_quantize_act_ref.
// Each block's integer dot product is exact; it is scaled to float once per block (per super-block
// for the K-quants) and summed in block order, so the result is the same on every call.
#include "blocks.h"

static float dot_q4_0(const block_q4_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            sumi += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
        }
        sum += (float)sumi * (LOZA_H2F(x[i].d) * LOZA_H2F(y[i].d));
    }
    return sum;
}

static float dot_q4_1(const block_q4_1 *x, const block_q8_1 *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_1 / 2; j++) {
            sumi += (x[i].qs[j] & 0x0F) * y[i].qs[j];
            sumi += (x[i].qs[j] >> 4) * y[i].qs[j + QK4_1 / 2];
        }
        sum += (LOZA_H2F(x[i].d) * LOZA_H2F(y[i].d)) * (float)sumi + LOZA_H2F(x[i].m) * LOZA_H2F(y[i].s);
    }
    return sum;
}

static float dot_q5_0(const block_q5_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        int sumi = 0;
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            sumi += (((x[i].qs[j] & 0x0F) | h0) - 16) * y[i].qs[j];
            sumi += (((x[i].qs[j] >> 4) | h1) - 16) * y[i].qs[j + QK5_0 / 2];
        }
        sum += (float)sumi * (LOZA_H2F(x[i].d) * LOZA_H2F(y[i].d));
    }
    return sum;
}

static float dot_q5_1(const block_q5_1 *x, const block_q8_1 *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        int sumi = 0;
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            sumi += ((x[i].qs[j] & 0x0F) | h0) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) | h1) * y[i].qs[j + QK5_1 / 2];
        }
        sum += (LOZA_H2F(x[i].d) * LOZA_H2F(y[i].d)) * (float)sumi + LOZA_H2F(x[i].m) * LOZA_H2F(y[i].s);
    }
    return sum;
}

static float dot_q8_0(const block_q8_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK8_0; j++) sumi += x[i].qs[j] * y[i].qs[j];
        sum += (float)sumi * (LOZA_H2F(x[i].d) * LOZA_H2F(y[i].d));
    }
    return sum;
}

// q4_K: sum over sub-blocks of scale * (q . y) is exact in int32; the mins term uses the q8_K bsums
// (sum of y over each 16) times the sub-block min.
static float dot_q4_K(const block_q4_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *q = x[i].qs;
        const int8_t *a = y[i].qs;
        int32_t sumi = 0, summ = 0;
        for (int c = 0; c < 4; c++, q += 32, a += 64) {
            uint8_t sc1, m1, sc2, m2;
            loza_get_scale_min_k4(2 * c, x[i].scales, &sc1, &m1);
            loza_get_scale_min_k4(2 * c + 1, x[i].scales, &sc2, &m2);
            int32_t s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += (q[l] & 0x0F) * a[l];
                s2 += (q[l] >> 4) * a[l + 32];
            }
            sumi += sc1 * s1 + sc2 * s2;
            summ += m1 * (y[i].bsums[4 * c] + y[i].bsums[4 * c + 1]) + m2 * (y[i].bsums[4 * c + 2] + y[i].bsums[4 * c + 3]);
        }
        sum += LOZA_H2F(x[i].d) * y[i].d * (float)sumi - LOZA_H2F(x[i].dmin) * y[i].d * (float)summ;
    }
    return sum;
}

static float dot_q5_K(const block_q5_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        const int8_t *a = y[i].qs;
        int32_t sumi = 0, summ = 0;
        for (int c = 0; c < 4; c++, ql += 32, a += 64) {
            uint8_t sc1, m1, sc2, m2;
            loza_get_scale_min_k4(2 * c, x[i].scales, &sc1, &m1);
            loza_get_scale_min_k4(2 * c + 1, x[i].scales, &sc2, &m2);
            const uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
            int32_t s1 = 0, s2 = 0;
            for (int l = 0; l < 32; l++) {
                s1 += ((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) * a[l];
                s2 += ((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) * a[l + 32];
            }
            sumi += sc1 * s1 + sc2 * s2;
            summ += m1 * (y[i].bsums[4 * c] + y[i].bsums[4 * c + 1]) + m2 * (y[i].bsums[4 * c + 2] + y[i].bsums[4 * c + 3]);
        }
        sum += LOZA_H2F(x[i].d) * y[i].d * (float)sumi - LOZA_H2F(x[i].dmin) * y[i].d * (float)summ;
    }
    return sum;
}

static float dot_q6_K(const block_q6_K *x, const block_q8_K *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales, *a = y[i].qs;
        int32_t sumi = 0;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, a += 128) {
            int32_t s[8] = {0};  // per 16-element sub-block: l/16 + {0, 2, 4, 6}
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                s[is + 0] += q1 * a[l];
                s[is + 2] += q2 * a[l + 32];
                s[is + 4] += q3 * a[l + 64];
                s[is + 6] += q4 * a[l + 96];
            }
            for (int k = 0; k < 8; k++) sumi += sc[k] * s[k];
        }
        sum += LOZA_H2F(x[i].d) * y[i].d * (float)sumi;
    }
    return sum;
}

static float dot_f32(const float *x, const float *y, int64_t n) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    return sum;
}

float loza_vec_dot_ref(int type, const void *row, const void *act, int64_t n) {
    const int64_t be = loza_block_elems(type);
    if (be == 0 || n <= 0 || n % be != 0) return 0.0f;
    const int64_t nb = n / be;
    switch (type) {
    case LOZA_TYPE_F32: return dot_f32(row, act, n);
    case LOZA_TYPE_F16: {
        const uint16_t *h = row;
        const float *y = act;
        float sum = 0.0f;
        for (int64_t i = 0; i < n; i++) sum += loza_half_to_float(h[i]) * y[i];
        return sum;
    }
    case LOZA_TYPE_BF16: {
        const uint16_t *h = row;
        const float *y = act;
        float sum = 0.0f;
        for (int64_t i = 0; i < n; i++) sum += loza_bf16_bits_to_float(h[i]) * y[i];
        return sum;
    }
    case LOZA_TYPE_Q4_0: return dot_q4_0(row, act, nb);
    case LOZA_TYPE_Q4_1: return dot_q4_1(row, act, nb);
    case LOZA_TYPE_Q5_0: return dot_q5_0(row, act, nb);
    case LOZA_TYPE_Q5_1: return dot_q5_1(row, act, nb);
    case LOZA_TYPE_Q8_0: return dot_q8_0(row, act, nb);
    case LOZA_TYPE_Q4_K: return dot_q4_K(row, act, nb);
    case LOZA_TYPE_Q5_K: return dot_q5_K(row, act, nb);
    case LOZA_TYPE_Q6_K: return dot_q6_K(row, act, nb);
    default: return 0.0f;
    }
}

float loza_vec_dot_f32_ref(int type, const void *row, const float *x, int64_t n) {
    const int64_t be = loza_block_elems(type);
    if (be == 0 || n <= 0 || n % be != 0) return 0.0f;
    // Dequantize one block at a time into a small buffer, accumulate in double for an accurate reference.
    float buf[QK_K];
    const int64_t bb = loza_block_bytes(type);
    const int64_t chunk_elems = be == 1 ? QK_K : be;
    const uint8_t *p = row;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i += chunk_elems) {
        const int64_t m = n - i < chunk_elems ? n - i : chunk_elems;
        loza_dequantize_row_ref(type, p + (i / be) * bb, buf, m);
        for (int64_t j = 0; j < m; j++) sum += (double)buf[j] * (double)x[i + j];
    }
    return (float)sum;
}
