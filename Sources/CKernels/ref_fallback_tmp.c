// TEMPORARY: weak stand-ins so the dispatcher links before the scalar references (ref_*.c, owned
// by the gguf helper) are merged. They abort with a message if ever called; the real definitions
// override them at link time. Delete this file once ref_*.c is on main.
#include "loza_kernels.h"
#include <stdio.h>
#include <stdlib.h>

static void lz_missing(const char *name) {
    fprintf(stderr, "loza: %s: scalar reference kernels not built in yet\n", name);
    abort();
}

__attribute__((weak)) void loza_dequantize_row_ref(int type, const void *src, float *dst, int64_t n) {
    (void)type; (void)src; (void)dst; (void)n;
    lz_missing(__func__);
}
__attribute__((weak)) void loza_quantize_act_ref(int weight_type, const float *x, void *dst, int64_t n) {
    (void)weight_type; (void)x; (void)dst; (void)n;
    lz_missing(__func__);
}
__attribute__((weak)) float loza_vec_dot_ref(int type, const void *row, const void *act, int64_t n) {
    (void)type; (void)row; (void)act; (void)n;
    lz_missing(__func__);
    return 0;
}
__attribute__((weak)) int loza_vec_dot_type(int weight_type) {
    (void)weight_type;
    lz_missing(__func__);
    return -1;
}
__attribute__((weak)) float loza_f16_to_f32(uint16_t h) {
    (void)h;
    lz_missing(__func__);
    return 0;
}
