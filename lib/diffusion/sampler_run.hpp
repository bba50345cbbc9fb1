#pragma once
// Private: one run of Algorithm 1 (alternating_sampler.cpp drives the loop). SamplerRun holds
// what every step needs (schedule, options, the batch's y, f(E) and data weights, the noise
// stream, the network-call count) and does the parts of a step: a prior's clean prediction,
// the DDPM/DDIM move, and the guided x and r steps, each fused (kernels/guidance, the default
// path) or as the ATen reference composition the kernels are tested against, with the
// gradient-guidance modes of the slides (sigma2) and GDP (constant).
#include <ATen/ATen.h>

#include <cstdint>

#include "diffevent/diffusion/diffusion_prior.hpp"
#include "diffevent/diffusion/noise_schedule.hpp"
#include "diffevent/diffusion/options.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

// Note [Spaces]
// Priors live in [-1, 1]. x_lin = (x + 1) / 2 in [0, 1]; r_lin = r / 2 in [-1/2, 1/2] (a
// zero-centred residual). So d/dx = 0.5 d/dx_lin and d/dr = 0.5 d/dr_lin.

struct SamplerRun {
  SamplerRun(const SamplerOptions& options, const NoiseSchedule& schedule, const at::Tensor& y,
             const at::Tensor& fe, const at::Tensor& w);

  const SamplerOptions& o;
  const NoiseSchedule& sched;
  const at::Tensor& y;    ///< [N,C,H,W], linear.
  const at::Tensor& fe;   ///< f(E) [N,1,H,W].
  const at::Tensor& w;    ///< Per-pixel data weights [N,1,H,W], or undefined (uniform).
  at::Tensor s_x, s_r;    ///< The data weights of the x and r steps (s w, s_r w).
  at::Tensor robust_cut;  ///< robust_residual deviations of the noise model (undefined when 0).
  uint64_t draws = 0;     ///< Noise draws so far (draw d is Philox stream d under the seed).
  int64_t calls = 0;      ///< Network evaluations so far.

  /// The next standard normal draw shaped like y (antithetic halves when asked).
  at::Tensor noise();
  /// Clean prediction of `prior` at step k (and its learned variance v and raw eps).
  at::Tensor predict(DiffusionPrior& prior, const at::Tensor& x, int k, at::Tensor* v,
                     at::Tensor* eps_out = nullptr);
  /// Moves x_k to x_{k-1} given a (guided) clean prediction: DDPM posterior or DDIM.
  at::Tensor step(const at::Tensor& x, const at::Tensor& x0, int k, const at::Tensor& v,
                  bool learned);
  /// Variance of the clean prediction in [0,1]^2 units (x_lin = (x+1)/2, r_lin = r/2), floored.
  at::Tensor x0_var(const DiffusionPrior& prior, int k);

  /// x step (eq. 11-13) in the fused kernel: x_{k-1} from x_k, its eps and learned variance vx.
  at::Tensor x_step_fused(const DiffusionPrior& x_prior, const at::Tensor& x,
                          const at::Tensor& eps_x, const at::Tensor& vx, const at::Tensor& R,
                          bool with_residual, int k);
  /// x step as ATen compositions: proximal (the fused kernel's reference) or gradient guidance.
  at::Tensor x_step_reference(const DiffusionPrior& x_prior, const at::Tensor& x,
                              const at::Tensor& x0, const at::Tensor& vx, const at::Tensor& R,
                              int k);
  /// r step (eq. 14-16) in the fused kernel, given the clean x prediction x0_next from x_{k-1}.
  at::Tensor r_step_fused(const DiffusionPrior& r_prior, const at::Tensor& r, const at::Tensor& vr,
                          const at::Tensor& R, const at::Tensor& x0_next, int k);
  /// Without an r prior (SamplerOptions::robust_residual): the residual y - f(E) X of the clean
  /// prediction x0_next beyond robust_residual deviations of the noise model, as r_lin.
  at::Tensor robust_residual(const at::Tensor& x0_next) const;
  /// r step as ATen compositions (the closed-form soft threshold).
  at::Tensor r_step_reference(const DiffusionPrior& r_prior, const at::Tensor& r,
                              const at::Tensor& vr, const at::Tensor& R, const at::Tensor& x0_next,
                              int k);
};

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
