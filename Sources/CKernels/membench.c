#include "loza_membench.h"

float loza_stream_read_sum(const float *p, int64_t n) {
    float a[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 16; j++) a[j] += p[i + j];
    }
    for (; i < n; i++) a[0] += p[i];
    float s = 0;
    for (int j = 0; j < 16; j++) s += a[j];
    return s;
}
