#pragma once
// Private dispatcher of the fused proximal x step: validates once, picks the device.
#include <ATen/ATen.h>

#include "kernels/guidance/guidance_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// One pass over memory: x_{t-1} [N,C,H,W] from x_t, eps, y, fe [N,1,H,W], w (per-pixel data
/// weights [N,1,H,W] multiplying p.s; undefined: 1), R, var (numel 1 or N*C*H*W), z (noise;
/// unused when p.last) and v (learned variance; when p.learned). float32, same device.
at::Tensor fused_x_step(const at::Tensor& x_t, const at::Tensor& eps, const at::Tensor& y,
                        const at::Tensor& fe, const at::Tensor& w, const at::Tensor& R,
                        const at::Tensor& var, const at::Tensor& z, const at::Tensor& v,
                        const GuidanceParams& p);

/// One pass: r_{t-1} [N,C,H,W] from r_t, R_hat (= r0_hat / 2), y, fe [N,1,H,W], w (data weights
/// [N,1,H,W] multiplying s_r, or undefined), the clean x prediction X* in [0,1], var (numel 1 or
/// N*C*H*W), z and v as for fused_x_step.
at::Tensor fused_r_step(const at::Tensor& r_t, const at::Tensor& R_hat, const at::Tensor& y,
                        const at::Tensor& fe, const at::Tensor& w, const at::Tensor& Xs,
                        const at::Tensor& var, const at::Tensor& z, const at::Tensor& v, float s_r,
                        float lambda_l1, const GuidanceParams& p);

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
