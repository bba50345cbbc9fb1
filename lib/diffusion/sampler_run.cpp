// The parts of a step of Algorithm 1 (sampler_run.hpp).
#include "diffusion/sampler_run.hpp"

#include <algorithm>
#include <cmath>

#include "diffevent/diffusion/ebrd_model.hpp"
#include "diffusion/tiling.hpp"
#include "kernels/guidance/guidance.hpp"
#include "kernels/noise/noise.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace {

at::Tensor soft_threshold(const at::Tensor& v, const at::Tensor& t) {
  return at::sign(v) * at::relu(v.abs() - t);
}

// The kernels' schedule coefficients at step k.
kernels::GuidanceParams schedule_params(const NoiseSchedule& sched, const SamplerOptions& o,
                                        int k) {
  kernels::GuidanceParams p{};
  p.c1 = static_cast<float>(sched.posterior_c1(k));
  p.c2 = static_cast<float>(sched.posterior_c2(k));
  p.sigma = static_cast<float>(std::sqrt(sched.sigma2(k, o.variance)));
  p.log_beta = static_cast<float>(std::log(sched.beta(k)));
  p.log_beta_tilde = static_cast<float>(sched.posterior_log_variance_clipped(k));
  p.clip = o.clip;
  p.last = k == 0;
  return p;
}

}  // namespace

SamplerRun::SamplerRun(const SamplerOptions& options, const NoiseSchedule& schedule,
                       const at::Tensor& y_in, const at::Tensor& fe_in, const at::Tensor& w_in)
    : o(options), sched(schedule), y(y_in), fe(fe_in), w(w_in) {
  auto weight = [&](double s) { return w.defined() ? w * s : at::scalar_tensor(s, y.options()); };
  s_x = weight(o.s);
  s_r = weight(o.s_r);
  // A pixel of data weight w has the noise model's standard deviation 0.01 / sqrt(w).
  if (o.robust_residual > 0)
    robust_cut = o.robust_residual * (w.defined() ? 0.01 / w.clamp_min(1e-12).sqrt()
                                                  : at::scalar_tensor(0.01, y.options()));
}

// Counter-based noise (kernels/noise): draw d of a run is Philox stream d under the seed,
// generated on the run's device, so a seed gives the same noise on the CPU and on CUDA.
at::Tensor SamplerRun::noise() {
  at::Tensor z = kernels::philox_normal(y.sizes(), y.device(), o.seed, draws++);
  const int64_t half = y.size(0) / 2;
  if (o.antithetic && half > 0) z.narrow(0, half, half).copy_(z.narrow(0, 0, half).neg());
  return z;
}

at::Tensor SamplerRun::predict(DiffusionPrior& prior, const at::Tensor& x, int k, at::Tensor* v,
                               at::Tensor* eps_out) {
  ++calls;
  const int64_t N = y.size(0);
  const at::Tensor t =
      at::full({N}, sched.timestep(k), at::TensorOptions().dtype(at::kLong).device(y.device()));
  PriorOutput out = predict_tiled(prior, x, t, o);
  if (v) *v = out.v;
  if (eps_out) *eps_out = out.eps.to(at::kFloat).contiguous();
  at::Tensor x0 = sched.x0_from_eps_a(k) * x - sched.x0_from_eps_b(k) * out.eps;
  return o.clip ? x0.clamp(-1, 1) : x0;
}

at::Tensor SamplerRun::step(const at::Tensor& x, const at::Tensor& x0, int k, const at::Tensor& v,
                            bool learned) {
  if (o.ddim) {
    const at::Tensor eps = (sched.x0_from_eps_a(k) * x - x0) / sched.x0_from_eps_b(k);
    const double sig = sched.ddim_sigma(k, o.eta), abp = sched.alpha_bar_prev(k);
    at::Tensor out = std::sqrt(abp) * x0 + std::sqrt(std::max(0.0, 1 - abp - sig * sig)) * eps;
    if (k > 0 && sig > 0) out = out + sig * noise();
    return out;
  }
  at::Tensor mean = sched.posterior_c1(k) * x0 + sched.posterior_c2(k) * x;
  if (k == 0) return mean;
  if (learned && v.defined()) {
    const at::Tensor frac = (v + 1) / 2;
    const at::Tensor logvar =
        frac * std::log(sched.beta(k)) + (1 - frac) * sched.posterior_log_variance_clipped(k);
    return mean + at::exp(0.5 * logvar) * noise();
  }
  return mean + std::sqrt(sched.sigma2(k, o.variance)) * noise();
}

at::Tensor SamplerRun::x0_var(const DiffusionPrior& prior, int k) {
  // Created on the run's device (a host tensor would be copied, and synchronised, per step).
  at::Tensor v = prior.x0_variance(sched.timestep(k));
  v = v.defined() ? v.to(y.device(), at::kFloat)
                  : at::full({1}, (1 - sched.alpha_bar(k)) / sched.alpha_bar(k), y.options());
  return (v / 4).clamp_min(o.min_prior_variance).unsqueeze(0);
}

at::Tensor SamplerRun::x_step_fused(const DiffusionPrior& x_prior, const at::Tensor& x,
                                    const at::Tensor& eps_x, const at::Tensor& vx,
                                    const at::Tensor& R, bool with_residual, int k) {
  kernels::GuidanceParams p = schedule_params(sched, o, k);
  p.x0_a = static_cast<float>(sched.x0_from_eps_a(k));
  p.x0_b = static_cast<float>(sched.x0_from_eps_b(k));
  p.s = static_cast<float>(o.s);
  p.lambda_tv = static_cast<float>(o.lambda_tv);
  p.tv_eps = 1e-3f;
  p.learned = x_prior.metadata().learned_sigma && vx.defined();
  p.analytic = o.analytic_variance;
  p.beta_tilde = static_cast<float>(sched.posterior_variance(k));
  at::Tensor var = x0_var(x_prior, k);
  var = var.numel() == 1 ? var.contiguous() : var.expand_as(y).contiguous();
  const at::Tensor z = (k > 0 || o.analytic_variance) ? noise() : at::Tensor();
  return kernels::fused_x_step(x.contiguous(), eps_x, y.contiguous(), fe.contiguous(), w,
                               with_residual ? R.contiguous() : at::Tensor(), var, z,
                               p.learned ? vx.to(at::kFloat).contiguous() : at::Tensor(), p);
}

at::Tensor SamplerRun::x_step_reference(const DiffusionPrior& x_prior, const at::Tensor& x,
                                        const at::Tensor& x0, const at::Tensor& vx,
                                        const at::Tensor& R, int k) {
  at::Tensor x0g, analytic_var;
  if (o.guidance == GuidanceMode::kProximal) {
    // Prior: X ~ N(X_hat, v) with v = Var[x0 | x_t] / 4 >= floor (the prior's own value when
    // it knows it, else (1 - abar)/abar: uninformative). Data: exp(-s (y - f X - R)^2).
    // Their product, per pixel, is the guided clean prediction.
    const at::Tensor var = x0_var(x_prior, k);
    const at::Tensor curvature = 1 / var + 2 * s_x * fe * fe;
    at::Tensor X = ((x0 + 1) / 2 / var + 2 * s_x * fe * (y - R)) / curvature;
    // TV: one gradient step of the full objective, preconditioned by its diagonal curvature.
    if (o.lambda_tv > 0) X = X - o.lambda_tv / curvature * tv_isotropic_grad(X, 1e-3);
    x0g = 2 * X - 1;
    if (o.analytic_variance)
      analytic_var = sched.posterior_variance(k) +
                     sched.posterior_c1(k) * sched.posterior_c1(k) * 4 / curvature;
  } else {
    const at::Tensor X = (x0 + 1) / 2;
    at::Tensor g =
        -2 * s_x * fe * (y - fe * X - R) * 0.5;  // d/dx0 of the data term (Note [Spaces])
    if (o.lambda_tv > 0) g = g + o.lambda_tv * 0.5 * tv_isotropic_grad(X, 1e-3);
    const double step_w =
        o.guidance == GuidanceMode::kGradientSigma2 ? sched.sigma2(k, o.variance) : 1.0;
    // x_{t-1} = mu - w g  <=>  x0 shifted by -w g / c1 in the posterior mean.
    x0g = x0 - step_w * g / std::max(sched.posterior_c1(k), 1e-12);
  }
  if (o.clip) x0g = x0g.clamp(-1, 1);
  if (analytic_var.defined())
    return sched.posterior_c1(k) * x0g + sched.posterior_c2(k) * x +
           at::sqrt(analytic_var) * noise();
  return step(x, x0g, k, vx, x_prior.metadata().learned_sigma);
}

at::Tensor SamplerRun::r_step_fused(const DiffusionPrior& r_prior, const at::Tensor& r,
                                    const at::Tensor& vr, const at::Tensor& R,
                                    const at::Tensor& x0_next, int k) {
  kernels::GuidanceParams p = schedule_params(sched, o, k);
  p.learned = r_prior.metadata().learned_sigma && vr.defined();
  at::Tensor var = x0_var(r_prior, k);
  var = var.numel() == 1 ? var.contiguous() : var.expand_as(y).contiguous();
  const at::Tensor z = k > 0 ? noise() : at::Tensor();
  return kernels::fused_r_step(r.contiguous(), R.contiguous(), y.contiguous(), fe.contiguous(), w,
                               ((x0_next + 1) / 2).contiguous(), var, z,
                               p.learned ? vr.to(at::kFloat).contiguous() : at::Tensor(),
                               static_cast<float>(o.s_r), static_cast<float>(o.lambda_l1), p);
}

at::Tensor SamplerRun::robust_residual(const at::Tensor& x0_next) const {
  return soft_threshold(y - fe * (x0_next + 1) / 2, robust_cut);
}

at::Tensor SamplerRun::r_step_reference(const DiffusionPrior& r_prior, const at::Tensor& r,
                                        const at::Tensor& vr, const at::Tensor& R,
                                        const at::Tensor& x0_next, int k) {
  const at::Tensor Xs = (x0_next + 1) / 2;
  const at::Tensor var = x0_var(r_prior, k);  // R = r/2: same /4 as X
  const at::Tensor a = s_r + 1 / (2 * var);
  const at::Tensor m = (s_r * (y - fe * Xs) + R / (2 * var)) / a;
  // The L1 weight per pixel: lambda' sqrt(w) (kernels::r_l1_weight).
  const at::Tensor l1 =
      w.defined() ? o.lambda_l1 * w.sqrt() : at::scalar_tensor(o.lambda_l1, y.options());
  at::Tensor r0g = 2 * soft_threshold(m, l1 / (2 * a));
  if (o.clip) r0g = r0g.clamp(-1, 1);
  return step(r, r0g, k, vr, r_prior.metadata().learned_sigma);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
