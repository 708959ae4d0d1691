// Scalar f32/f16 vector helpers (attention, norms): plain left-to-right loops, the reference the
// SIMD variants of dispatch are tested against.
#include "loza_kernels.h"
#include "simd.h"

float lz_dot_f32_scalar(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void lz_axpy_f32_scalar(float a, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

float lz_dot_f16_f32_scalar(const uint16_t *k, const float *q, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += loza_f16_to_f32(k[i]) * q[i];
    return s;
}

void lz_axpy_f16_scalar(float a, const uint16_t *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * loza_f16_to_f32(x[i]);
}

void lz_dot_f16_f32_rows_scalar(const uint16_t *k, size_t stride, const float *q, float *scores,
                                int64_t nkeys, int64_t n) {
    for (int64_t j = 0; j < nkeys; j++) scores[j] = lz_dot_f16_f32_scalar(k + (size_t)j * stride, q, n);
}

void lz_axpy_f16_rows_scalar(const float *w, const uint16_t *v, size_t stride, float *y, int64_t nkeys,
                             int64_t n) {
    for (int64_t j = 0; j < nkeys; j++) lz_axpy_f16_scalar(w[j], v + (size_t)j * stride, y, n);
}
