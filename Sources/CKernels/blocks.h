#ifndef LOZA_BLOCKS_H
#define LOZA_BLOCKS_H
// Block layouts of the quantized types, byte-for-byte as ggml stores them in GGUF files
// (ggml-common.h). Internal to CKernels: the Swift side sees only the sizes.
#include <stdint.h>
#include <string.h>
#include "loza_kernels.h"

// The reference kernels define the numbers the SIMD kernels are checked against: no mul+add fusion,
// whatever flags the target is built with.
#pragma STDC FP_CONTRACT OFF

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12

typedef uint16_t loza_half;  // IEEE binary16 bits

// 4-bit, 32 elements: x = d * (q - 8); element j < 16 in the low nibble of qs[j], j >= 16 in the high one.
typedef struct { loza_half d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
// 4-bit with minimum: x = d * q + m.
typedef struct { loza_half d; loza_half m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
// 5-bit: low 4 bits as q4_0, bit 4 of element j is bit j of qh (little-endian u32); x = d * (q - 16).
typedef struct { loza_half d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
// 5-bit with minimum: x = d * q + m.
typedef struct { loza_half d; loza_half m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
// 8-bit: x = d * q.
typedef struct { loza_half d; int8_t qs[QK8_0]; } block_q8_0;
// 8-bit activations for q4_1/q5_1: s = d * sum(qs).
typedef struct { loza_half d; loza_half s; int8_t qs[QK8_1]; } block_q8_1;

// 256-element super-blocks of 8 sub-blocks of 32. Each sub-block j has a 6-bit scale and a 6-bit
// min packed in scales[12]: j < 4: scale = scales[j] & 63, min = scales[j+4] & 63; j >= 4:
// scale = (scales[j+4] & 15) | ((scales[j-4] >> 6) << 4), min = (scales[j+4] >> 4) | ((scales[j] >> 6) << 4).
// x = d * scale * q - dmin * min. qs holds 4 chunks of 64 elements: 32 bytes, low nibbles = first 32.
typedef struct { loza_half d; loza_half dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K;
// As q4_K plus a fifth bit: bit (element's 32-group index 0..7) of qh[element % 32].
typedef struct {
    loza_half d; loza_half dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2];
} block_q5_K;
// 6-bit, 16 sub-blocks of 16 with int8 scales: x = d * scales[sub] * (q - 32). Per 128-element half:
// ql[l] low nibble -> element l, ql[l+32] low -> l+32, ql[l] high -> l+64, ql[l+32] high -> l+96;
// qh[l] bits 0-1, 2-3, 4-5, 6-7 are the high 2 bits of elements l, l+32, l+64, l+96.
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; loza_half d; } block_q6_K;
// 8-bit activations for the K-quants, with the sums of each 16 quants.
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "q4_0 size");
_Static_assert(sizeof(block_q4_1) == 20, "q4_1 size");
_Static_assert(sizeof(block_q5_0) == 22, "q5_0 size");
_Static_assert(sizeof(block_q5_1) == 24, "q5_1 size");
_Static_assert(sizeof(block_q8_0) == 34, "q8_0 size");
_Static_assert(sizeof(block_q8_1) == 36, "q8_1 size");
_Static_assert(sizeof(block_q4_K) == 144, "q4_K size");
_Static_assert(sizeof(block_q5_K) == 176, "q5_K size");
_Static_assert(sizeof(block_q6_K) == 210, "q6_K size");
_Static_assert(sizeof(block_q8_K) == 292, "q8_K size");

// Exact IEEE binary16 -> binary32 (every half is representable as a float).
static inline float loza_half_to_float(loza_half h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        // zero or subnormal: mant * 2^-24, exact in float
        float v = (float)mant * 0x1p-24f;
        memcpy(&bits, &v, 4);
        bits |= sign;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// binary32 -> binary16, round to nearest, ties to even; NaN stays a (quiet) NaN, overflow -> inf.
static inline loza_half loza_float_to_half(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    u &= 0x7fffffffu;
    if (u >= 0x7f800000u) {
        if (u == 0x7f800000u) return sign | 0x7c00u;
        return (uint16_t)(sign | 0x7e00u | ((u >> 13) & 0x3ffu));
    }
    if (u >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to inf
    if (u < 0x38800000u) {                       // below the smallest normal half (2^-14)
        if (u <= 0x33000000u) return sign;       // <= 2^-25 rounds to zero (2^-25 is a tie -> even 0)
        const uint32_t e = u >> 23;              // 102..112
        const uint32_t mant = (u & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126u - e;         // 14..24
        uint32_t r = mant >> shift;
        const uint32_t rem = mant & ((1u << shift) - 1u);
        const uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t h = ((((u >> 23) - 112u) << 10) | ((u >> 13) & 0x3ffu));
    const uint32_t rem = u & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static inline float loza_bf16_bits_to_float(uint16_t h) {
    const uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// Round to nearest even like ggml's fp32_to_bf16; NaN -> quiet NaN.
static inline uint16_t loza_float_to_bf16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64u);
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

#define LOZA_H2F(h) loza_half_to_float(h)
#define LOZA_F2H(f) loza_float_to_half(f)

// The 6-bit scale and min of sub-block j (0..7) of a q4_K / q5_K super-block.
static inline void loza_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

#endif
