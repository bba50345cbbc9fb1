#pragma once
/// \file deblur.hpp
/// deblur(): the whole EBRD pipeline for one frame (threshold, double integral, enhancer,
/// alternating sampler), as the CLI's `deblur` and the C API's diffevent_deblur run it.

#include <memory>
#include <optional>
#include <string>

#include "diffevent/alternating_sampler.hpp"
#include "diffevent/ebrd_model.hpp"
#include "diffevent/edi.hpp"
#include "diffevent/event_integrator.hpp"
#include "diffevent/export.hpp"

namespace diffevent {
inline namespace v1 {

/// Options for deblur().
struct DeblurOptions {
  /// Contrast thresholds of the double integral (ignored when auto_threshold is set).
  Thresholds thresholds = Thresholds::symmetric(0.2);
  /// Estimate a symmetric threshold with Edi::estimate_threshold first.
  bool auto_threshold = false;
  ThresholdSearchOptions threshold_search;
  /// The blurry frame is sRGB-encoded: linearise before, re-encode the sharp frame after.
  bool linearize_srgb = false;
  /// E is clamped to [min_integral, 1 / min_integral] before the enhancer (below as
  /// EdiOptions::min_integral; above, E = y / x cannot exceed it for x >= min_integral, and
  /// larger values come from pixels whose threshold is far off).
  double min_integral = 1e-3;
  /// How E interpolates the log intensity between events (IntegratorOptions::interpolation).
  Interpolation interpolation =
      deblur_defaults::kRampIntegral ? Interpolation::kRamp : Interpolation::kStep;
  /// f(E): by default the guided filter (deblur_defaults::kGuidedEnhancer).
  EbrdOptions enhancer = [] {
    EbrdOptions o;
    o.enhancer = deblur_defaults::kGuidedEnhancer ? Enhancer::kGuided : Enhancer::kIdentity;
    return o;
  }();
  /// The sampler's options; deblur() warm-starts by default (start = deblur_defaults::kStart).
  SamplerOptions sampler = [] {
    SamplerOptions s;
    s.start = deblur_defaults::kStart;
    s.antithetic = deblur_defaults::kAntithetic;
    return s;
  }();
  /// Threshold noise model. 0 (default): every pixel's data count alike, the paper's
  /// s ||y - f(E) x - r||^2. Above 0: the standard deviation (log units) of the sensor's
  /// per-pixel threshold mismatch, and the data term is weighted per pixel by the residual the
  /// thresholds leave there (threshold_noise_weights): pixels whose E rests on many events of
  /// uncertain size pull less against the priors. sampler.s then is the weight of a pixel whose
  /// expected residual is 0.01.
  double threshold_sigma = deblur_defaults::kThresholdSigma;
  /// Posterior samples averaged into the result (their mean estimates the posterior mean, which
  /// has a lower error than any one sample). They run as one batch: the same network calls,
  /// each on `samples` frames. 1 to 64.
  int samples = deblur_defaults::kSamples;
  /// Run the residual prior passed to deblur() (false: r = 0 and half the network calls).
  bool residual_prior = deblur_defaults::kResidualPrior;
  /// Reference time of the sharp frame (default: mid-exposure); inside the exposure.
  std::optional<TimestampUs> tau_us;
};

/// Default options with a preset's samples, antithetic noise and residual prior.
DIFFEVENT_API DeblurOptions deblur_options(DeblurPreset preset);

/// The preset named "fast", "balanced" or "best"; anything else is kInvalidArgument naming it.
DIFFEVENT_API DeblurPreset parse_deblur_preset(const std::string& name);

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
};

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
