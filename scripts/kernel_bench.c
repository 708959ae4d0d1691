// Micro-benchmark of loza_matvec: GB/s of weight bytes per type, shape and ISA level, one thread.
// "dram": the matrix is one of enough copies (>= 4x the 32 MiB L3) cycled through, so weights stream
// from memory as in decode; "hot": the same matrix again and again (cache-resident, compute bound).
// Built and run by scripts/kernel-bench; prints a markdown table.
#include "loza_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Thread CPU time by default: the machine is shared, and time spent descheduled is not the kernel's.
// BENCH_WALL=1 in the environment switches to wall-clock time.
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static double now(void) {
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)(rng >> 40) / (float)(1 << 23) - 1.0f;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define RUNS 7

// Median seconds per matvec over RUNS passes; each pass runs matvec on copies 0..ncopies-1.
static double time_matvec(int type, const uint8_t *w, size_t mat_bytes, int ncopies, size_t row_bytes,
                          const void *act, float *y, int64_t rows, int64_t n) {
    double t[RUNS];
    for (int run = -1; run < RUNS; run++) {  // run -1 warms up
        const double t0 = now();
        for (int c = 0; c < ncopies; c++) loza_matvec(type, w + (size_t)c * mat_bytes, row_bytes, act, y, 0, rows, n);
        if (run >= 0) t[run] = (now() - t0) / ncopies;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

// Attention over an f16 KV cache: 16384 keys of head dim 64, rows 128 halves apart (2 KV heads),
// per-key calls (loza_dot_f16_f32 / loza_axpy_f16) against one call for all keys (*_rows).
static void bench_attention(void) {
    const int64_t nkeys = 16384, n = 64;
    const size_t stride = 128;
    uint16_t *kv = malloc(sizeof(uint16_t) * stride * (size_t)nkeys);
    for (size_t i = 0; i < stride * (size_t)nkeys; i++) kv[i] = loza_f32_to_f16(frand());
    float q[64], y[64], *scores = malloc(sizeof(float) * (size_t)nkeys);
    for (int i = 0; i < 64; i++) q[i] = frand();
    printf("\n| attention, %lld keys x %lld (f16) | isa | per-key calls, ns/key | rows call, ns/key |\n|---|---|---|---|\n",
           (long long)nkeys, (long long)n);
    for (int isa = 0; isa <= loza_isa_detected(); isa++) {
        loza_isa_set(isa);
        double t[4][RUNS];
        for (int run = 0; run < RUNS; run++) {
            double t0 = now();
            for (int64_t j = 0; j < nkeys; j++) scores[j] = loza_dot_f16_f32(kv + (size_t)j * stride, q, n);
            double t1 = now();
            loza_dot_f16_f32_rows(kv, stride, q, scores, nkeys, n);
            double t2 = now();
            for (int64_t j = 0; j < nkeys; j++) loza_axpy_f16(scores[j] * 1e-4f, kv + (size_t)j * stride, y, n);
            double t3 = now();
            loza_axpy_f16_rows(scores, kv, stride, y, nkeys, n);
            double t4 = now();
            t[0][run] = t1 - t0; t[1][run] = t2 - t1; t[2][run] = t3 - t2; t[3][run] = t4 - t3;
        }
        for (int k = 0; k < 4; k++) qsort(t[k], RUNS, sizeof(double), cmp_double);
        printf("| dot | %s | %.2f | %.2f |\n", loza_isa_name(isa), t[0][RUNS / 2] / nkeys * 1e9, t[1][RUNS / 2] / nkeys * 1e9);
        printf("| axpy | %s | %.2f | %.2f |\n", loza_isa_name(isa), t[2][RUNS / 2] / nkeys * 1e9, t[3][RUNS / 2] / nkeys * 1e9);
    }
    free(kv); free(scores);
}

int main(int argc, char **argv) {
    const struct { const char *name; int type; } types[] = {
        {"Q5_0", LOZA_TYPE_Q5_0}, {"Q8_0", LOZA_TYPE_Q8_0}, {"Q4_K", LOZA_TYPE_Q4_K}, {"Q6_K", LOZA_TYPE_Q6_K},
        {"Q4_1", LOZA_TYPE_Q4_1}, {"Q4_0", LOZA_TYPE_Q4_0}, {"Q5_1", LOZA_TYPE_Q5_1}, {"Q5_K", LOZA_TYPE_Q5_K},
        {"F16", LOZA_TYPE_F16}, {"BF16", LOZA_TYPE_BF16}, {"F32", LOZA_TYPE_F32},
    };
    const struct { int64_t rows, n; } shapes[] = {{4864, 896}, {896, 4864}};
    if (getenv("BENCH_WALL")) bench_clock = CLOCK_MONOTONIC;
    const char *only = argc > 1 ? argv[1] : NULL;  // optional: one type name, or "attention"
    if (only && strcmp(only, "attention") == 0) {
        printf("clock: %s\n", bench_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU time");
        bench_attention();
        return 0;
    }
    const int top = loza_isa_detected();
    const size_t pool_target = (size_t)160 << 20;

    printf("clock: %s\n", bench_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU time");
    printf("| type | rows x cols | MB |");
    for (int isa = 0; isa <= top; isa++) printf(" %s dram | %s hot |", loza_isa_name(isa), loza_isa_name(isa));
    printf("\n|---|---|---|");
    for (int isa = 0; isa <= top; isa++) printf("---|---|");
    printf("\n");
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        if (only && strcmp(only, types[ti].name) != 0) continue;
        const int type = types[ti].type;
        for (size_t si = 0; si < 2; si++) {
            const int64_t rows = shapes[si].rows, n = shapes[si].n;
            const size_t row_bytes = loza_row_bytes(type, n);
            if (row_bytes == 0) continue;  // K-quants need n % 256 == 0
            const size_t mat = row_bytes * (size_t)rows;
            const int ncopies = (int)((pool_target + mat - 1) / mat);
            uint8_t *w = aligned_alloc(64, (mat * (size_t)ncopies + 63) / 64 * 64);
            float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)rows);
            for (int64_t r = 0; r < rows; r++) {
                for (int64_t i = 0; i < n; i++) x[i] = frand();
                loza_quantize_row_ref(type, x, w + (size_t)r * row_bytes, n);
            }
            for (int c = 1; c < ncopies; c++) memcpy(w + (size_t)c * mat, w, mat);
            for (int64_t i = 0; i < n; i++) x[i] = frand();
            const int act_type = loza_vec_dot_type(type);
            void *act = malloc(loza_row_bytes(act_type, n));
            loza_quantize_act_ref(type, x, act, n);
            printf("| %s | %lldx%lld | %.2f |", types[ti].name, (long long)rows, (long long)n, (double)mat / 1e6);
            for (int isa = 0; isa <= top; isa++) {
                loza_isa_set(isa);
                const double cold = time_matvec(type, w, mat, ncopies, row_bytes, act, y, rows, n);
                const double hot = time_matvec(type, w, 0, 16, row_bytes, act, y, rows, n);
                printf(" %.1f | %.1f |", (double)mat / cold / 1e9, (double)mat / hot / 1e9);
                fflush(stdout);
            }
            printf("\n");
            free(act); free(x); free(y); free(w);
        }
    }
    return 0;
}
