// CUDA twin of the guided filter (guided_filter.cpp): guided_filter_math.hpp's math.
#include "kernels/cuda/launch.hpp"
#include "kernels/filter/guided_filter_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {
namespace cuda {
namespace {

// Guided filter, four passes over [planes, H, W]: horizontal window sums of (I, p, I p, I I);
// vertical sums -> means -> (a, b); horizontal sums of (a, b); vertical sums -> output.
__global__ void gf_rows4(const float* p, const float* I, float* w, int64_t planes, int H, int W,
                         int r) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W);
    const int64_t row = e - j;
    float sI = 0.f, sp = 0.f, sIp = 0.f, sII = 0.f;
    for (int jj = max(j - r, 0); jj <= min(j + r, W - 1); ++jj) {
      const float vi = I[row + jj], vp = p[row + jj];
      sI += vi;
      sp += vp;
      sIp += vi * vp;
      sII += vi * vi;
    }
    w[e] = sI;
    w[n + e] = sp;
    w[2 * n + e] = sIp;
    w[3 * n + e] = sII;
  }
}

__global__ void gf_cols_ab(const float* w, float* ab, int64_t planes, int H, int W, int r,
                           float eps) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W), i = static_cast<int>((e / W) % H);
    const int64_t col0 = e - static_cast<int64_t>(i) * W;
    float s[4] = {0.f, 0.f, 0.f, 0.f};
    for (int ii = max(i - r, 0); ii <= min(i + r, H - 1); ++ii)
      for (int q = 0; q < 4; ++q) s[q] += w[q * n + col0 + static_cast<int64_t>(ii) * W];
    const float inv = 1.f / static_cast<float>(window_count(i, r, H) * window_count(j, r, W));
    float a, b;
    guided_ab(s[0] * inv, s[1] * inv, s[2] * inv, s[3] * inv, eps, &a, &b);
    ab[e] = a;
    ab[n + e] = b;
  }
}

__global__ void gf_rows2(const float* ab, float* w, int64_t planes, int H, int W, int r) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W);
    const int64_t row = e - j;
    float sa = 0.f, sb = 0.f;
    for (int jj = max(j - r, 0); jj <= min(j + r, W - 1); ++jj) {
      sa += ab[row + jj];
      sb += ab[n + row + jj];
    }
    w[e] = sa;
    w[n + e] = sb;
  }
}

__global__ void gf_cols_out(const float* w, const float* I, float* out, int64_t planes, int H,
                            int W, int r) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W), i = static_cast<int>((e / W) % H);
    const int64_t col0 = e - static_cast<int64_t>(i) * W;
    float sa = 0.f, sb = 0.f;
    for (int ii = max(i - r, 0); ii <= min(i + r, H - 1); ++ii) {
      sa += w[col0 + static_cast<int64_t>(ii) * W];
      sb += w[n + col0 + static_cast<int64_t>(ii) * W];
    }
    const float inv = 1.f / static_cast<float>(window_count(i, r, H) * window_count(j, r, W));
    out[e] = sa * inv * I[e] + sb * inv;
  }
}

}  // namespace

cudaError_t launch_guided_filter(const float* p, const float* I, float* out, float* work,
                                 int64_t planes, int H, int W, int r, float eps,
                                 cudaStream_t stream) {
  const int64_t n = planes * H * W;
  if (n == 0) return cudaSuccess;
  float* sums = work;        // 4 planes
  float* ab = work + 4 * n;  // 2 planes
  gf_rows4<<<grid_for(n), 256, 0, stream>>>(p, I, sums, planes, H, W, r);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return err;
  gf_cols_ab<<<grid_for(n), 256, 0, stream>>>(sums, ab, planes, H, W, r, eps);
  if ((err = cudaGetLastError()) != cudaSuccess) return err;
  gf_rows2<<<grid_for(n), 256, 0, stream>>>(ab, sums, planes, H, W, r);
  if ((err = cudaGetLastError()) != cudaSuccess) return err;
  gf_cols_out<<<grid_for(n), 256, 0, stream>>>(sums, I, out, planes, H, W, r);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
