#include "diffevent/deblur.hpp"

#include "diffevent/error.hpp"
#include "diffevent/event_integrator.hpp"
#include "diffevent/tensor_interop.hpp"

namespace diffevent {
inline namespace v1 {

std::shared_ptr<DiffusionPrior> make_analytic_prior(int channels) {
  DIFFEVENT_CHECK(channels == 1 || channels == 3, ErrorCode::kInvalidArgument,
                  "analytic prior: channels must be 1 or 3, got {}", channels);
  PriorMetadata m;
  m.channels = channels;
  return std::make_shared<GaussianPrior>(at::zeros({channels, 1, 1}), at::ones({channels, 1, 1}), m);
}

EbrdModel make_ebrd_model(const Image& y_linear, const EventStream& events, const Exposure& exposure,
                          const Thresholds& thresholds, double min_integral, const EbrdOptions& enhancer) {
  DIFFEVENT_CHECK(min_integral > 0 && min_integral < 1, ErrorCode::kInvalidArgument,
                  "deblur: min_integral must be in (0, 1), got {}", min_integral);
  const Image E = EventIntegrator(IntegratorOptions::with(thresholds)).double_integral(events, exposure.t0_us, exposure.t1_us);
  // E = y / x is at most 1 / min_integral for any x >= min_integral; beyond that lie pixels
  // whose threshold is far off (mismatch, noise bursts) and values the enhancer would overflow.
  return EbrdModel(image_to_tensor(y_linear), image_to_tensor(E).clamp(min_integral, 1.0 / min_integral), enhancer);
}

DeblurResult deblur(const Image& blurry, const EventStream& events, const Exposure& exposure,
                    std::shared_ptr<DiffusionPrior> x_prior, std::shared_ptr<DiffusionPrior> r_prior,
                    const DeblurOptions& options) {
  DIFFEVENT_CHECK(!blurry.empty(), ErrorCode::kInvalidArgument, "deblur: the blurry image is empty");
  DIFFEVENT_CHECK(blurry.width() == events.width() && blurry.height() == events.height(), ErrorCode::kInvalidArgument,
                  "deblur: the blurry image is {}x{} but the events come from a {}x{} sensor", blurry.width(),
                  blurry.height(), events.width(), events.height());
  DIFFEVENT_CHECK(exposure.t1_us > exposure.t0_us, ErrorCode::kInvalidArgument,
                  "deblur: the exposure [{}, {}] us is empty", exposure.t0_us, exposure.t1_us);
  DIFFEVENT_CHECK(blurry.all_finite(), ErrorCode::kInvalidArgument, "deblur: the blurry image has NaN or infinite values");
  DIFFEVENT_CHECK(options.min_integral > 0 && options.min_integral < 1, ErrorCode::kInvalidArgument,
                  "deblur: min_integral must be in (0, 1), got {}", options.min_integral);
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
  const EbrdModel model = make_ebrd_model(y, events, exposure, eo.thresholds, options.min_integral, options.enhancer);
  if (!x_prior) x_prior = make_analytic_prior(blurry.channels());
  const SampleResult s = AlternatingSampler(std::move(x_prior), std::move(r_prior), options.sampler).sample(model);
  res.sharp = tensor_to_image(s.x);
  if (options.linearize_srgb) linear_to_srgb(res.sharp);
  res.residual = tensor_to_image(s.r);
  res.network_calls = s.network_calls;
  return res;
}

}  // namespace v1
}  // namespace diffevent
