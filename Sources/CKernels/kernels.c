#include "loza_kernels.h"
