#ifndef LOZA_GEMM_H
#define LOZA_GEMM_H
// Internal layouts of the quantized GEMM (loza_gemm in loza_kernels.h).
//
// Packed activation row of n elements (loza_gemm_quantize_act), offsets in bytes:
//   0             int8  q[n]         round(x / d), d = max|x| / 127 per block of 32 (as Q8_0, d in f32)
//   n             f32   d[n/32]
//   n + n/8       f32   dsum[n/32]   d * sum of the block's q (the min term of Q4_1/Q5_1/Q4_K/Q5_K)
//   n + n/4       i32   sum16[n/16]  sum of each 16 q (the offset term)
// Panel of LZ_GEMM_ROWS = 16 weight rows (two groups of 8), n elements, sub-blocks of bw (16 or 32):
//   0             u8    q: for each sub-block b, group g (2), step s (bw/4): 32 bytes, 4 per row of
//                       the group = elements b*bw + 4s .. +3 of that row (q + offset, unsigned)
//   16n           f32   scale[n/bw][16]
//   16n + 64n/bw  f32   min[n/bw][16]    value = scale * (q - off) - min
#include <stddef.h>
#include <stdint.h>

#define LZ_GEMM_ROWS 16

static inline size_t lz_gemm_panel_bytes(int64_t n) { return (size_t)(16 * n + 2 * 64 * (n / 16)); }
static inline const float *lz_act_d(const uint8_t *a, int64_t n) { return (const float *)(a + n); }
static inline const float *lz_act_dsum(const uint8_t *a, int64_t n) { return (const float *)(a + n + n / 8); }
static inline const int32_t *lz_act_sum16(const uint8_t *a, int64_t n) { return (const int32_t *)(a + n + n / 4); }

// The per-type unpacking parameters; 0 when the type has no quantized GEMM.
typedef struct { int bw, off, has_min; } lz_gemm_kind;
lz_gemm_kind lz_gemm_kind_of(int type);

#endif
