#include "diffevent/diffusion/alternating_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.hpp"
#include "diffusion/tiling.hpp"
#include "kernels/guidance/guidance.hpp"
#include "kernels/noise/noise.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

// Note [Spaces]
// Priors live in [-1, 1]. x_lin = (x + 1) / 2 in [0, 1]; r_lin = r / 2 in [-1/2, 1/2] (a
// zero-centred residual). So d/dx = 0.5 d/dx_lin and d/dr = 0.5 d/dr_lin.

at::Tensor soft_threshold(const at::Tensor& v, const at::Tensor& t) {
  return at::sign(v) * at::relu(v.abs() - t);
}

// Tile origins covering [0, n) with tiles of `size` every `stride`, the last flush with the end.
std::vector<int64_t> tile_starts(int64_t n, int64_t size, int64_t stride) {
  std::vector<int64_t> out;
  if (n <= size) return {0};
  for (int64_t s = 0;; s += stride) {
    if (s + size >= n) {
      out.push_back(n - size);
      break;
    }
    out.push_back(s);
  }
  return out;
}

// 1-D blending weight: a raised-cosine ramp over the first and last `ramp` samples of a tile
// (smooth, so blended predictions have no kinks; strictly positive, so pixels seen by a single
// tile keep their prediction after normalisation). Built with ATen on the target device: a
// host-built tensor would cost a host-to-device copy (and a synchronisation) per step.
at::Tensor ramp_weights(int64_t size, int64_t ramp, const at::TensorOptions& options) {
  const double r = static_cast<double>(std::max<int64_t>(ramp, 1));
  const at::Tensor u = at::arange(size, options.dtype(at::kDouble)) + 0.5;
  auto rise = [&](const at::Tensor& v) {
    return at::where(v >= r, at::ones_like(v), at::sin(M_PI / 2 * v / r).pow(2));
  };
  return at::minimum(rise(u), rise(static_cast<double>(size) - u))
      .clamp_min(1e-3)
      .to(options.dtype());
}

}  // namespace

namespace detail {

PriorOutput predict_tiles(DiffusionPrior& prior, const at::Tensor& x, const at::Tensor& t,
                          int64_t size, int64_t stride, bool blend, int64_t max_batch) {
  const int64_t N = x.size(0), H = x.size(2), W = x.size(3);
  const int64_t th = std::min(size, H), tw = std::min(size, W);
  const at::Tensor wy = ramp_weights(th, th == H ? 0 : (size - stride), x.options()),
                   wx = ramp_weights(tw, tw == W ? 0 : (size - stride), x.options());
  at::Tensor w2 = (wy.view({-1, 1}) * wx.view({1, -1})).view({1, 1, th, tw});
  if (!blend) w2 = at::ones_like(w2);  // hard tiles: for tests that must see seams
  std::vector<std::pair<int64_t, int64_t>> origins;
  for (int64_t y0 : tile_starts(H, th, stride))
    for (int64_t x0 : tile_starts(W, tw, stride)) origins.emplace_back(y0, x0);
  // Tiles go through the network in batches of up to max_batch tiles (each N frames): one
  // call per batch instead of one per tile, which is what keeps a GPU busy.
  const int64_t per_call = std::max<int64_t>(1, max_batch);
  at::Tensor eps = at::zeros_like(x), v, wsum = at::zeros({1, 1, H, W}, x.options());
  for (size_t first = 0; first < origins.size(); first += static_cast<size_t>(per_call)) {
    const size_t last = std::min(origins.size(), first + static_cast<size_t>(per_call));
    std::vector<at::Tensor> tiles;
    for (size_t k = first; k < last; ++k)
      tiles.push_back(x.narrow(2, origins[k].first, th).narrow(3, origins[k].second, tw));
    const int64_t count = static_cast<int64_t>(last - first);
    const PriorOutput out = prior.predict(at::cat(tiles, 0).contiguous(), t.repeat({count}));
    for (size_t k = first; k < last; ++k) {
      const int64_t b = static_cast<int64_t>(k - first) * N;
      const auto [y0, x0] = origins[k];
      if (!blend) {
        // Hard tiles: each pixel takes the last tile covering it (no averaging at all).
        eps.narrow(2, y0, th).narrow(3, x0, tw).copy_(out.eps.narrow(0, b, N));
        continue;
      }
      eps.narrow(2, y0, th).narrow(3, x0, tw).add_(out.eps.narrow(0, b, N) * w2);
      if (out.v.defined()) {
        if (!v.defined()) v = at::zeros_like(x);
        v.narrow(2, y0, th).narrow(3, x0, tw).add_(out.v.narrow(0, b, N) * w2);
      }
      wsum.narrow(2, y0, th).narrow(3, x0, tw).add_(w2);
    }
  }
  if (!blend) return {eps, at::Tensor()};
  return {eps / wsum, v.defined() ? v / wsum : v};
}

}  // namespace detail

namespace {

// Evaluates a prior on overlapping tiles above the pixel budget (blended predictions).
PriorOutput predict_tiled(DiffusionPrior& prior, const at::Tensor& x, const at::Tensor& t,
                          const SamplerOptions& o) {
  const TileGeometry g = resolve_tiles(o, prior.metadata());
  if (x.size(2) * x.size(3) <= g.above_pixels) return prior.predict(x, t);
  // About tile_batch tile-frames per call: a batch of N frames (posterior samples) takes
  // tile_batch / N tiles of each, so memory does not grow with N.
  const int tiles_per_call =
      static_cast<int>(std::max<int64_t>(1, o.tile_batch / std::max<int64_t>(1, x.size(0))));
  return detail::predict_tiles(prior, x, t, g.size, g.stride, true, tiles_per_call);
}

}  // namespace

TileGeometry resolve_tiles(const SamplerOptions& o, const PriorMetadata& m) {
  TileGeometry g;
  g.size = o.tile_size;
  const int k = std::max(1, m.size_multiple);
  if (g.size == 0) {
    if (m.global_attention) {
      // Twice the training size (measured: global attention made the xs prior's cost per pixel
      // 17 us at 64 x 64, 20 us at 128 x 128, 29 us at 160 x 120 and 92 us at 352 x 264, one
      // thread), at least 64 and at most GDP's 256.
      g.size = m.native_size > 0 ? std::clamp(2 * std::min(m.native_size, 128), 64, 256)
                                 : 256;  // no overflow
    } else {
      // Windowed or no attention: the cost per pixel is flat, so tiles only bound memory.
      g.size = 512;
    }
    g.size = (g.size + k - 1) / k * k;  // a tile needs no padding
  }
  // 5/8 of a tile: the overlap (3/8) is what the blend needs to hide a tile's cut context
  // (BlendedTilesLeaveNoSeams: 1.16 at 5/8, 1.22 at 3/4 against 1.14 at GDP's 1/2), with 12
  // tiles instead of 20 on a DAVIS 346 x 260 frame.
  g.stride = o.tile_stride > 0 ? std::min(o.tile_stride, g.size) : std::max(1, g.size * 5 / 8);
  // Whole frames up to 4 tiles' pixels with global attention; up to 1 MP (a 1280 x 720 frame
  // runs whole: about 0.8 GB of activations per posterior sample for the xs prior) otherwise.
  const int64_t whole = m.global_attention || o.tile_size > 0
                            ? 4 * static_cast<int64_t>(g.size) * g.size
                            : int64_t{1} << 20;
  g.above_pixels = o.tile_above_pixels > 0 ? o.tile_above_pixels : whole;
  return g;
}

AlternatingSampler::AlternatingSampler(std::shared_ptr<DiffusionPrior> x_prior,
                                       std::shared_ptr<DiffusionPrior> r_prior,
                                       SamplerOptions options)
    : x_prior_(std::move(x_prior)), r_prior_(std::move(r_prior)), options_(std::move(options)) {
  DIFFEVENT_CHECK(x_prior_ != nullptr, ErrorCode::kInvalidArgument,
                  "sampler: the x prior is missing");
  const auto& o = options_;
  validate(o);
  DIFFEVENT_CHECK(o.steps <= x_prior_->metadata().num_timesteps, ErrorCode::kInvalidArgument,
                  "sampler: steps = {} must be in [1, {}]", o.steps,
                  x_prior_->metadata().num_timesteps);
  // Validates the respacing once, here.
  (void)NoiseSchedule({x_prior_->metadata().schedule, x_prior_->metadata().num_timesteps,
                       o.respacing.empty() ? std::to_string(o.steps) : o.respacing});
  for (const auto* pr : {x_prior_.get(), r_prior_.get()}) {
    if (!pr) continue;
    DIFFEVENT_CHECK(pr->metadata().data_min == -1.0 && pr->metadata().data_max == 1.0,
                    ErrorCode::kUnsupported,
                    "sampler: priors trained on data in [{}, {}] are not supported; the sampler "
                    "expects [-1, 1]",
                    pr->metadata().data_min, pr->metadata().data_max);
  }
  if (r_prior_) {
    const auto& a = x_prior_->metadata();
    const auto& b = r_prior_->metadata();
    DIFFEVENT_CHECK(a.num_timesteps == b.num_timesteps && a.schedule == b.schedule,
                    ErrorCode::kInvalidArgument,
                    "sampler: the x and r priors use different noise schedules");
  }
}

SampleResult AlternatingSampler::sample(const EbrdModel& model) const {
  std::vector<SampleResult> out = sample_batch({model});
  return out.front();
}

std::vector<SampleResult> AlternatingSampler::sample_batch(
    const std::vector<EbrdModel>& models) const {
  DIFFEVENT_CHECK(!models.empty(), ErrorCode::kInvalidArgument, "sampler: the batch is empty");
  const int64_t C = models[0].y().size(0), H = models[0].y().size(1), W = models[0].y().size(2);
  for (size_t i = 1; i < models.size(); ++i) {
    DIFFEVENT_CHECK(models[i].y().sizes() == models[0].y().sizes(), ErrorCode::kInvalidArgument,
                    "sampler: frame {} of the batch is [{}] but frame 0 is [{}, {}, {}]", i,
                    fmt::join(models[i].y().sizes(), ", "), C, H, W);
  }
  // Pad to the priors' size multiple by reflection (replication for 1-pixel sides), sample,
  // crop back. f(E) is padded the same way, so the padded border stays data-consistent.
  int64_t mult = x_prior_->metadata().size_multiple;
  if (r_prior_) mult = std::max<int64_t>(mult, r_prior_->metadata().size_multiple);
  const int64_t ph = (mult - H % mult) % mult, pw = (mult - W % mult) % mult;
  auto pad = [&](const at::Tensor& t) {
    if (ph == 0 && pw == 0) return t.unsqueeze(0);
    const bool reflect = ph < H && pw < W;
    return reflect ? at::reflection_pad2d(t.unsqueeze(0), {0, pw, 0, ph})
                   : at::replication_pad2d(t.unsqueeze(0), {0, pw, 0, ph});
  };
  std::vector<at::Tensor> ys, fes, ws;
  const bool weighted = std::any_of(models.begin(), models.end(),
                                    [](const EbrdModel& m) { return m.data_weight().defined(); });
  for (const auto& m : models) {
    ys.push_back(pad(m.y().to(at::kFloat)));
    fes.push_back(pad(m.f_e().to(at::kFloat)));
    if (weighted)
      ws.push_back(pad(m.data_weight().defined() ? m.data_weight().to(at::kFloat)
                                                 : at::ones_like(m.f_e(), at::kFloat)));
  }
  // Every tensor of the run lives on the x prior's device; only the result comes back.
  const at::Device dev = x_prior_->device();
  const SampleResult r =
      sample_unpadded(at::cat(ys, 0).to(dev).contiguous(), at::cat(fes, 0).to(dev).contiguous(),
                      weighted ? at::cat(ws, 0).to(dev).contiguous() : at::Tensor());
  std::vector<SampleResult> out;
  for (size_t i = 0; i < models.size(); ++i) {
    SampleResult one;
    one.x = r.x[static_cast<int64_t>(i)].narrow(1, 0, H).narrow(2, 0, W).to(at::kCPU).contiguous();
    one.r = r.r[static_cast<int64_t>(i)].narrow(1, 0, H).narrow(2, 0, W).to(at::kCPU).contiguous();
    one.network_calls = r.network_calls;
    one.fused_steps = r.fused_steps;
    out.push_back(std::move(one));
  }
  return out;
}

SampleResult AlternatingSampler::sample_unpadded(const at::Tensor& y, const at::Tensor& fe,
                                                 const at::Tensor& w) const {
  const auto& o = options_;
  const PriorMetadata& meta = x_prior_->metadata();
  const NoiseSchedule sched({meta.schedule, meta.num_timesteps,
                             o.respacing.empty() ? std::to_string(o.steps) : o.respacing});
  const int K = sched.num_steps();
  // y [N,C,H,W] and f(E) [N,1,H,W]: N frames share every network call.
  const int64_t N = y.size(0);
  const int64_t C = y.size(1);
  DIFFEVENT_CHECK(meta.channels == C, ErrorCode::kInvalidArgument,
                  "sampler: the x prior has {} channels, the image {}", meta.channels, C);
  // Counter-based noise (kernels/noise): draw d of a run is Philox stream d under the seed,
  // generated on the run's device, so a seed gives the same noise on the CPU and on CUDA.
  uint64_t draws = 0;
  auto noise = [&]() {
    at::Tensor z = kernels::philox_normal(y.sizes(), y.device(), o.seed, draws++);
    const int64_t half = y.size(0) / 2;
    if (o.antithetic && half > 0) z.narrow(0, half, half).copy_(z.narrow(0, 0, half).neg());
    return z;
  };
  SampleResult res;
  int64_t calls = 0;

  // Clean prediction (and learned variance v, and the raw eps) of a prior at step k.
  auto predict = [&](DiffusionPrior& prior, const at::Tensor& x, int k, at::Tensor* v,
                     at::Tensor* eps_out = nullptr) {
    ++calls;
    const at::Tensor t =
        at::full({N}, sched.timestep(k), at::TensorOptions().dtype(at::kLong).device(y.device()));
    PriorOutput out = predict_tiled(prior, x, t, o);
    if (v) *v = out.v;
    if (eps_out) *eps_out = out.eps.to(at::kFloat).contiguous();
    at::Tensor x0 = sched.x0_from_eps_a(k) * x - sched.x0_from_eps_b(k) * out.eps;
    return o.clip ? x0.clamp(-1, 1) : x0;
  };
  // Moves x_k to x_{k-1} given a (guided) clean prediction: DDPM posterior or DDIM.
  auto step = [&](const at::Tensor& x, const at::Tensor& x0, int k, const at::Tensor& v,
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
  };

  // Variance of the clean prediction in [0,1]^2 units (x_lin = (x+1)/2, r_lin = r/2), floored.
  auto x0_var = [&](const DiffusionPrior& prior, int k) {
    // Created on the run's device (a host tensor would be copied, and synchronised, per step).
    at::Tensor v = prior.x0_variance(sched.timestep(k));
    v = v.defined() ? v.to(y.device(), at::kFloat)
                    : at::full({1}, (1 - sched.alpha_bar(k)) / sched.alpha_bar(k), y.options());
    return (v / 4).clamp_min(o.min_prior_variance).unsqueeze(0);
  };
  // The first step: the last one (pure noise), or with a warm start the last step whose
  // timestep is within start * (T - 1), where x is the forward-diffused EDI estimate.
  int k_first = K - 1;
  at::Tensor x, r;
  if (o.start < 1) {
    const double t_max = o.start * (meta.num_timesteps - 1);
    while (k_first > 0 && sched.timestep(k_first) > t_max) --k_first;
    const double ab = sched.alpha_bar(k_first);
    const at::Tensor x_init = 2 * (y / fe.clamp_min(1e-6)).clamp(0, 1) - 1;
    x = std::sqrt(ab) * x_init + std::sqrt(1 - ab) * noise();
    r = r_prior_ ? std::sqrt(1 - ab) * noise() : at::zeros_like(y);
  } else {
    x = noise();
    r = r_prior_ ? noise() : at::zeros_like(y);
  }
  at::Tensor vx, eps_x;
  at::Tensor x0 =
      predict(*x_prior_, x, k_first, &vx, &eps_x);  // reused across steps: see class comment
  // The fused kernels take the per-pixel data weights (EbrdModel::set_data_weight) as they are.
  const bool fused = o.fused_kernel && o.guidance == GuidanceMode::kProximal && !o.ddim;
  auto weight = [&](double s) { return w.defined() ? w * s : at::scalar_tensor(s, y.options()); };
  const at::Tensor s_x = weight(o.s), s_r = weight(o.s_r);
  const int run_steps = k_first + 1;
  for (int k = k_first; k >= 0; --k) {
    if (o.cancel && o.cancel->load())
      throw Error(ErrorCode::kCancelled,
                  fmt::format("sampling cancelled at step {} of {}", run_steps - k, run_steps));
    at::Tensor vr;
    const at::Tensor r0 = r_prior_ ? predict(*r_prior_, r, k, &vr) : at::zeros_like(y);
    const at::Tensor R = r0 / 2;
    // --- x step (eq. 11-13): guide the clean prediction x0 with s||y - f(E)X - R||^2 + lambda TV.
    at::Tensor x0g, x_prev, analytic_var;
    if (fused) {
      kernels::GuidanceParams p{};
      p.x0_a = static_cast<float>(sched.x0_from_eps_a(k));
      p.x0_b = static_cast<float>(sched.x0_from_eps_b(k));
      p.c1 = static_cast<float>(sched.posterior_c1(k));
      p.c2 = static_cast<float>(sched.posterior_c2(k));
      p.sigma = static_cast<float>(std::sqrt(sched.sigma2(k, o.variance)));
      p.log_beta = static_cast<float>(std::log(sched.beta(k)));
      p.log_beta_tilde = static_cast<float>(sched.posterior_log_variance_clipped(k));
      p.s = static_cast<float>(o.s);
      p.lambda_tv = static_cast<float>(o.lambda_tv);
      p.tv_eps = 1e-3f;
      p.clip = o.clip;
      p.last = k == 0;
      p.learned = meta.learned_sigma && vx.defined();
      p.analytic = o.analytic_variance;
      p.beta_tilde = static_cast<float>(sched.posterior_variance(k));
      at::Tensor var = x0_var(*x_prior_, k);
      var = var.numel() == 1 ? var.contiguous() : var.expand_as(y).contiguous();
      const at::Tensor z = (k > 0 || o.analytic_variance) ? noise() : at::Tensor();
      x_prev = kernels::fused_x_step(x.contiguous(), eps_x, y.contiguous(), fe.contiguous(), w,
                                     r_prior_ ? R.contiguous() : at::Tensor(), var, z,
                                     p.learned ? vx.to(at::kFloat).contiguous() : at::Tensor(), p);
    } else if (o.guidance == GuidanceMode::kProximal) {
      // Prior: X ~ N(X_hat, v) with v = Var[x0 | x_t] / 4 >= floor (the prior's own value when
      // it knows it, else (1 - abar)/abar: uninformative). Data: exp(-s (y - f X - R)^2).
      // Their product, per pixel, is the guided clean prediction.
      const at::Tensor var = x0_var(*x_prior_, k);
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
    if (fused) ++res.fused_steps;
    if (!fused) {
      if (o.clip) x0g = x0g.clamp(-1, 1);
      if (analytic_var.defined()) {
        x_prev = sched.posterior_c1(k) * x0g + sched.posterior_c2(k) * x +
                 at::sqrt(analytic_var) * noise();
      } else {
        x_prev = step(x, x0g, k, vx, meta.learned_sigma);
      }
    }
    // Clean x predicted from x_{t-1} (eq. 16); it is also the next step's x0.
    at::Tensor x0_next =
        k > 0 ? predict(*x_prior_, x_prev, k - 1, &vx, &eps_x) : x_prev.clamp(-1, 1);
    // --- r step (eq. 14-16): s'||y - f(E)X* - R||^2 + lambda' ||R||_1, closed form (soft
    // threshold).
    if (r_prior_ && fused) {
      kernels::GuidanceParams p{};
      p.c1 = static_cast<float>(sched.posterior_c1(k));
      p.c2 = static_cast<float>(sched.posterior_c2(k));
      p.sigma = static_cast<float>(std::sqrt(sched.sigma2(k, o.variance)));
      p.log_beta = static_cast<float>(std::log(sched.beta(k)));
      p.log_beta_tilde = static_cast<float>(sched.posterior_log_variance_clipped(k));
      p.clip = o.clip;
      p.last = k == 0;
      p.learned = r_prior_->metadata().learned_sigma && vr.defined();
      at::Tensor var = x0_var(*r_prior_, k);
      var = var.numel() == 1 ? var.contiguous() : var.expand_as(y).contiguous();
      const at::Tensor z = k > 0 ? noise() : at::Tensor();
      r = kernels::fused_r_step(r.contiguous(), R.contiguous(), y.contiguous(), fe.contiguous(), w,
                                ((x0_next + 1) / 2).contiguous(), var, z,
                                p.learned ? vr.to(at::kFloat).contiguous() : at::Tensor(),
                                static_cast<float>(o.s_r), static_cast<float>(o.lambda_l1), p);
    } else if (r_prior_) {
      const at::Tensor Xs = (x0_next + 1) / 2;
      const at::Tensor var = x0_var(*r_prior_, k);  // R = r/2: same /4 as X
      const at::Tensor a = s_r + 1 / (2 * var);
      const at::Tensor m = (s_r * (y - fe * Xs) + R / (2 * var)) / a;
      at::Tensor r0g = 2 * soft_threshold(m, o.lambda_l1 / (2 * a));
      if (o.clip) r0g = r0g.clamp(-1, 1);
      r = step(r, r0g, k, vr, r_prior_->metadata().learned_sigma);
    }
    x = x_prev;
    x0 = x0_next;
    if (o.progress && !o.progress(run_steps - k, run_steps))
      throw Error(ErrorCode::kCancelled,
                  fmt::format("sampling cancelled at step {} of {}", run_steps - k, run_steps));
  }
  res.x = (x.clamp(-1, 1) + 1) / 2;
  res.r = r / 2;
  res.network_calls = calls;
  return res;
}

}  // namespace v1
}  // namespace diffevent
