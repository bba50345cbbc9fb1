// The guided filter on the CPU over raw float32 planes (guided_filter_math.hpp's math).
#include "kernels/filter/guided_filter_cpu.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "kernels/filter/guided_filter_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

// The same four passes as the CUDA twin (guided_filter.cu), row-parallel: horizontal window sums of
// (I, p, I p, I I); vertical sums -> means -> (a, b); horizontal sums of (a, b); vertical sums
// -> a_mean I + b_mean.
void guided_filter_cpu(const float* p, const float* I, float* out, int64_t planes, int H, int W,
                       int r, float eps) {
  const int64_t n = planes * H * W;
  std::vector<float> sums(static_cast<size_t>(4 * n)), ab(static_cast<size_t>(2 * n));
  float* w = sums.data();
  const int64_t rows = planes * H;
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row * W;
      for (int j = 0; j < W; ++j) {
        float sI = 0.f, sp = 0.f, sIp = 0.f, sII = 0.f;
        for (int jj = std::max(j - r, 0); jj <= std::min(j + r, W - 1); ++jj) {
          const float vi = I[o + jj], vp = p[o + jj];
          sI += vi;
          sp += vp;
          sIp += vi * vp;
          sII += vi * vi;
        }
        w[o + j] = sI;
        w[n + o + j] = sp;
        w[2 * n + o + j] = sIp;
        w[3 * n + o + j] = sII;
      }
    }
  });
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int i = static_cast<int>(row % H);
      const int64_t col0 = (row - i) * W;
      for (int j = 0; j < W; ++j) {
        float s[4] = {0.f, 0.f, 0.f, 0.f};
        for (int ii = std::max(i - r, 0); ii <= std::min(i + r, H - 1); ++ii)
          for (int q = 0; q < 4; ++q) s[q] += w[q * n + col0 + static_cast<int64_t>(ii) * W + j];
        const float inv = 1.f / static_cast<float>(window_count(i, r, H) * window_count(j, r, W));
        guided_ab(s[0] * inv, s[1] * inv, s[2] * inv, s[3] * inv, eps,
                  &ab[static_cast<size_t>(row * W + j)], &ab[static_cast<size_t>(n + row * W + j)]);
      }
    }
  });
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row * W;
      for (int j = 0; j < W; ++j) {
        float sa = 0.f, sb = 0.f;
        for (int jj = std::max(j - r, 0); jj <= std::min(j + r, W - 1); ++jj) {
          sa += ab[static_cast<size_t>(o + jj)];
          sb += ab[static_cast<size_t>(n + o + jj)];
        }
        w[o + j] = sa;
        w[n + o + j] = sb;
      }
    }
  });
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int i = static_cast<int>(row % H);
      const int64_t col0 = (row - i) * W;
      for (int j = 0; j < W; ++j) {
        float sa = 0.f, sb = 0.f;
        for (int ii = std::max(i - r, 0); ii <= std::min(i + r, H - 1); ++ii) {
          sa += w[col0 + static_cast<int64_t>(ii) * W + j];
          sb += w[n + col0 + static_cast<int64_t>(ii) * W + j];
        }
        const float inv = 1.f / static_cast<float>(window_count(i, r, H) * window_count(j, r, W));
        out[row * W + j] = sa * inv * I[row * W + j] + sb * inv;
      }
    }
  });
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
