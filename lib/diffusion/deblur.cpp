#include "diffevent/diffusion/deblur.hpp"

#include <algorithm>
#include <cmath>

#include "core/check.hpp"
#include "diffevent/diffusion/tensor_interop.hpp"
#include "diffevent/events/event_integrator.hpp"
#include "diffusion/heap.hpp"

namespace diffevent {
inline namespace v1 {

std::shared_ptr<DiffusionPrior> make_analytic_prior(int channels) {
  DIFFEVENT_CHECK(channels == 1 || channels == 3, ErrorCode::kInvalidArgument,
                  "analytic prior: channels must be 1 or 3, got {}", channels);
  PriorMetadata m;
  m.channels = channels;
  return std::make_shared<GaussianPrior>(at::zeros({channels, 1, 1}), at::ones({channels, 1, 1}),
                                         m);
}

EbrdModel make_ebrd_model(const Image& y_linear, const EventStream& events,
                          const Exposure& exposure, const Thresholds& thresholds,
                          double min_integral, const EbrdOptions& enhancer,
                          std::optional<TimestampUs> tau_us, Interpolation interpolation) {
  DIFFEVENT_CHECK(min_integral > 0 && min_integral < 1, ErrorCode::kInvalidArgument,
                  "deblur: min_integral must be in (0, 1), got {}", min_integral);
  IntegratorOptions io = IntegratorOptions::with(thresholds);
  io.interpolation = interpolation;
  const Image E = EventIntegrator(std::move(io))
                      .double_integral(events, exposure.t0_us, exposure.t1_us, tau_us);
  // E = y / x is at most 1 / min_integral for any x >= min_integral; beyond that lie pixels
  // whose threshold is far off (mismatch, noise bursts) and values the enhancer would overflow.
  return EbrdModel(image_to_tensor(y_linear),
                   image_to_tensor(E).clamp(min_integral, 1.0 / min_integral), enhancer);
}

at::Tensor threshold_noise_weights(const at::Tensor& y, const Image& sensitivity, double c,
                                   double threshold_sigma) {
  DIFFEVENT_CHECK(y.defined() && y.dim() == 3, ErrorCode::kInvalidArgument,
                  "threshold noise weights: y must be [C,H,W]");
  DIFFEVENT_CHECK(sensitivity.channels() == 1 && sensitivity.height() == y.size(1) &&
                      sensitivity.width() == y.size(2),
                  ErrorCode::kInvalidArgument,
                  "threshold noise weights: the sensitivity is {}x{}x{}, y [{}, {}, {}]",
                  sensitivity.channels(), sensitivity.height(), sensitivity.width(), y.size(0),
                  y.size(1), y.size(2));
  DIFFEVENT_CHECK(
      c > 0 && std::isfinite(c) && threshold_sigma >= 0 && std::isfinite(threshold_sigma),
      ErrorCode::kInvalidArgument,
      "threshold noise weights: c = {} must be > 0 and threshold_sigma = {} >= 0", c,
      threshold_sigma);
  const at::Tensor S = image_to_tensor(sensitivity).to(at::kFloat).nan_to_num(0.0, 1e6, 0.0);
  const at::Tensor q2 = 0.4 * c * S.clamp_max(1.0), m = threshold_sigma * S;
  const at::Tensor rel = at::sqrt(q2 * q2 + m * m + (c / 4) * (c / 4)).clamp_max(0.5);
  const at::Tensor sigma = y.to(at::kFloat).mean(0, /*keepdim=*/true).clamp_min(0.01) * rel;
  return (0.01 / sigma).pow(2);
}

// Note [Warm start and the threshold]
// The warm start forward-diffuses the EDI estimate to the first step's noise level, and the
// prior then corrects what that noise hides. The noise should be in proportion to the error
// it is meant to let the prior correct: the threshold noise model puts the estimate's
// quantisation error at c/4 (relative), so the start chosen at the reference threshold
// (DeblurOptions::start_threshold, the library's nominal 0.2) is moved, for another c, to the
// timestep whose noise-to-signal ratio sqrt((1 - abar) / abar) is c / reference times larger.
// On a DAVIS recording whose threshold is estimated at 0.58 this starts at about 0.07 instead
// of 0.02 (seven steps instead of two) and removes the speckle of noise events that EDI's
// division amplifies; at the reference it changes nothing, bit for bit. Above
// DeblurOptions::start_threshold_max the start stays where that threshold puts it: on
// training-side frames simulated at c = 1.5 and 2.5, following c all the way (17 and 25
// network calls) scored 0.03 and 0.10 dB below stopping at 1 (12 calls), while following it
// to 1 rather than not at all gained 1.3 to 1.4 dB (docs/sampler.md, "Warm start").
double threshold_scaled_start(const DeblurOptions& options, double c, const PriorMetadata& meta) {
  const double start = options.sampler.start;
  DIFFEVENT_CHECK(c > 0 && std::isfinite(c), ErrorCode::kInvalidArgument,
                  "warm start: the threshold {} must be finite and > 0", c);
  if (options.start_threshold <= 0 || start >= 1) return start;
  if (options.start_threshold_max > 0)
    c = std::min(c, std::max(options.start_threshold_max, options.start_threshold));
  if (c == options.start_threshold) return start;
  const NoiseSchedule base({meta.schedule, meta.num_timesteps, ""});
  const int64_t T = base.num_steps();
  const auto ratio = [&](int64_t t) {
    const double a = base.alpha_bar(static_cast<int>(t));
    return std::sqrt((1 - a) / a);
  };
  const int64_t t_ref = std::clamp<int64_t>(
      static_cast<int64_t>(std::floor(start * static_cast<double>(T - 1))), 0, T - 1);
  const double target = ratio(t_ref) * c / options.start_threshold;
  int64_t t = 0;  // the last timestep at or below the target (the ratio grows with t)
  while (t + 1 < T && ratio(t + 1) <= target) ++t;
  return std::min(1.0, (static_cast<double>(t) + 0.5) / static_cast<double>(T - 1));
}

DeblurResult deblur(const Image& blurry, const EventStream& events, const Exposure& exposure,
                    std::shared_ptr<DiffusionPrior> x_prior,
                    std::shared_ptr<DiffusionPrior> r_prior, const DeblurOptions& options) {
  DIFFEVENT_CHECK(!blurry.empty(), ErrorCode::kInvalidArgument,
                  "deblur: the blurry image is empty");
  DIFFEVENT_CHECK(blurry.width() == events.width() && blurry.height() == events.height(),
                  ErrorCode::kInvalidArgument,
                  "deblur: the blurry image is {}x{} but the events come from a {}x{} sensor",
                  blurry.width(), blurry.height(), events.width(), events.height());
  DIFFEVENT_CHECK(exposure.valid(), ErrorCode::kInvalidArgument,
                  "deblur: the exposure [{}, {}] us is empty or longer than 2^63 us",
                  exposure.t0_us, exposure.t1_us);
  DIFFEVENT_CHECK(blurry.all_finite(), ErrorCode::kInvalidArgument,
                  "deblur: the blurry image has NaN or infinite values");
  validate(options);
  DeblurResult res;
  EdiOptions eo;
  eo.thresholds = options.thresholds;
  if (options.auto_threshold) {
    res.estimate = Edi(eo).estimate_threshold(blurry, events, exposure, options.threshold_search);
    eo.thresholds = Thresholds::symmetric(res.estimate.c);
    res.threshold_estimated = true;
  }
  res.c_pos = eo.thresholds.c_pos;
  res.c_neg = eo.thresholds.c_neg;
  Image y = blurry;
  if (options.linearize_srgb) srgb_to_linear(y);
  EbrdModel model = make_ebrd_model(y, events, exposure, eo.thresholds, options.min_integral,
                                    options.enhancer, options.tau_us, options.interpolation);
  if (options.threshold_sigma > 0) {
    IntegratorOptions io = IntegratorOptions::with(eo.thresholds);
    io.interpolation = options.interpolation;
    const Image S =
        EventIntegrator(std::move(io))
            .threshold_sensitivity(events, exposure.t0_us, exposure.t1_us, options.tau_us);
    model.set_data_weight(threshold_noise_weights(
        model.y(), S, 0.5 * (eo.thresholds.c_pos + eo.thresholds.c_neg), options.threshold_sigma));
  }
  if (!x_prior) x_prior = make_analytic_prior(blurry.channels());
  if (!options.residual_prior) r_prior.reset();
  SamplerOptions so = options.sampler;  // See Note [Warm start and the threshold]
  so.start = threshold_scaled_start(options, 0.5 * (eo.thresholds.c_pos + eo.thresholds.c_neg),
                                    x_prior->metadata());
  res.start = so.start;
  const AlternatingSampler sampler(std::move(x_prior), std::move(r_prior), std::move(so));
  // N posterior samples in one batch (each frame of the batch draws its own noise), averaged.
  const std::vector<SampleResult> runs =
      sampler.sample_batch(std::vector<EbrdModel>(static_cast<size_t>(options.samples), model));
  std::vector<at::Tensor> xs, rs;
  for (const SampleResult& run : runs) {
    xs.push_back(run.x);
    rs.push_back(run.r);
  }
  res.sharp = tensor_to_image(at::stack(xs).mean(0));
  if (options.linearize_srgb) linear_to_srgb(res.sharp);
  res.residual = tensor_to_image(at::stack(rs).mean(0));
  // The last line of defence: a result is never NaN or infinite (the priors' outputs and the
  // parameters are checked before; this names what slipped through instead of returning it).
  DIFFEVENT_CHECK(res.sharp.all_finite() && res.residual.all_finite(), ErrorCode::kInternal,
                  "deblur: the sampler produced NaN or infinite values (steps {}, s = {}, s_r = "
                  "{}, lambda_l1 = {}, "
                  "threshold_sigma = {}); please report the inputs",
                  options.sampler.steps, options.sampler.s, options.sampler.s_r,
                  options.sampler.lambda_l1, options.threshold_sigma);
  res.network_calls = runs[0].network_calls;
  res.fused_steps = runs[0].fused_steps;
  detail::release_free_memory();  // See Note [Heap and activations]
  return res;
}

}  // namespace v1
}  // namespace diffevent
