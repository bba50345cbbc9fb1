#pragma once
// Per-pixel math of the guided filter (He et al., TPAMI 2013) used by the event enhancer,
// shared by the CPU kernel and its CUDA twin. Box means use windows clipped at the borders and
// normalised by the number of pixels inside (ATen's avg_pool2d composition in ebrd_model.cpp
// gives the same values).
#include "kernels/hd.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// Number of samples of a (2r+1) window centred at i that lie inside [0, n).
DIFFEVENT_HD inline int window_count(int i, int r, int n) {
  const int lo = i - r < 0 ? 0 : i - r, hi = i + r > n - 1 ? n - 1 : i + r;
  return hi - lo + 1;
}

/// Linear coefficients of the guided filter from the window means of I, p, I p and I I.
DIFFEVENT_HD inline void guided_ab(float mI, float mp, float mIp, float mII, float eps, float* a,
                                   float* b) {
  const float cov = mIp - mI * mp, var = mII - mI * mI;
  *a = cov / (var + eps);
  *b = mp - *a * mI;
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
