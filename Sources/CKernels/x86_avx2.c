// AVX2 (+FMA, F16C) variants. Every function carries its target attribute; the file is compiled
// for generic x86-64 and only reached when dispatch.c has seen AVX2+FMA+F16C enabled by the OS.
#if defined(__x86_64__) || defined(_M_X64)
#include "loza_kernels.h"
#include "simd.h"
#include <immintrin.h>

#define LZ_AVX2 __attribute__((target("avx2,fma,f16c")))

// The quantized dot products (x86_dot_impl.h) at this level; its helpers serve the f32 code below.
#define LZ_FN LZ_AVX2
#define LZ_SUF(name) name##_avx2
#define LZ_AVX512 0
#define LZ_VNNI 0
#include "x86_dot_impl.h"


// --- f32 / f16 helpers --------------------------------------------------------------------------

LZ_AVX2 static float dot_f32_avx2(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum_ps_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

LZ_AVX2 static void axpy_f32_avx2(float a, const float *x, float *y, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

LZ_AVX2 static float dot_f16_f32_avx2(const uint16_t *k, const float *q, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(load_f16_avx2(k + i), _mm256_loadu_ps(q + i), s0);
        s1 = _mm256_fmadd_ps(load_f16_avx2(k + i + 8), _mm256_loadu_ps(q + i + 8), s1);
        s2 = _mm256_fmadd_ps(load_f16_avx2(k + i + 16), _mm256_loadu_ps(q + i + 16), s2);
        s3 = _mm256_fmadd_ps(load_f16_avx2(k + i + 24), _mm256_loadu_ps(q + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_f16_avx2(k + i), _mm256_loadu_ps(q + i), s0);
    float s = hsum_ps_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += loza_f16_to_f32(k[i]) * q[i];
    return s;
}

LZ_AVX2 static void axpy_f16_avx2(float a, const uint16_t *x, float *y, int64_t n) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_f16_avx2(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * loza_f16_to_f32(x[i]);
}

// One dot per key, two accumulators over 16-element steps; the scalar tail in element order.
LZ_AVX2 static void dot_f16_f32_rows_avx2(const uint16_t *k, size_t stride, const float *q, float *scores,
                                          int64_t nkeys, int64_t n) {
    for (int64_t j = 0; j < nkeys; j++) {
        const uint16_t *kj = k + (size_t)j * stride;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            s0 = _mm256_fmadd_ps(load_f16_avx2(kj + i), _mm256_loadu_ps(q + i), s0);
            s1 = _mm256_fmadd_ps(load_f16_avx2(kj + i + 8), _mm256_loadu_ps(q + i + 8), s1);
        }
        for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(load_f16_avx2(kj + i), _mm256_loadu_ps(q + i), s0);
        float s = hsum_ps_avx2(_mm256_add_ps(s0, s1));
        for (; i < n; i++) s += loza_f16_to_f32(kj[i]) * q[i];
        scores[j] = s;
    }
}

// y is kept in registers 32 elements at a time while every key's row adds into it (key order).
LZ_AVX2 static void axpy_f16_rows_avx2(const float *w, const uint16_t *v, size_t stride, float *y,
                                       int64_t nkeys, int64_t n) {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
        __m256 y2 = _mm256_loadu_ps(y + i + 16), y3 = _mm256_loadu_ps(y + i + 24);
        for (int64_t j = 0; j < nkeys; j++) {
            const uint16_t *vj = v + (size_t)j * stride + i;
            const __m256 a = _mm256_set1_ps(w[j]);
            y0 = _mm256_fmadd_ps(a, load_f16_avx2(vj), y0);
            y1 = _mm256_fmadd_ps(a, load_f16_avx2(vj + 8), y1);
            y2 = _mm256_fmadd_ps(a, load_f16_avx2(vj + 16), y2);
            y3 = _mm256_fmadd_ps(a, load_f16_avx2(vj + 24), y3);
        }
        _mm256_storeu_ps(y + i, y0);
        _mm256_storeu_ps(y + i + 8, y1);
        _mm256_storeu_ps(y + i + 16, y2);
        _mm256_storeu_ps(y + i + 24, y3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 y0 = _mm256_loadu_ps(y + i);
        for (int64_t j = 0; j < nkeys; j++)
            y0 = _mm256_fmadd_ps(_mm256_set1_ps(w[j]), load_f16_avx2(v + (size_t)j * stride + i), y0);
        _mm256_storeu_ps(y + i, y0);
    }
    for (; i < n; i++)
        for (int64_t j = 0; j < nkeys; j++) y[i] += w[j] * loza_f16_to_f32(v[(size_t)j * stride + i]);
}

void lz_install_avx2(struct lz_kernels *k) {
    install_dot_avx2(k);
    lz_install_avx2_quant(k);
    k->dot_f32 = dot_f32_avx2;
    k->axpy_f32 = axpy_f32_avx2;
    k->dot_f16_f32 = dot_f16_f32_avx2;
    k->axpy_f16 = axpy_f16_avx2;
    k->dot_f16_f32_rows = dot_f16_f32_rows_avx2;
    k->axpy_f16_rows = axpy_f16_rows_avx2;
}
#endif
