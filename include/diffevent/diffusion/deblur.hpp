#pragma once
/// \file deblur.hpp
/// deblur(): the whole EBRD pipeline for one frame (threshold, double integral, enhancer,
/// alternating sampler), as the CLI's `deblur` and the C API's diffevent_deblur run it.

#include <memory>
#include <optional>
#include <string>

#include "diffevent/core/export.hpp"
#include "diffevent/diffusion/alternating_sampler.hpp"
#include "diffevent/diffusion/ebrd_model.hpp"
#include "diffevent/diffusion/options.hpp"
#include "diffevent/events/edi.hpp"
#include "diffevent/events/event_integrator.hpp"

namespace diffevent {
inline namespace v1 {

/// What deblur() returns. Images are [C,H,W] floats.
struct DeblurResult {
  Image sharp;       ///< x in [0,1] (sRGB-encoded when linearize_srgb).
  Image residual;    ///< r in linear units (zero-centred; about [-1/2, 1/2]).
  double c_pos = 0;  ///< Thresholds used.
  double c_neg = 0;
  bool threshold_estimated = false;
  ThresholdEstimate estimate;  ///< Filled when auto_threshold.
  int64_t network_calls = 0;
  int64_t fused_steps = 0;  ///< Sampler steps guided by the fused kernels (all of them by default).
  double start = 0;         ///< The warm start used (DeblurOptions::start_threshold applied).
};

/// The warm start deblur() uses for threshold c: sampler.start where start_threshold is 0, c
/// equals it or start is 1; otherwise the fraction of the schedule whose noise-to-signal ratio
/// sqrt((1 - abar) / abar) is c / start_threshold times the one at sampler.start, in the
/// schedule of `meta` (at most 1), c being limited to start_threshold_max when that is set.
DIFFEVENT_API double threshold_scaled_start(const DeblurOptions& options, double c,
                                            const PriorMetadata& meta);

/// The EBRD model deblur() samples: y (linear) with E, the double integral over the exposure at
/// `thresholds` (reference `tau_us`, default mid-exposure), clamped to [min_integral, 1 /
/// min_integral] and enhanced by `enhancer`. Shared by deblur(), the benchmark's enhanced EDI and
/// the residual training data, so all three see the same f(E).
DIFFEVENT_API EbrdModel make_ebrd_model(const Image& y_linear, const EventStream& events,
                                        const Exposure& exposure, const Thresholds& thresholds,
                                        double min_integral, const EbrdOptions& enhancer,
                                        std::optional<TimestampUs> tau_us = std::nullopt,
                                        Interpolation interpolation = Interpolation::kStep);

/// Data weights [1,H,W] of the threshold noise model (DeblurOptions::threshold_sigma): the
/// relative error of y / E at a pixel is modelled as
///   rel = min( sqrt( (c/4)^2 + (0.4 c min(S, 1))^2 + (threshold_sigma S)^2 ), 1/2 ),
/// the first two terms the quantisation by the threshold c (fitted on training-side samples
/// without mismatch, docs/priors.md), the third the mismatch through the sensitivity S of the
/// double integral (EventIntegrator::threshold_sensitivity). The residual's standard deviation
/// is then sigma = max(y, 0.01) rel (y averaged over channels) and the weight (0.01 / sigma)^2.
/// `y` is [C,H,W]; `sensitivity` [1,H,W] of the same size.
DIFFEVENT_API at::Tensor threshold_noise_weights(const at::Tensor& y, const Image& sensitivity,
                                                 double c, double threshold_sigma);
/// The analytic prior used when no x prior is given: x ~ N(0, 1) per pixel in [-1, 1] units.
DIFFEVENT_API std::shared_ptr<DiffusionPrior> make_analytic_prior(int channels);

/// Deblurs one frame: y = f(E) x + r sampled with Algorithm 1. `x_prior` null means
/// make_analytic_prior(blurry.channels()); `r_prior` null keeps r = 0. The blurry frame must
/// match the sensor size. Deterministic for a fixed seed, prior and device.
///
/// \code
///   DeblurOptions o;
///   o.sampler.steps = 50;
///   DeblurResult res = deblur(blurry, events, {0, 20000}, nullptr, nullptr, o);
/// \endcode
DIFFEVENT_API DeblurResult deblur(const Image& blurry, const EventStream& events,
                                  const Exposure& exposure, std::shared_ptr<DiffusionPrior> x_prior,
                                  std::shared_ptr<DiffusionPrior> r_prior,
                                  const DeblurOptions& options = {});

}  // namespace v1
}  // namespace diffevent
