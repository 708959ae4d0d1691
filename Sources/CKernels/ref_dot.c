// Scalar reference dot products: weight row x activations quantized by loza_quantize_act_ref.
// Each block's integer dot product is exact; it is scaled and summed in float in exactly the order of
// ggml's generic (scalar) kernels, so the results are ggml's generic results bit for bit.
#include "blocks.h"

static float dot_q4_0(const block_q4_0 *x, const block_q8_0 *y, int64_t nb) {
    float sum = 0.0f;
    for (int64_t i = 0; i < nb; i++) {
        int sumi = 0;
        for (int j = 0; j < QK4_0 / 2; j++) {
            sumi += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j];
            sumi += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + QK4_0 / 2];
        }
        sum += (float)sumi * LOZA_H2F(x[i].d) * LOZA_H2F(y[i].d);
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
        sum += (LOZA_H2F(x[i].d) * LOZA_H2F(y[i].d)) * (float)sumi;
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

// K-quants: ggml's generic kernels keep 8 integer lanes (lane = element index mod 8) per super-block,
// scale each lane to float and add it to 8 float lane sums; the mins term (q4_K/q5_K, from the q8_K
// bsums) goes straight into the total, and the lane sums are added last. We do the same, so the
// results are ggml's bit for bit. `q` holds the 256 weight levels in element order and `sc16` the
// scale of each 16 elements.
static void k_lanes(const int8_t *q, const int *sc16, const int8_t *a, int32_t lanes[8]) {
    for (int l = 0; l < 8; l++) lanes[l] = 0;
    for (int e = 0; e < QK_K; e++) lanes[e & 7] += sc16[e >> 4] * (q[e] * a[e]);
}

// Levels 0..31 (q4_K: 0..15) in element order, and the per-16 scales and mins sum of a q4_K/q5_K block.
static int32_t unpack_k4(const uint8_t *scales, const uint8_t *qs, const uint8_t *qh, const int16_t *bsums,
                         int8_t q[QK_K], int sc16[16]) {
    int32_t summ = 0;
    for (int s = 0; s < 8; s++) {
        uint8_t sc, m;
        loza_get_scale_min_k4(s, scales, &sc, &m);
        sc16[2 * s] = sc16[2 * s + 1] = sc;
        summ += m * (bsums[2 * s] + bsums[2 * s + 1]);
    }
    for (int c = 0; c < 4; c++) {
        for (int l = 0; l < 32; l++) {
            int lo = qs[32 * c + l] & 0x0F, hi = qs[32 * c + l] >> 4;
            if (qh) {
                lo += (qh[l] >> (2 * c) & 1) << 4;
                hi += (qh[l] >> (2 * c + 1) & 1) << 4;
            }
            q[64 * c + l] = (int8_t)lo;
            q[64 * c + 32 + l] = (int8_t)hi;
        }
    }
    return summ;
}

static float dot_k4(const uint8_t *base, int64_t block_bytes, int five_bit, const block_q8_K *y, int64_t nb) {
    float sums[8] = {0}, sumf = 0.0f;
    int8_t q[QK_K];
    int sc16[16];
    int32_t lanes[8];
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *b = base + i * block_bytes;
        loza_half d16, dmin16;
        memcpy(&d16, b, 2);
        memcpy(&dmin16, b + 2, 2);
        const uint8_t *scales = b + 4;
        const uint8_t *qh = five_bit ? b + 4 + K_SCALE_SIZE : NULL;
        const uint8_t *qs = b + 4 + K_SCALE_SIZE + (five_bit ? QK_K / 8 : 0);
        const int32_t summ = unpack_k4(scales, qs, qh, y[i].bsums, q, sc16);
        k_lanes(q, sc16, y[i].qs, lanes);
        const float d = LOZA_H2F(d16) * y[i].d;
        for (int l = 0; l < 8; l++) sums[l] += d * (float)lanes[l];
        const float dmin = LOZA_H2F(dmin16) * y[i].d;
        sumf -= dmin * (float)summ;
    }
    for (int l = 0; l < 8; l++) sumf += sums[l];
    return sumf;
}

static float dot_q4_K(const block_q4_K *x, const block_q8_K *y, int64_t nb) {
    return dot_k4((const uint8_t *)x, sizeof(block_q4_K), 0, y, nb);
}

static float dot_q5_K(const block_q5_K *x, const block_q8_K *y, int64_t nb) {
    return dot_k4((const uint8_t *)x, sizeof(block_q5_K), 1, y, nb);
}

static float dot_q6_K(const block_q6_K *x, const block_q8_K *y, int64_t nb) {
    float sums[8] = {0}, sumf = 0.0f;
    int8_t q[QK_K];
    int sc16[16];
    int32_t lanes[8];
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        for (int h = 0; h < 2; h++, ql += 64, qh += 32) {
            int8_t *qq = q + 128 * h;
            for (int l = 0; l < 32; l++) {
                qq[l] = (int8_t)(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
                qq[l + 32] = (int8_t)(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
                qq[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                qq[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
            }
        }
        for (int s = 0; s < 16; s++) sc16[s] = x[i].scales[s];
        k_lanes(q, sc16, y[i].qs, lanes);
        const float d = LOZA_H2F(x[i].d) * y[i].d;
        for (int l = 0; l < 8; l++) sums[l] += d * (float)lanes[l];
    }
    for (int l = 0; l < 8; l++) sumf += sums[l];
    return sumf;
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
