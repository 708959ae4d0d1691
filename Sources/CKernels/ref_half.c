// Half-precision conversions (exact IEEE binary16 and bfloat16, round to nearest even).
#include "blocks.h"

float loza_f16_to_f32(uint16_t h) { return loza_half_to_float(h); }
uint16_t loza_f32_to_f16(float f) { return loza_float_to_half(f); }
float loza_bf16_to_f32(uint16_t h) { return loza_bf16_bits_to_float(h); }
uint16_t loza_f32_to_bf16(float f) { return loza_float_to_bf16_bits(f); }
