#ifndef LOZA_MEMBENCH_H
#define LOZA_MEMBENCH_H
#include <stdint.h>

/// Sum of `n` floats read sequentially with several independent accumulators: a streaming-read
/// probe for memory bandwidth (the sum is returned so the reads cannot be optimized away).
float loza_stream_read_sum(const float *p, int64_t n);

#endif
