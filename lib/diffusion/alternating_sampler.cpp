#include "diffevent/diffusion/alternating_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.hpp"
#include "diffusion/sampler_run.hpp"
#include "diffusion/tiling.hpp"

// Note [The robust residual]
// Without an r prior, r is what the slides' r step gives under the Laplace prior alone: before
// each x step, the residual y - f(E) X of that step's clean prediction, soft-thresholded at
// robust_residual standard deviations of the threshold noise model (the L1 MAP of r), and the
// x step fits y - r. (After an x step the next step's prediction is the one just made, so
// this is also the r step that follows each x step; the first step computes its own from the
// warm start's prediction instead of fitting with r = 0: 0.09 dB more at the training-side
// hard level at the same ideal-level figure, docs/priors.md.) Where the events describe a pixel
// within its expected error, r stays 0 and nothing changes; where they are far off (a pixel whose
// own threshold is far from c, bursts of noise events), the data stop pulling x towards the EDI
// value, and the prior's correction stands: a Huber data term instead of a quadratic one. It needs
// a clean prediction worth comparing with the data, which a warm start gives from its first step;
// from pure noise the early predictions are vague and would send everything into r, so it is off
// there.
namespace diffevent {
inline namespace v1 {

using detail::SamplerRun;
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
  const int64_t C = y.size(1);
  DIFFEVENT_CHECK(meta.channels == C, ErrorCode::kInvalidArgument,
                  "sampler: the x prior has {} channels, the image {}", meta.channels, C);
  SamplerRun run(o, sched, y, fe, w);
  SampleResult res;
  // The first step: the last one (pure noise), or with a warm start the last step whose
  // timestep is within start * (T - 1), where x is the forward-diffused EDI estimate.
  int k_first = K - 1;
  at::Tensor x, r;
  if (o.start < 1) {
    const double t_max = o.start * (meta.num_timesteps - 1);
    while (k_first > 0 && sched.timestep(k_first) > t_max) --k_first;
    const double ab = sched.alpha_bar(k_first);
    const at::Tensor x_init = 2 * (y / fe.clamp_min(1e-6)).clamp(0, 1) - 1;
    x = std::sqrt(ab) * x_init + std::sqrt(1 - ab) * run.noise();
    r = r_prior_ ? std::sqrt(1 - ab) * run.noise() : at::zeros_like(y);
  } else {
    x = run.noise();
    r = r_prior_ ? run.noise() : at::zeros_like(y);
  }
  at::Tensor vx, eps_x;
  at::Tensor x0 =
      run.predict(*x_prior_, x, k_first, &vx, &eps_x);  // reused across steps: see class comment
  // The fused kernels take the per-pixel data weights (EbrdModel::set_data_weight) as they are.
  const bool fused = o.fused_kernel && o.guidance == GuidanceMode::kProximal && !o.ddim;
  // See Note [The robust residual]: only from a warm start.
  const bool robust = !r_prior_ && o.robust_residual > 0 && o.start < 1;
  if (robust) r = 2 * run.robust_residual(x0);  // the first step's, from its own prediction
  const int run_steps = k_first + 1;
  for (int k = k_first; k >= 0; --k) {
    if (o.cancel && o.cancel->load())
      throw Error(ErrorCode::kCancelled,
                  fmt::format("sampling cancelled at step {} of {}", run_steps - k, run_steps));
    at::Tensor vr;
    const at::Tensor r0 = r_prior_ ? run.predict(*r_prior_, r, k, &vr) : r;
    const at::Tensor R = r0 / 2;
    // x step: guide the clean prediction x0 with s||y - f(E)X - R||^2 + lambda TV.
    const at::Tensor x_prev =
        fused ? run.x_step_fused(*x_prior_, x, eps_x, vx, R, r_prior_ != nullptr || robust, k)
              : run.x_step_reference(*x_prior_, x, x0, vx, R, k);
    if (fused) ++res.fused_steps;
    // Clean x predicted from x_{t-1} (eq. 16); it is also the next step's x0.
    at::Tensor x0_next =
        k > 0 ? run.predict(*x_prior_, x_prev, k - 1, &vx, &eps_x) : x_prev.clamp(-1, 1);
    // r step: s'||y - f(E)X* - R||^2 + lambda' ||R||_1.
    if (r_prior_)
      r = fused ? run.r_step_fused(*r_prior_, r, vr, R, x0_next, k)
                : run.r_step_reference(*r_prior_, r, vr, R, x0_next, k);
    else if (robust)
      r = 2 * run.robust_residual(x0_next);
    x = x_prev;
    x0 = x0_next;
    if (o.progress && !o.progress(run_steps - k, run_steps))
      throw Error(ErrorCode::kCancelled,
                  fmt::format("sampling cancelled at step {} of {}", run_steps - k, run_steps));
  }
  res.x = (x.clamp(-1, 1) + 1) / 2;
  res.r = r / 2;
  res.network_calls = run.calls;
  return res;
}

}  // namespace v1
}  // namespace diffevent
