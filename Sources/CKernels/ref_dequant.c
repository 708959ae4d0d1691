// Scalar reference dequantization of one row, for every weight type loza supports.
#include "blocks.h"

static void dq_q4_0(const block_q4_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK4_0) {
        const float d = LOZA_H2F(x[i].d);
        for (int j = 0; j < QK4_0 / 2; j++) {
            y[j] = (float)((x[i].qs[j] & 0x0F) - 8) * d;
            y[j + QK4_0 / 2] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void dq_q4_1(const block_q4_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK4_1) {
        const float d = LOZA_H2F(x[i].d), m = LOZA_H2F(x[i].m);
        for (int j = 0; j < QK4_1 / 2; j++) {
            y[j] = (float)(x[i].qs[j] & 0x0F) * d + m;
            y[j + QK4_1 / 2] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}

static void dq_q5_0(const block_q5_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK5_0) {
        const float d = LOZA_H2F(x[i].d);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < QK5_0 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            y[j] = (float)(((x[i].qs[j] & 0x0F) | h0) - 16) * d;
            y[j + QK5_0 / 2] = (float)(((x[i].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

static void dq_q5_1(const block_q5_1 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK5_1) {
        const float d = LOZA_H2F(x[i].d), m = LOZA_H2F(x[i].m);
        uint32_t qh;
        memcpy(&qh, x[i].qh, 4);
        for (int j = 0; j < QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1u) << 4;
            const int h1 = (int)((qh >> (j + 16)) & 1u) << 4;
            y[j] = (float)((x[i].qs[j] & 0x0F) | h0) * d + m;
            y[j + QK5_1 / 2] = (float)((x[i].qs[j] >> 4) | h1) * d + m;
        }
    }
}

static void dq_q8_0(const block_q8_0 *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK8_0) {
        const float d = LOZA_H2F(x[i].d);
        for (int j = 0; j < QK8_0; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

static void dq_q4_K(const block_q4_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = LOZA_H2F(x[i].d), dmin = LOZA_H2F(x[i].dmin);
        const uint8_t *q = x[i].qs;
        for (int c = 0; c < 4; c++, q += 32) {  // 4 chunks of 64 = two sub-blocks sharing 32 bytes
            uint8_t sc, m;
            loza_get_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            loza_get_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)(q[l] >> 4) - m2;
        }
    }
}

static void dq_q5_K(const block_q5_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = LOZA_H2F(x[i].d), dmin = LOZA_H2F(x[i].dmin);
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        for (int c = 0; c < 4; c++, ql += 32) {
            uint8_t sc, m;
            loza_get_scale_min_k4(2 * c, x[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            loza_get_scale_min_k4(2 * c + 1, x[i].scales, &sc, &m);
            const float d2 = d * (float)sc, m2 = dmin * (float)m;
            const uint8_t u1 = (uint8_t)(1u << (2 * c)), u2 = (uint8_t)(2u << (2 * c));
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        }
    }
}

static void dq_q6_K(const block_q6_K *x, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = LOZA_H2F(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int h = 0; h < 2; h++, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * (float)sc[is] * (float)q1;
                y[l + 32] = d * (float)sc[is + 2] * (float)q2;
                y[l + 64] = d * (float)sc[is + 4] * (float)q3;
                y[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}

void loza_dequantize_row_ref(int type, const void *src, float *dst, int64_t n) {
    const int64_t be = loza_block_elems(type);
    if (be == 0 || n <= 0 || n % be != 0) return;
    const int64_t nb = n / be;
    switch (type) {
    case LOZA_TYPE_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case LOZA_TYPE_F16: {
        const uint16_t *h = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = loza_half_to_float(h[i]);
        break;
    }
    case LOZA_TYPE_BF16: {
        const uint16_t *h = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++) dst[i] = loza_bf16_bits_to_float(h[i]);
        break;
    }
    case LOZA_TYPE_Q4_0: dq_q4_0(src, dst, nb); break;
    case LOZA_TYPE_Q4_1: dq_q4_1(src, dst, nb); break;
    case LOZA_TYPE_Q5_0: dq_q5_0(src, dst, nb); break;
    case LOZA_TYPE_Q5_1: dq_q5_1(src, dst, nb); break;
    case LOZA_TYPE_Q8_0: dq_q8_0(src, dst, nb); break;
    case LOZA_TYPE_Q4_K: dq_q4_K(src, dst, nb); break;
    case LOZA_TYPE_Q5_K: dq_q5_K(src, dst, nb); break;
    case LOZA_TYPE_Q6_K: dq_q6_K(src, dst, nb); break;
    case LOZA_TYPE_Q8_1: {  // activations: x = d * q
        const block_q8_1 *x = src;
        for (int64_t i = 0; i < nb; i++) {
            const float d = LOZA_H2F(x[i].d);
            for (int j = 0; j < QK8_1; j++) dst[i * QK8_1 + j] = (float)x[i].qs[j] * d;
        }
        break;
    }
    case LOZA_TYPE_Q8_K: {
        const block_q8_K *x = src;
        for (int64_t i = 0; i < nb; i++)
            for (int j = 0; j < QK_K; j++) dst[i * QK_K + j] = x[i].d * (float)x[i].qs[j];
        break;
    }
    default: break;
    }
}
