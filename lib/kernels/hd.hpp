#pragma once
// DIFFEVENT_HD marks the per-element math shared by a CPU kernel and its CUDA twin: plain
// inline functions for the host compiler, __host__ __device__ for nvcc. The shared headers use
// the C float functions (sqrtf, expf, logf, ...), which both compilers provide.
#include <math.h>

#if defined(__CUDACC__)
#define DIFFEVENT_HD __host__ __device__
#else
#define DIFFEVENT_HD
#endif
