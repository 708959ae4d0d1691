#ifndef LOZA_SIMD_H
#define LOZA_SIMD_H
// Internal: the function-pointer table the dispatching entry points go through, and the
// installers each SIMD file provides. A NULL entry means "use the scalar reference".
#include <stddef.h>
#include <stdint.h>
#include "loza_kernels.h"

#define LZ_NTYPES 31
#define LOZA_ATTN_BLOCK 32  // keys converted to f32 at a time by the attention kernels  // one past the largest loza_type (LOZA_TYPE_BF16 = 30)

typedef void (*lz_dequant_fn)(const void *src, float *dst, int64_t n);
typedef void (*lz_quant_act_fn)(const float *x, void *dst, int64_t n);
typedef float (*lz_vec_dot_fn)(const void *row, const void *act, int64_t n);
// y[i] = dot(row i, act) for i in [0, nrows); rows are `stride` bytes apart. Must give, for
// every row, exactly the bits the type's lz_vec_dot_fn gives (row grouping never changes results).
typedef void (*lz_matvec_fn)(const void *w, size_t stride, const void *act, float *y,
                             int64_t nrows, int64_t n);

// y[j * ystride + r] = dot(row r, act j) for j < nact, r < nrows: exactly lz_matvec_fn's bits per
// output, the row read once for all activations (verifying several guessed tokens in one pass).
typedef void (*lz_matvec_multi_fn)(const void *w, size_t stride, const void *const *acts, int64_t nact,
                                   float *y, int64_t ystride, int64_t nrows, int64_t n);

struct lz_kernels {
    lz_dequant_fn dequant[LZ_NTYPES];      // by weight type
    lz_quant_act_fn quant_act[LZ_NTYPES];  // by activation type (Q8_0, Q8_1, Q8_K)
    lz_vec_dot_fn vec_dot[LZ_NTYPES];      // by weight type
    lz_matvec_fn matvec[LZ_NTYPES];        // by weight type; NULL = loop over vec_dot
    lz_matvec_multi_fn matvec_multi[LZ_NTYPES];  // by weight type; NULL = matvec per activation
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    void (*axpy_f32)(float a, const float *x, float *y, int64_t n);
    float (*dot_f16_f32)(const uint16_t *k, const float *q, int64_t n);
    void (*axpy_f16)(float a, const uint16_t *x, float *y, int64_t n);
    void (*dot_f16_f32_rows)(const uint16_t *k, size_t stride, const float *q, float *scores,
                             int64_t nkeys, int64_t n);
    void (*axpy_f16_rows)(const float *w, const uint16_t *v, size_t stride, float *y, int64_t nkeys,
                          int64_t n);
    // Attention (ref_attention.c, x86_attn_impl.h); NULL = the reference.
    void (*attn_partial)(const float *q, int64_t nq, int64_t hd, float scale, const loza_kv_span *spans,
                         int64_t nspans, int64_t j0, int64_t j1, float *work, float *m, float *l, float *o);
    void (*attn_softmax_tile)(float *S, int64_t rows, int64_t cols, int64_t lds, float *m, float *l, float *O,
                              int64_t ldo, int64_t dv);
    void (*exp_f32)(const float *x, float *y, int64_t n);
    // Quantized GEMM over one panel of 16 unpacked rows (gemm.h); NULL = the scalar reference.
    void (*gemm_panel)(const void *panel, int bw, int has_min, int off, int64_t n, const void *act,
                       size_t act_stride, int64_t ntok, float *y, int64_t ldy, int nrows);
};

// Scalar f32 helpers (attention, norms): the reference the SIMD variants are checked against.
float lz_dot_f32_scalar(const float *a, const float *b, int64_t n);
void lz_axpy_f32_scalar(float a, const float *x, float *y, int64_t n);
float lz_dot_f16_f32_scalar(const uint16_t *k, const float *q, int64_t n);
void lz_axpy_f16_scalar(float a, const uint16_t *x, float *y, int64_t n);
void lz_dot_f16_f32_rows_scalar(const uint16_t *k, size_t stride, const float *q, float *scores,
                                int64_t nkeys, int64_t n);
void lz_axpy_f16_rows_scalar(const float *w, const uint16_t *v, size_t stride, float *y, int64_t nkeys,
                             int64_t n);

// Each installer overwrites the entries it has a faster variant for; levels are applied in order
// (scalar <- AVX2 <- AVX-512 <- AVX-512 VNNI), so a level inherits what it does not override.
#if defined(__x86_64__) || defined(_M_X64)
void lz_install_avx2(struct lz_kernels *k);
void lz_install_avx2_quant(struct lz_kernels *k);  // activation quantizers, dequantizers
void lz_install_avx512(struct lz_kernels *k);
void lz_install_avx512vnni(struct lz_kernels *k);
void lz_install_attn_avx2(struct lz_kernels *k);    // x86_avx2_attn.c
void lz_install_attn_avx512(struct lz_kernels *k);  // x86_avx512_attn.c
#endif

#endif
