// Block sizes of every type the kernels know, and which activation type each weight type dots with.
#include "blocks.h"

int64_t loza_block_elems(int type) {
    switch (type) {
    case LOZA_TYPE_F32: case LOZA_TYPE_F16: case LOZA_TYPE_BF16: return 1;
    case LOZA_TYPE_Q4_0: case LOZA_TYPE_Q4_1: case LOZA_TYPE_Q5_0: case LOZA_TYPE_Q5_1:
    case LOZA_TYPE_Q8_0: case LOZA_TYPE_Q8_1: return 32;
    case LOZA_TYPE_Q4_K: case LOZA_TYPE_Q5_K: case LOZA_TYPE_Q6_K: case LOZA_TYPE_Q8_K: return QK_K;
    default: return 0;
    }
}

int64_t loza_block_bytes(int type) {
    switch (type) {
    case LOZA_TYPE_F32: return 4;
    case LOZA_TYPE_F16: case LOZA_TYPE_BF16: return 2;
    case LOZA_TYPE_Q4_0: return sizeof(block_q4_0);
    case LOZA_TYPE_Q4_1: return sizeof(block_q4_1);
    case LOZA_TYPE_Q5_0: return sizeof(block_q5_0);
    case LOZA_TYPE_Q5_1: return sizeof(block_q5_1);
    case LOZA_TYPE_Q8_0: return sizeof(block_q8_0);
    case LOZA_TYPE_Q8_1: return sizeof(block_q8_1);
    case LOZA_TYPE_Q4_K: return sizeof(block_q4_K);
    case LOZA_TYPE_Q5_K: return sizeof(block_q5_K);
    case LOZA_TYPE_Q6_K: return sizeof(block_q6_K);
    case LOZA_TYPE_Q8_K: return sizeof(block_q8_K);
    default: return 0;
    }
}

size_t loza_row_bytes(int type, int64_t n) {
    const int64_t be = loza_block_elems(type);
    if (be == 0 || n < 0 || n % be != 0) return 0;
    return (size_t)(n / be) * (size_t)loza_block_bytes(type);
}

int loza_vec_dot_type(int weight_type) {
    switch (weight_type) {
    case LOZA_TYPE_F32: case LOZA_TYPE_F16: case LOZA_TYPE_BF16: return LOZA_TYPE_F32;
    case LOZA_TYPE_Q4_0: case LOZA_TYPE_Q5_0: case LOZA_TYPE_Q8_0: return LOZA_TYPE_Q8_0;
    case LOZA_TYPE_Q4_1: case LOZA_TYPE_Q5_1: return LOZA_TYPE_Q8_1;
    case LOZA_TYPE_Q4_K: case LOZA_TYPE_Q5_K: case LOZA_TYPE_Q6_K: return LOZA_TYPE_Q8_K;
    default: return -1;
    }
}
