// Run-time CPU dispatch: detect the ISA once (CPUID + XGETBV), build one kernel table per level,
// and route every unsuffixed entry point of loza_kernels.h through the active table.
// The process-wide level is the detected one, or lower if LOZA_ISA names a lower level; a thread
// can lower its own level with loza_isa_set (tests and benchmarks) without touching other threads.
// AMX is never used: the kernels of the machines loza targets do not enable AMX tile state.
#include "loza_kernels.h"
#include "simd.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

static uint64_t lz_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int lz_detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return LOZA_ISA_SCALAR;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return LOZA_ISA_SCALAR;
    const uint64_t xcr0 = lz_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return LOZA_ISA_SCALAR;  // OS saves XMM + YMM state
    if (__get_cpuid_max(0, NULL) < 7) return LOZA_ISA_SCALAR;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1;
    if (!(avx2 && fma && f16c)) return LOZA_ISA_SCALAR;
    const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    const int vnni = (c >> 11) & 1;
    // Opmask, upper halves of ZMM0-15 and ZMM16-31 must all be OS-enabled.
    if (!(f && dq && bw && vl) || (xcr0 & 0xE0) != 0xE0) return LOZA_ISA_AVX2;
    return vnni ? LOZA_ISA_AVX512VNNI : LOZA_ISA_AVX512;
}
#else
static int lz_detect(void) { return LOZA_ISA_SCALAR; }
#endif

#define LZ_NLEVELS 4
static struct lz_kernels lz_tables[LZ_NLEVELS];
static int lz_detected = LOZA_ISA_SCALAR;
static const struct lz_kernels *lz_process = NULL;         // written once, under lz_once
static _Thread_local const struct lz_kernels *lz_thread = NULL;  // set by loza_isa_set
static pthread_once_t lz_once = PTHREAD_ONCE_INIT;

static int lz_clamp(int isa) {
    if (isa < LOZA_ISA_SCALAR) return LOZA_ISA_SCALAR;
    return isa > lz_detected ? lz_detected : isa;
}

// LOZA_ISA=scalar|avx2|avx512|avx512vnni lowers the process-wide level (never above the CPU's).
static int lz_env_level(void) {
    const char *v = getenv("LOZA_ISA");
    if (v == NULL || *v == 0) return lz_detected;
    for (int isa = LOZA_ISA_SCALAR; isa <= LOZA_ISA_AVX512VNNI; isa++)
        if (strcmp(v, loza_isa_name(isa)) == 0) return lz_clamp(isa);
    fprintf(stderr, "loza: LOZA_ISA=%s is not one of scalar, avx2, avx512, avx512vnni; using %s\n", v,
            loza_isa_name(lz_detected));
    return lz_detected;
}

static void lz_init(void) {
    lz_detected = lz_detect();
    struct lz_kernels k;
    memset(&k, 0, sizeof k);
    k.dot_f32 = lz_dot_f32_scalar;
    k.axpy_f32 = lz_axpy_f32_scalar;
    k.dot_f16_f32 = lz_dot_f16_f32_scalar;
    k.axpy_f16 = lz_axpy_f16_scalar;
    k.dot_f16_f32_rows = lz_dot_f16_f32_rows_scalar;
    k.axpy_f16_rows = lz_axpy_f16_rows_scalar;
    lz_tables[LOZA_ISA_SCALAR] = k;
#if defined(__x86_64__) || defined(_M_X64)
    void (*install[LZ_NLEVELS])(struct lz_kernels *) = {
        NULL, lz_install_avx2, lz_install_avx512, lz_install_avx512vnni};
    for (int level = 1; level <= lz_detected; level++) {
        install[level](&k);
        if (level == LOZA_ISA_AVX2) lz_install_attn_avx2(&k);
        if (level == LOZA_ISA_AVX512) lz_install_attn_avx512(&k);  // inherited by the VNNI level
        lz_tables[level] = k;
    }
#endif
    lz_process = &lz_tables[lz_env_level()];
}

static inline const struct lz_kernels *lz_k(void) {
    const struct lz_kernels *k = lz_thread;
    if (__builtin_expect(k == NULL, 0)) {  // first call on this thread: take the process level
        pthread_once(&lz_once, lz_init);
        k = lz_thread = lz_process;
    }
    return k;
}

static inline int lz_valid(int type) { return type >= 0 && type < LZ_NTYPES; }

// SIMD variants assume whole blocks; anything else goes to the reference, which rejects it.
static inline int lz_whole_blocks(int type, int64_t n) {
    const int64_t be = loza_block_elems(type);
    return be > 0 && n > 0 && n % be == 0;
}

// --- ISA control -------------------------------------------------------------------------------

int loza_isa_detected(void) {
    pthread_once(&lz_once, lz_init);
    return lz_detected;
}

int loza_isa_active(void) {
    return (int)(lz_k() - lz_tables);
}

int loza_isa_set(int isa) {
    pthread_once(&lz_once, lz_init);
    lz_thread = &lz_tables[lz_clamp(isa)];
    return (int)(lz_thread - lz_tables);
}

const char *loza_isa_name(int isa) {
    switch (isa) {
    case LOZA_ISA_SCALAR: return "scalar";
    case LOZA_ISA_AVX2: return "avx2";
    case LOZA_ISA_AVX512: return "avx512";
    case LOZA_ISA_AVX512VNNI: return "avx512vnni";
    default: return "unknown";
    }
}

// --- dispatching entry points ------------------------------------------------------------------

void loza_dequantize_row(int type, const void *src, float *dst, int64_t n) {
    const struct lz_kernels *k = lz_k();
    if (lz_valid(type) && k->dequant[type] && lz_whole_blocks(type, n)) k->dequant[type](src, dst, n);
    else loza_dequantize_row_ref(type, src, dst, n);
}

void loza_quantize_act(int weight_type, const float *x, void *dst, int64_t n) {
    const struct lz_kernels *k = lz_k();
    const int act = loza_vec_dot_type(weight_type);
    if (lz_valid(act) && k->quant_act[act] && lz_whole_blocks(act, n)) k->quant_act[act](x, dst, n);
    else loza_quantize_act_ref(weight_type, x, dst, n);
}

float loza_vec_dot(int type, const void *row, const void *act, int64_t n) {
    const struct lz_kernels *k = lz_k();
    if (lz_valid(type) && k->vec_dot[type] && lz_whole_blocks(type, n)) return k->vec_dot[type](row, act, n);
    return loza_vec_dot_ref(type, row, act, n);
}

void loza_matvec(int type, const void *w, size_t row_stride, const void *act, float *y,
                 int64_t r0, int64_t r1, int64_t n) {
    if (r1 <= r0) return;
    const struct lz_kernels *k = lz_k();
    const char *base = (const char *)w + (size_t)r0 * row_stride;
    const int simd = lz_valid(type) && lz_whole_blocks(type, n);
    if (simd && k->matvec[type]) {
        k->matvec[type](base, row_stride, act, y + r0, r1 - r0, n);
    } else if (simd && k->vec_dot[type]) {
        const lz_vec_dot_fn dot = k->vec_dot[type];
        for (int64_t r = r0; r < r1; r++, base += row_stride) y[r] = dot(base, act, n);
    } else {
        for (int64_t r = r0; r < r1; r++, base += row_stride) y[r] = loza_vec_dot_ref(type, base, act, n);
    }
}

void loza_matvec_multi(int type, const void *w, size_t row_stride, const void *const *acts, int64_t nact,
                       float *y, int64_t y_stride, int64_t r0, int64_t r1, int64_t n) {
    if (r1 <= r0 || nact <= 0) return;
    const struct lz_kernels *k = lz_k();
    if (lz_valid(type) && lz_whole_blocks(type, n) && k->matvec_multi[type]) {
        const char *base = (const char *)w + (size_t)r0 * row_stride;
        k->matvec_multi[type](base, row_stride, acts, nact, y + r0, y_stride, r1 - r0, n);
        return;
    }
    // One activation at a time over tiles of about 64 KB of rows, so each tile is read from memory once.
    int64_t tile = (int64_t)(65536 / (row_stride ? row_stride : 1));
    if (tile < 1) tile = 1;
    for (int64_t t0 = r0; t0 < r1; t0 += tile) {
        const int64_t t1 = t0 + tile < r1 ? t0 + tile : r1;
        for (int64_t j = 0; j < nact; j++) loza_matvec(type, w, row_stride, acts[j], y + j * y_stride, t0, t1, n);
    }
}

float loza_dot_f32(const float *a, const float *b, int64_t n) { return lz_k()->dot_f32(a, b, n); }

void loza_axpy_f32(float a, const float *x, float *y, int64_t n) { lz_k()->axpy_f32(a, x, y, n); }

float loza_dot_f16_f32(const uint16_t *k, const float *q, int64_t n) {
    return lz_k()->dot_f16_f32(k, q, n);
}

void loza_axpy_f16(float a, const uint16_t *x, float *y, int64_t n) { lz_k()->axpy_f16(a, x, y, n); }

void loza_dot_f16_f32_rows(const uint16_t *k, size_t stride, const float *q, float *scores,
                           int64_t nkeys, int64_t n) {
    lz_k()->dot_f16_f32_rows(k, stride, q, scores, nkeys, n);
}

void loza_axpy_f16_rows(const float *w, const uint16_t *v, size_t stride, float *y, int64_t nkeys,
                        int64_t n) {
    lz_k()->axpy_f16_rows(w, v, stride, y, nkeys, n);
}

// --- attention ---------------------------------------------------------------------------------

int64_t loza_attn_partial_work(int64_t nq, int64_t hd, int64_t nkeys) {
    // scores [nq][nkeys] + f32 K/V block + a padded tail row
    return nq * nkeys + LOZA_ATTN_BLOCK * hd + 64;
}

void loza_attn_partial(const float *q, int64_t nq, int64_t hd, float scale, const loza_kv_span *spans,
                       int64_t nspans, int64_t j0, int64_t j1, float *work, float *m, float *l, float *o) {
    const struct lz_kernels *k = lz_k();
    if (k->attn_partial) k->attn_partial(q, nq, hd, scale, spans, nspans, j0, j1, work, m, l, o);
    else loza_attn_partial_ref(q, nq, hd, scale, spans, nspans, j0, j1, work, m, l, o);
}

void loza_attn_softmax_tile(float *S, int64_t rows, int64_t cols, int64_t lds, float *m, float *l, float *O,
                            int64_t ldo, int64_t dv) {
    const struct lz_kernels *k = lz_k();
    if (k->attn_softmax_tile) k->attn_softmax_tile(S, rows, cols, lds, m, l, O, ldo, dv);
    else loza_attn_softmax_tile_ref(S, rows, cols, lds, m, l, O, ldo, dv);
}

void loza_exp_f32(const float *x, float *y, int64_t n) {
    const struct lz_kernels *k = lz_k();
    if (k->exp_f32) k->exp_f32(x, y, n);
    else loza_exp_f32_ref(x, y, n);
}

// --- quantized GEMM (gemm_ref.c holds the layouts and the reference) ---------------------------------

void lz_gemm_dispatch(void *fn, int type, const void *w, size_t row_stride, int64_t r0, int64_t r1, int64_t n,
                      const void *act, size_t act_stride, int64_t ntok, float *y, int64_t ldy, void *scratch);

int loza_gemm_fast(int type) { return loza_gemm_type_supported(type) && lz_k()->gemm_panel != NULL; }

void loza_gemm(int type, const void *w, size_t row_stride, int64_t r0, int64_t r1, int64_t n,
               const void *act, size_t act_stride, int64_t ntok, float *y, int64_t ldy, void *scratch) {
    lz_gemm_dispatch((void *)lz_k()->gemm_panel, type, w, row_stride, r0, r1, n, act, act_stride, ntok, y, ldy,
                     scratch);
}
