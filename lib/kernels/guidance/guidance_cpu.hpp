#pragma once
// Private: the fused x and r steps on the CPU over raw float32 pointers (guidance.hpp's
// dispatchers check the tensors and call these).
#include <cstdint>

#include "kernels/guidance/guidance_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// x_{t-1} for NC planes of H x W (C channels per frame; fe and w per frame); wt, R, z, v may be
/// null.
void x_step_cpu(int64_t NC, int64_t C, int64_t H, int64_t W, const float* xt, const float* eps,
                const float* y, const float* fe, const float* wt, const float* R, const float* var,
                bool var_scalar, const float* z, const float* v, const GuidanceParams& p,
                float* out);

/// r_{t-1} for N frames of C planes of `plane` pixels; w, z, v may be null.
void r_step_cpu(int64_t N, int64_t C, int64_t plane, const float* rt_in, const float* R_hat,
                const float* y, const float* fe, const float* w, const float* Xs, const float* var,
                bool var_scalar, const float* z, const float* v, float s_r, float lambda_l1,
                const GuidanceParams& p, float* out);

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
