// Quantized GEMM for prefill: activation packing, weight unpacking into panels, the scalar reference
// kernel, and the dispatching entry point (a SIMD panel kernel when the ISA level has one).
#include <math.h>
#include "blocks.h"
#include "gemm.h"
#include "simd.h"

lz_gemm_kind lz_gemm_kind_of(int type) {
    switch (type) {
    case LOZA_TYPE_Q4_0: return (lz_gemm_kind){32, 8, 0};
    case LOZA_TYPE_Q4_1: return (lz_gemm_kind){32, 0, 1};
    case LOZA_TYPE_Q5_0: return (lz_gemm_kind){32, 16, 0};
    case LOZA_TYPE_Q5_1: return (lz_gemm_kind){32, 0, 1};
    case LOZA_TYPE_Q8_0: return (lz_gemm_kind){32, 128, 0};
    case LOZA_TYPE_Q4_K: return (lz_gemm_kind){32, 0, 1};
    case LOZA_TYPE_Q5_K: return (lz_gemm_kind){32, 0, 1};
    case LOZA_TYPE_Q6_K: return (lz_gemm_kind){16, 32, 0};
    default: return (lz_gemm_kind){0, 0, 0};
    }
}

int loza_gemm_type_supported(int type) { return lz_gemm_kind_of(type).bw != 0; }

size_t loza_gemm_act_stride(int64_t n) { return ((size_t)(n + n / 2) + 63) & ~(size_t)63; }

void loza_gemm_quantize_act(const float *x, void *dst, int64_t n) {
    uint8_t *base = dst;
    int8_t *q = dst;
    float *d = (float *)(base + n), *dsum = (float *)(base + n + n / 8);
    int32_t *sum16 = (int32_t *)(base + n + n / 4);
    for (int64_t b = 0; b < n / 32; b++) {
        const float *xb = x + 32 * b;
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float a = fabsf(xb[j]);
            amax = a > amax ? a : amax;
        }
        const float db = amax / 127.0f;
        const float id = db != 0.0f ? 1.0f / db : 0.0f;
        int32_t s[2] = {0, 0};
        for (int h = 0; h < 2; h++) {
            int32_t sum = 0;
            for (int j = 16 * h; j < 16 * h + 16; j++) {
                // roundf (halfway away from zero) without the libm call, so the loop vectorizes:
                // v - trunc(v) is exact.
                const float v = xb[j] * id;
                int t = (int)v;
                const float fr = v - (float)t;
                t += (fr >= 0.5f) - (fr <= -0.5f);
                q[32 * b + j] = (int8_t)t;
                sum += t;
            }
            s[h] = sum;
        }
        d[b] = db;
        dsum[b] = db * (float)(s[0] + s[1]);
        sum16[2 * b] = s[0];
        sum16[2 * b + 1] = s[1];
    }
}

// One row -> unsigned q[n] (value = scale * (q - off) - min), scale[n/bw], min[n/bw].
static void unpack_row(int type, const void *row, int64_t n, uint8_t *u, float *sc, float *mn) {
    switch (type) {
    case LOZA_TYPE_Q4_0: {
        const block_q4_0 *x = row;
        for (int64_t i = 0; i < n / 32; i++, u += 32) {
            for (int j = 0; j < 16; j++) { u[j] = x[i].qs[j] & 15; u[j + 16] = x[i].qs[j] >> 4; }
            sc[i] = LOZA_H2F(x[i].d);
        }
        break;
    }
    case LOZA_TYPE_Q4_1: {
        const block_q4_1 *x = row;
        for (int64_t i = 0; i < n / 32; i++, u += 32) {
            for (int j = 0; j < 16; j++) { u[j] = x[i].qs[j] & 15; u[j + 16] = x[i].qs[j] >> 4; }
            sc[i] = LOZA_H2F(x[i].d);
            mn[i] = -LOZA_H2F(x[i].m);
        }
        break;
    }
    case LOZA_TYPE_Q5_0: {
        const block_q5_0 *x = row;
        for (int64_t i = 0; i < n / 32; i++, u += 32) {
            uint32_t qh;
            memcpy(&qh, x[i].qh, 4);
            for (int j = 0; j < 16; j++) {
                u[j] = (uint8_t)((x[i].qs[j] & 15) | (((qh >> j) & 1u) << 4));
                u[j + 16] = (uint8_t)((x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
            }
            sc[i] = LOZA_H2F(x[i].d);
        }
        break;
    }
    case LOZA_TYPE_Q5_1: {
        const block_q5_1 *x = row;
        for (int64_t i = 0; i < n / 32; i++, u += 32) {
            uint32_t qh;
            memcpy(&qh, x[i].qh, 4);
            for (int j = 0; j < 16; j++) {
                u[j] = (uint8_t)((x[i].qs[j] & 15) | (((qh >> j) & 1u) << 4));
                u[j + 16] = (uint8_t)((x[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
            }
            sc[i] = LOZA_H2F(x[i].d);
            mn[i] = -LOZA_H2F(x[i].m);
        }
        break;
    }
    case LOZA_TYPE_Q8_0: {
        const block_q8_0 *x = row;
        for (int64_t i = 0; i < n / 32; i++, u += 32) {
            for (int j = 0; j < 32; j++) u[j] = (uint8_t)(x[i].qs[j] + 128);
            sc[i] = LOZA_H2F(x[i].d);
        }
        break;
    }
    case LOZA_TYPE_Q4_K:
    case LOZA_TYPE_Q5_K: {
        const int five = type == LOZA_TYPE_Q5_K;
        const size_t bytes = five ? sizeof(block_q5_K) : sizeof(block_q4_K);
        for (int64_t i = 0; i < n / QK_K; i++) {
            const uint8_t *blk = (const uint8_t *)row + (size_t)i * bytes;
            uint16_t hd, hm;
            memcpy(&hd, blk, 2);
            memcpy(&hm, blk + 2, 2);
            const uint8_t *scales = blk + 4;
            const uint8_t *qh = five ? blk + offsetof(block_q5_K, qh) : NULL;
            const uint8_t *qs = blk + (five ? offsetof(block_q5_K, qs) : offsetof(block_q4_K, qs));
            const float d = LOZA_H2F(hd), dmin = LOZA_H2F(hm);
            for (int c = 0; c < 4; c++) {
                for (int l = 0; l < 32; l++) {
                    int lo = qs[32 * c + l] & 15, hi = qs[32 * c + l] >> 4;
                    if (five) {
                        lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                        hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
                    }
                    u[64 * c + l] = (uint8_t)lo;
                    u[64 * c + 32 + l] = (uint8_t)hi;
                }
                for (int s = 0; s < 2; s++) {
                    uint8_t scv, mv;
                    loza_get_scale_min_k4(2 * c + s, scales, &scv, &mv);
                    sc[8 * i + 2 * c + s] = d * (float)scv;
                    mn[8 * i + 2 * c + s] = dmin * (float)mv;
                }
            }
            u += QK_K;
        }
        break;
    }
    case LOZA_TYPE_Q6_K: {
        const block_q6_K *x = row;
        for (int64_t i = 0; i < n / QK_K; i++, u += QK_K) {
            const float d = LOZA_H2F(x[i].d);
            for (int h = 0; h < 2; h++) {
                const uint8_t *ql = x[i].ql + 64 * h, *qh = x[i].qh + 32 * h;
                uint8_t *o = u + 128 * h;
                for (int l = 0; l < 32; l++) {
                    o[l] = (uint8_t)((ql[l] & 15) | ((qh[l] & 3) << 4));
                    o[l + 32] = (uint8_t)((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4));
                    o[l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                    o[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
                }
            }
            for (int j = 0; j < 16; j++) sc[16 * i + j] = d * (float)x[i].scales[j];
        }
        break;
    }
    default: break;
    }
}

size_t loza_gemm_scratch_bytes(int64_t n) {
    return lz_gemm_panel_bytes(n) + (size_t)n + 2 * 4 * (size_t)(n / 16) + 64;
}

// Rows [r, r + nrows) (nrows <= 16) into a panel; missing rows are zero weights.
static void build_panel(int type, lz_gemm_kind k, const uint8_t *w, size_t stride, int64_t r, int nrows,
                        int64_t n, uint8_t *panel, uint8_t *tmp) {
    const int64_t nbw = n / k.bw, steps = k.bw / 4;
    float *psc = (float *)(panel + 16 * n), *pmn = psc + 16 * nbw;
    uint8_t *u = tmp;
    float *sc = (float *)(tmp + n), *mn = sc + n / 16;
    for (int rr = 0; rr < LZ_GEMM_ROWS; rr++) {
        if (rr < nrows) {
            unpack_row(type, w + (size_t)(r + rr) * stride, n, u, sc, mn);
            if (!k.has_min) memset(mn, 0, sizeof(float) * (size_t)nbw);
        } else {
            memset(u, k.off, (size_t)n);
            memset(sc, 0, sizeof(float) * (size_t)nbw);
            memset(mn, 0, sizeof(float) * (size_t)nbw);
        }
        const int g = rr / 8, lane = rr % 8;
        for (int64_t b = 0; b < nbw; b++) {
            uint8_t *dst = panel + ((size_t)(b * 2 + g) * (size_t)steps) * 32 + 4 * lane;
            for (int64_t s = 0; s < steps; s++) memcpy(dst + 32 * s, u + b * k.bw + 4 * s, 4);
            psc[b * 16 + rr] = sc[b];
            pmn[b * 16 + rr] = mn[b];
        }
    }
}

// The reference: per (row, token), in sub-block order, the operations the header describes.
static void panel_ref(const void *panel_v, int bw, int has_min, int off, int64_t n, const void *act_v,
                      size_t act_stride, int64_t ntok, float *y, int64_t ldy, int nrows) {
    const uint8_t *panel = panel_v;
    const int64_t nbw = n / bw, steps = bw / 4;
    const float *psc = (const float *)(panel + 16 * n), *pmn = psc + 16 * nbw;
    for (int64_t t = 0; t < ntok; t++) {
        const uint8_t *a = (const uint8_t *)act_v + (size_t)t * act_stride;
        const int8_t *aq = (const int8_t *)a;
        const float *ad = lz_act_d(a, n), *ads = lz_act_dsum(a, n);
        const int32_t *as16 = lz_act_sum16(a, n);
        for (int rr = 0; rr < nrows; rr++) {
            const int g = rr / 8, lane = rr % 8;
            float f = 0.0f;
            for (int64_t b = 0; b < nbw; b++) {
                const int32_t s = bw == 32 ? as16[2 * b] + as16[2 * b + 1] : as16[b];
                int32_t ia = -off * s;
                const uint8_t *wq = panel + ((size_t)(b * 2 + g) * (size_t)steps) * 32 + 4 * lane;
                for (int64_t st = 0; st < steps; st++)
                    for (int j = 0; j < 4; j++) ia += (int32_t)wq[32 * st + j] * (int32_t)aq[b * bw + 4 * st + j];
                const float p = psc[b * 16 + rr] * ad[(b * bw) / 32];
                f = fmaf((float)ia, p, f);
                if (has_min) f = fmaf(-pmn[b * 16 + rr], ads[b], f);
            }
            y[t * ldy + rr] = f;
        }
    }
}

typedef void (*lz_gemm_panel_fn)(const void *, int, int, int, int64_t, const void *, size_t, int64_t, float *,
                                 int64_t, int);

static void gemm_run(lz_gemm_panel_fn fn, int type, const void *w, size_t row_stride, int64_t r0, int64_t r1,
                     int64_t n, const void *act, size_t act_stride, int64_t ntok, float *y, int64_t ldy,
                     void *scratch) {
    const lz_gemm_kind k = lz_gemm_kind_of(type);
    if (k.bw == 0 || n % QK_K != 0 && (type == LOZA_TYPE_Q4_K || type == LOZA_TYPE_Q5_K || type == LOZA_TYPE_Q6_K) ||
        n % 32 != 0)
        return;
    uint8_t *panel = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    uint8_t *tmp = panel + lz_gemm_panel_bytes(n);
    for (int64_t r = r0; r < r1; r += LZ_GEMM_ROWS) {
        const int nrows = (int)(r1 - r < LZ_GEMM_ROWS ? r1 - r : LZ_GEMM_ROWS);
        build_panel(type, k, w, row_stride, r, nrows, n, panel, tmp);
        fn(panel, k.bw, k.has_min, k.off, n, act, act_stride, ntok, y + r, ldy, nrows);
    }
}

void loza_gemm_ref(int type, const void *w, size_t row_stride, int64_t r0, int64_t r1, int64_t n,
                   const void *act, size_t act_stride, int64_t ntok, float *y, int64_t ldy, void *scratch) {
    gemm_run(panel_ref, type, w, row_stride, r0, r1, n, act, act_stride, ntok, y, ldy, scratch);
}

void lz_gemm_dispatch(void *fn, int type, const void *w, size_t row_stride, int64_t r0, int64_t r1, int64_t n,
                      const void *act, size_t act_stride, int64_t ntok, float *y, int64_t ldy, void *scratch) {
    gemm_run(fn ? (lz_gemm_panel_fn)fn : panel_ref, type, w, row_stride, r0, r1, n, act, act_stride, ntok, y,
             ldy, scratch);
}
