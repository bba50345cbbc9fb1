#pragma once
// Launchers of the CUDA kernels: raw device pointers, an explicit stream (the caller passes
// LibTorch's current stream), no LibTorch. Each returns the launch's status
// (cudaGetLastError after the launch); callers check it. Compiled by nvcc in
// diffevent_cuda_kernels, which CI builds even where LibTorch has no CUDA.
#include <cuda_runtime_api.h>
#include <stdint.h>

#include "kernels/guidance/guidance_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {
namespace cuda {

// Enough blocks of 256 threads to fill the device several times over (grid-stride loops).
inline unsigned grid_for(int64_t work) {
  const int64_t blocks = (work + 255) / 256;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

/// Inputs of the fused x step, [N,C,H,W] float32 contiguous except fe ([N,1,H,W], shared by a
/// frame's channels), w (per-pixel data weights multiplying s, [N,1,H,W] like fe) and var (one
/// value when var_scalar). w, R, z and v may be null (uniform weights; no residual prior; last
/// step; fixed variance).
struct XStepArgs {
  int64_t N, C, H, W;
  const float* xt;
  const float* eps;
  const float* y;
  const float* fe;
  const float* w;
  const float* R;
  const float* var;
  bool var_scalar;
  const float* z;
  const float* v;
  float* out;
};

/// x_{t-1} in one pass; kTv: with the isotropic TV gather (shared-memory tile with a halo).
template <bool kTv>
cudaError_t launch_x_step(const XStepArgs& a, const GuidanceParams& p, cudaStream_t stream);

/// Inputs of the fused r step ([N,C,H,W] except fe and w [N,1,H,W]; w, z and v may be null).
struct RStepArgs {
  int64_t N, C, H, W;
  const float* rt;
  const float* R_hat;
  const float* y;
  const float* fe;
  const float* w;
  const float* Xs;
  const float* var;
  bool var_scalar;
  const float* z;
  const float* v;
  float* out;
};

cudaError_t launch_r_step(const RStepArgs& a, float s_r, float lambda_l1, const GuidanceParams& p,
                          cudaStream_t stream);

/// n standard normals of `stream` under `seed` (kernels/noise/philox_math.hpp).
cudaError_t launch_normal_fill(float* out, int64_t n, uint64_t seed, uint64_t stream_id,
                               cudaStream_t stream);

/// Guided filter of p guided by I ([planes, H, W] each), window radius r, regulariser eps.
/// `work` holds 6 planes * H * W floats of scratch.
cudaError_t launch_guided_filter(const float* p, const float* I, float* out, float* work,
                                 int64_t planes, int H, int W, int r, float eps,
                                 cudaStream_t stream);

}  // namespace cuda
}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
