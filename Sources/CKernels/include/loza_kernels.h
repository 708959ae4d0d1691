#ifndef LOZA_KERNELS_H
#define LOZA_KERNELS_H
// Quantized kernels for loza. Every kernel has a scalar reference (`*_ref`) beside the SIMD variants;
// the unsuffixed entry points dispatch at run time (CPUID) to the best variant the CPU supports.
// Type numbers follow ggml's `ggml_type` so they can be taken straight from a GGUF tensor table.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum loza_type {
    LOZA_TYPE_F32  = 0,
    LOZA_TYPE_F16  = 1,
    LOZA_TYPE_Q4_0 = 2,
    LOZA_TYPE_Q4_1 = 3,
    LOZA_TYPE_Q5_0 = 6,
    LOZA_TYPE_Q5_1 = 7,
    LOZA_TYPE_Q8_0 = 8,
    LOZA_TYPE_Q8_1 = 9,   // activations only
    LOZA_TYPE_Q4_K = 12,
    LOZA_TYPE_Q5_K = 13,
    LOZA_TYPE_Q6_K = 14,
    LOZA_TYPE_Q8_K = 15,  // activations only
    LOZA_TYPE_BF16 = 30,
};

enum loza_isa {
    LOZA_ISA_SCALAR = 0,
    LOZA_ISA_AVX2 = 1,        // AVX2 + FMA + F16C
    LOZA_ISA_AVX512 = 2,      // AVX-512 F/BW/VL/DQ
    LOZA_ISA_AVX512VNNI = 3,  // + VNNI
};

// --- block layout ---------------------------------------------------------------------------
// Elements per block (1 for F32/F16/BF16) and bytes per block; 0 for an unsupported type.
int64_t loza_block_elems(int type);
int64_t loza_block_bytes(int type);
// Bytes of a row of `n` elements (n must be a multiple of the block size).
size_t loza_row_bytes(int type, int64_t n);

// --- CPU dispatch -----------------------------------------------------------------------------
// The ISA the dispatching entry points use. Detected once (CPUID + XGETBV); can be lowered
// (never raised above what the CPU has) for tests and benchmarks. Returns the level in force.
// loza_isa_set and loza_isa_active act on the calling thread only (other threads keep theirs);
// LOZA_ISA=scalar|avx2|avx512|avx512vnni in the environment lowers the level of the whole process.
int loza_isa_detected(void);
int loza_isa_active(void);
int loza_isa_set(int isa);
const char *loza_isa_name(int isa);

// --- half precision ---------------------------------------------------------------------------
float loza_f16_to_f32(uint16_t h);
uint16_t loza_f32_to_f16(float f);
float loza_bf16_to_f32(uint16_t h);
uint16_t loza_f32_to_bf16(float f);

// --- dequantization ---------------------------------------------------------------------------
// Dequantize a row of `n` elements of `type` into `dst`.
void loza_dequantize_row_ref(int type, const void *src, float *dst, int64_t n);
void loza_dequantize_row(int type, const void *src, float *dst, int64_t n);

// --- quantization (reference, used by tests to build tensors and for activations) ----------------
// Quantize `n` floats into blocks of `type` (round-to-nearest as ggml's reference quantizers).
void loza_quantize_row_ref(int type, const float *src, void *dst, int64_t n);

// --- activations for integer dot products ---------------------------------------------------------
// The activation type a weight type is dotted with: Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1,
// Q8_K for the K-quants, F32 for F32/F16/BF16 (no quantization).
int loza_vec_dot_type(int weight_type);
// Quantize activations `x` (n floats) into the vec-dot type of `weight_type`; `dst` holds
// loza_row_bytes(loza_vec_dot_type(weight_type), n) bytes.
void loza_quantize_act_ref(int weight_type, const float *x, void *dst, int64_t n);
void loza_quantize_act(int weight_type, const float *x, void *dst, int64_t n);

// --- dot products -------------------------------------------------------------------------------
// Dot product of one weight row (type `type`, n elements) with activations already quantized by
// loza_quantize_act(type, ...). The reference computes in the same order on every call.
float loza_vec_dot_ref(int type, const void *row, const void *act, int64_t n);
float loza_vec_dot(int type, const void *row, const void *act, int64_t n);
// Dot of a weight row with plain f32 activations via dequantization (the F32 reference that
// integer kernels are checked against).
float loza_vec_dot_f32_ref(int type, const void *row, const float *x, int64_t n);

// Matrix-vector product over rows [r0, r1): y[r] = dot(row r of w, act). `row_stride` is the
// bytes between rows. Each output is computed by exactly one call, so splitting rows across
// threads is deterministic.
void loza_matvec(int type, const void *w, size_t row_stride, const void *act, float *y,
                 int64_t r0, int64_t r1, int64_t n);

// Rows [r0, r1) against `nact` activations (each as for loza_matvec): y[j * y_stride + r] for
// activation j and row r, with exactly the bits loza_matvec gives for that activation; the rows are
// read from memory once for all activations (decode of several tokens in one pass).
void loza_matvec_multi(int type, const void *w, size_t row_stride, const void *const *acts, int64_t nact,
                       float *y, int64_t y_stride, int64_t r0, int64_t r1, int64_t n);

// --- f32 helpers used in attention and norms -----------------------------------------------------
float loza_dot_f32(const float *a, const float *b, int64_t n);
// y += a * x
void loza_axpy_f32(float a, const float *x, float *y, int64_t n);
// Dot of f32 `q` with an f16 vector (KV cache in f16).
float loza_dot_f16_f32(const uint16_t *k, const float *q, int64_t n);
// y += a * f16 x
void loza_axpy_f16(float a, const uint16_t *x, float *y, int64_t n);
// The same over many f16 rows at once (attention over a KV cache, no call per key): rows are
// `stride` elements apart. scores[j] = dot(row j of k, q) for j in [0, nkeys);
// y += sum over j in [0, nkeys) of w[j] * (row j of v), accumulated in key order.
void loza_dot_f16_f32_rows(const uint16_t *k, size_t stride, const float *q, float *scores,
                           int64_t nkeys, int64_t n);
void loza_axpy_f16_rows(const float *w, const uint16_t *v, size_t stride, float *y, int64_t nkeys,
                        int64_t n);


// --- attention over an f16 KV cache --------------------------------------------------------------
// One run of consecutive keys of one KV head: `count` K rows and V rows, head_dim elements each,
// back to back (the cache layout [kv_head][slot][head_dim]).
typedef struct loza_kv_span {
    const uint16_t *k;
    const uint16_t *v;
    int64_t count;
} loza_kv_span;

// Floats of `work` loza_attn_partial needs for nq heads over nkeys keys.
int64_t loza_attn_partial_work(int64_t nq, int64_t hd, int64_t nkeys);
// Partial attention of nq query heads (q: [nq][hd], one GQA group sharing this KV head) over keys
// [j0, j1) of the concatenation of `spans`, in one pass over K and one over V:
//   m[g] = max_j s_gj with s_gj = scale * dot(q_g, k_j),  l[g] = sum_j exp(s_gj - m[g]),
//   o[g][:] = sum_j exp(s_gj - m[g]) v_j   (unnormalized).
// An empty range gives m = -inf, l = 0, o = 0. The bits of every output depend only on q, scale and
// the keys j0..j1 in order, not on how they are cut into spans. SIMD levels use a polynomial exp
// (see loza_exp_f32); the reference uses expf.
void loza_attn_partial_ref(const float *q, int64_t nq, int64_t hd, float scale, const loza_kv_span *spans,
                           int64_t nspans, int64_t j0, int64_t j1, float *work, float *m, float *l, float *o);
void loza_attn_partial(const float *q, int64_t nq, int64_t hd, float scale, const loza_kv_span *spans,
                       int64_t nspans, int64_t j0, int64_t j1, float *work, float *m, float *l, float *o);
// Combine `nparts` partials (m, l: [nparts][nq], o: [nparts][nq][hd], in key order) into the
// normalized attention output out[nq][hd]. Scalar, fixed order: the same bits at every ISA level.
void loza_attn_merge(int64_t nq, int64_t hd, int64_t nparts, const float *m, const float *l, const float *o,
                     float *out);
// Online-softmax step of blocked attention (prefill): for each of `rows` score rows S[r][0..cols)
// (row stride lds, -inf = masked) with running max m[r], sum l[r] and output row O[r][0..dv)
// (stride ldo): m' = max(m, max_j S), S <- exp(S - m'), l <- l*exp(m - m') + sum_j S, O <- O*exp(m - m').
// A row with m' = -inf (all masked so far) becomes zeros and keeps m, l, O.
void loza_attn_softmax_tile_ref(float *S, int64_t rows, int64_t cols, int64_t lds, float *m, float *l, float *O,
                                int64_t ldo, int64_t dv);
void loza_attn_softmax_tile(float *S, int64_t rows, int64_t cols, int64_t lds, float *m, float *l, float *O,
                            int64_t ldo, int64_t dv);
// y = exp(x) elementwise: expf in the reference; SIMD levels use a degree-6 polynomial after range
// reduction (relative error within 4e-7 of expf for x in [-87, 88]; 0 below -87.3, +inf above 88.7).
void loza_exp_f32_ref(const float *x, float *y, int64_t n);
void loza_exp_f32(const float *x, float *y, int64_t n);

// --- batched matmul on quantized weights (prefill) -------------------------------------------------
// Y[t][r] = dot(row r of W, token t) for rows [r0, r1) and ntok tokens, integer dot products: the
// activations are quantized once per batch to 8-bit blocks of 32 (scale f32, plus block sums), the
// weights are unpacked per panel of 16 rows to unsigned bytes (q + offset) with one f32 scale (and
// min) per sub-block, and every (row, token) accumulates per sub-block
//   f = fma((float)(sum u*a - off*sum a), scale_w * d_a, f)   [f = fma(-min_w, d_a*sum a, f)]
// in block order, so the scalar reference and the SIMD kernel give the same bits, independent of
// how rows and tokens are split. Types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
int loza_gemm_type_supported(int type);
// 1 when the calling thread's ISA level has a SIMD kernel (AVX-512 VNNI) for `type`; else callers
// should prefer dequantization + SGEMM (loza_gemm still works, through the slow reference).
int loza_gemm_fast(int type);
// Bytes of one packed activation row of n elements (n % 32 == 0); a multiple of 64.
size_t loza_gemm_act_stride(int64_t n);
void loza_gemm_quantize_act(const float *x, void *dst, int64_t n);
// Scratch the calling thread passes to loza_gemm for rows of n elements.
size_t loza_gemm_scratch_bytes(int64_t n);
// y[t * ldy + r] for t in [0, ntok), r in [r0, r1); act holds ntok rows act_stride bytes apart.
void loza_gemm(int type, const void *w, size_t row_stride, int64_t r0, int64_t r1, int64_t n,
               const void *act, size_t act_stride, int64_t ntok, float *y, int64_t ldy, void *scratch);
void loza_gemm_ref(int type, const void *w, size_t row_stride, int64_t r0, int64_t r1, int64_t n,
                   const void *act, size_t act_stride, int64_t ntok, float *y, int64_t ldy, void *scratch);

#ifdef __cplusplus
}
#endif
#endif
