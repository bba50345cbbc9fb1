#pragma once
/// \file options.hpp
/// Every option of deblurring, with its default, in one place: EbrdOptions (f(E)),
/// SamplerOptions (Algorithm 1), DeblurOptions (the whole pipeline) and the presets. Needs no
/// LibTorch, so the C API's parameter defaults (diffevent_deblur_params_init), its validation
/// before the LibTorch plugin loads, the CLI's flags and their --help all read these structs.
/// Change a default here and every one of them follows.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "diffevent/core/export.hpp"
#include "diffevent/diffusion/noise_schedule.hpp"
#include "diffevent/events/edi.hpp"
#include "diffevent/events/event_integrator.hpp"

namespace diffevent {
inline namespace v1 {

/// How f(E) enhances the double integral.
enum class Enhancer {
  kIdentity,    ///< f(E) = E.
  kGuided,      ///< Self-guided filter of E (edge-preserving smoothing of the double integral).
  kTorchScript  ///< A TorchScript module forward(E [1,1,H,W], y [1,C,H,W]) -> f(E) [1,1,H,W].
};

/// Options of EbrdModel: f(E).
struct EbrdOptions {
  Enhancer enhancer = Enhancer::kIdentity;
  int guided_radius = 3;      ///< Guided filter window radius (pixels), >= 1.
  double guided_eps = 1e-3;   ///< Guided filter regulariser (in E's units squared), > 0.
  std::string enhancer_path;  ///< kTorchScript: the module's file.
};

/// How the data term guides the clean predictions (docs/sampler.md).
enum class GuidanceMode {
  /// Default. The data term is diagonal in x, so its proximal step around the prior's clean
  /// prediction is closed form per pixel ("pseudo-inverse guidance"); stable for any s, and
  /// with a weak prior and large s it reproduces EDI exactly.
  kProximal,
  /// The slides' eq. (13) literally: x_{t-1} = mu - sigma_t^2 * grad (vanishes late, explodes
  /// early).
  kGradientSigma2,
  /// GDP's code: x_{t-1} = mu - grad (constant weight).
  kGradientConstant,
};

/// Options of AlternatingSampler (Algorithm 1 as written unless told otherwise; deblur() sets
/// its own start and antithetic noise, below in DeblurOptions).
struct SamplerOptions {
  /// The largest data or regulariser weight: far beyond any useful setting, so that the
  /// guidance arithmetic cannot overflow.
  static constexpr double kMaxWeight = 1e9;

  int steps = 100;  ///< Respaced steps K over the whole schedule (guided-diffusion "K" spacing).
  /// Overrides `steps` with any guided-diffusion respacing spec ("100", "10,20,30", "ddim25").
  std::string respacing;
  bool ddim = false;                                  ///< DDIM(eta) instead of DDPM steps.
  double eta = 0.0;                                   ///< DDIM noise, in [0, 1].
  VarianceType variance = VarianceType::kFixedSmall;  ///< For priors without learned sigma.
  GuidanceMode guidance = GuidanceMode::kProximal;
  /// Data weight of the x step, s ||y - f(E)x - r||^2 (per unit data weight: with the threshold
  /// noise model, the weight of a pixel whose expected residual is 0.01).
  double s = 7500.0;
  double s_r = 1e3;        ///< Data weight of the r step (per unit data weight, as s).
  double lambda_tv = 0.0;  ///< TV weight on x (isotropic, eps 1e-3), relative to s.
  /// L1 weight on r at a pixel whose expected residual is 0.01 (unit data weight): the Laplace
  /// prior of that standard deviation, sqrt(2) / 0.01. With the threshold noise model each
  /// pixel's weight is lambda_l1 sqrt(w), w its data weight (docs/sampler.md, "The r step").
  double lambda_l1 = 141.42135623730951;
  /// Without an r prior, from a warm start (start < 1): before each x step the residual
  /// y - f(E) x of its clean prediction beyond this many of the threshold noise model's
  /// standard deviations becomes r (a soft threshold: the Laplace MAP of r), which the x step
  /// subtracts, so pixels whose events are far off stop pulling x (a Huber data term;
  /// docs/sampler.md, "The robust residual"). 0: off (r = 0). In [0, 1000].
  double robust_residual = 0.0;
  /// Floor of the clean prediction's variance (proximal mode), in [0,1]^2 units: keeps late
  /// steps data-consistent. In [1e-12, 1000].
  double min_prior_variance = 1e-4;
  bool clip = true;  ///< Clamp clean predictions to [-1, 1].
  /// Proximal mode: reverse variance beta~_k + c1_k^2 Var[x0 | x_k, y] (the guided clean
  /// prediction's own variance), noise on the last step too. Exact ancestral sampling of the
  /// posterior when the prior is Gaussian (the test oracle); off: the variance type above.
  bool analytic_variance = false;
  /// Use the fused one-pass kernels (CPU, or CUDA when the x prior runs there) for the proximal
  /// DDPM x and r steps (else the ATen composition of the same formulas, kept as the reference
  /// the kernels are tested against).
  bool fused_kernel = true;
  /// Above this many pixels per frame the networks are evaluated on overlapping tiles whose
  /// noise predictions are blended with smooth weights at every step, so all tiles share one
  /// x_t and no seams form. 0 (the default) picks each from the prior (`resolve_tiles`). A
  /// prior whose cost per pixel is flat (PriorMetadata::global_attention false: attention in
  /// windows, as the shipped priors', or none) runs frames up to 1 MP whole and larger ones on
  /// 512-pixel tiles, which only bound memory. A prior with global attention, whose cost per
  /// pixel grows with the frame, gets tiles twice its training size (native_size), at least 64
  /// and at most 256 pixels (GDP's 256 when unknown), tiling above 4 tiles' pixels. Stride 5/8
  /// of a tile. Sizes 0 or in [8, 65536]; stride 0 or in [1, size].
  int64_t tile_above_pixels = 0;
  int tile_size = 0;
  int tile_stride = 0;
  /// Tile-frames per network call: each call takes tile_batch / N tiles (at least one) of all
  /// N frames of a batch, so posterior averaging does not multiply the memory.
  int tile_batch = 16;
  /// Where sampling starts, as a fraction of the diffusion schedule, in (0, 1]. 1: from pure
  /// noise at the last timestep, as Algorithm 1 does. Below 1 (a warm start, as in SDEdit and
  /// Chung et al.'s "come closer, diffuse faster"): only the respaced steps whose timestep is at
  /// most start * (T - 1) run, and x starts as the forward-diffused EDI estimate y / f(E)
  /// (clamped to [0, 1]) at the first of them, r as the forward-diffused 0. `steps` still
  /// spaces the whole schedule, so about start * steps steps (and network calls) run.
  double start = 1.0;
  /// Antithetic noise: in a batch of N frames, frame N/2 + i draws the negated noise of frame i
  /// at every draw (each frame's noise is still a standard normal draw). For copies of one frame
  /// (deblur()'s posterior samples) the pair's average cancels the noise's first-order effect,
  /// so a few samples estimate the posterior mean as well as many independent ones.
  bool antithetic = false;
  uint64_t seed = 0;
  /// Called after each step with (step done, total); return false to cancel.
  std::function<bool(int, int)> progress;
  /// Set from any thread to cancel; checked every step.
  const std::atomic<bool>* cancel = nullptr;
};

/// Speed and quality of deblur(): how many posterior samples are averaged, whether their noise
/// is antithetic, whether the residual prior runs, and where sampling starts (docs/sampler.md,
/// "Presets", with the seconds and PSNR each measured).
enum class DeblurPreset : int {
  kFast = 0,      ///< One sample, no residual prior.
  kBalanced = 1,  ///< The default: an antithetic pair, no residual prior (twice kFast's work).
  kBest = 2,      ///< Four antithetic pairs (8 times kFast's work).
  /// The slides' Algorithm 1 as written: from pure noise (start 1, every step), one sample,
  /// uniform data weights (threshold_sigma 0) and the residual prior: 100 times kFast's work.
  kPaper = 3,
  /// For sensors with a strong threshold mismatch or many noise events: kBalanced's pair,
  /// trusting the events less (threshold_sigma 0.05) and letting the prior correct more
  /// (start 0.05, five steps instead of two). Better than kBalanced where the events are
  /// noisy, worse where they are clean (docs/quality.md, "Presets").
  kNoisy = 4,
};

/// What a preset sets (DeblurOptions::samples, SamplerOptions::antithetic, whether deblur()
/// runs the residual prior it is given, SamplerOptions::start, DeblurOptions::threshold_sigma,
/// SamplerOptions::robust_residual and DeblurOptions::start_threshold_max).
struct DeblurPresetValues {
  int samples;
  bool antithetic;
  bool residual_prior;
  double start;
  double threshold_sigma;
  double robust_residual;
  double start_threshold_max;
};

/// The values of a preset.
inline constexpr DeblurPresetValues deblur_preset_values(DeblurPreset p) {
  switch (p) {
    case DeblurPreset::kFast:
      return {1, false, false, 0.02, 0.01, 10.0, 0.6};
    case DeblurPreset::kBest:
      return {8, true, false, 0.02, 0.01, 10.0, 1.0};
    case DeblurPreset::kPaper:
      return {1, false, true, 1.0, 0.0, 0.0, 0.0};
    case DeblurPreset::kNoisy:
      return {2, true, false, 0.05, 0.05, 10.0, 1.0};
    case DeblurPreset::kBalanced:
    default:
      return {2, true, false, 0.02, 0.01, 10.0, 1.0};
  }
}

/// Options of deblur(): the defaults are the `balanced` preset, chosen by the sweep of
/// docs/priors.md ("Defaults") on training-side photos with the shipped priors: the data
/// weights and warm start with the largest worst-case gain over enhanced EDI across the
/// training-side degradation levels.
struct DeblurOptions {
  /// The preset a default DeblurOptions has.
  static constexpr DeblurPreset kPreset = DeblurPreset::kBalanced;

  /// Contrast thresholds of the double integral (ignored when auto_threshold is set).
  Thresholds thresholds;
  /// Estimate a symmetric threshold with Edi::estimate_threshold first.
  bool auto_threshold = false;
  ThresholdSearchOptions threshold_search;
  /// The blurry frame is sRGB-encoded: linearise before, re-encode the sharp frame after.
  bool linearize_srgb = false;
  /// E is clamped to [min_integral, 1 / min_integral] before the enhancer (below as
  /// EdiOptions::min_integral; above, E = y / x cannot exceed it for x >= min_integral, and
  /// larger values come from pixels whose threshold is far off). In (0, 1).
  double min_integral = EdiOptions{}.min_integral;
  /// How E interpolates the log intensity between events (IntegratorOptions::interpolation).
  Interpolation interpolation = Interpolation::kRamp;
  /// f(E): the self-guided filter.
  EbrdOptions enhancer = [] {
    EbrdOptions o;
    o.enhancer = Enhancer::kGuided;
    return o;
  }();
  /// The sampler: a warm start from 0.02 of the schedule (2 of 100 steps), antithetic noise and
  /// the robust residual (10 deviations of the threshold noise model) as the preset says.
  SamplerOptions sampler = [] {
    SamplerOptions s;
    s.start = deblur_preset_values(kPreset).start;
    s.antithetic = deblur_preset_values(kPreset).antithetic;
    s.robust_residual = deblur_preset_values(kPreset).robust_residual;
    return s;
  }();
  /// Threshold noise model. 0: every pixel's data count alike, the paper's
  /// s ||y - f(E) x - r||^2. Above 0: the standard deviation (log units) of the sensor's
  /// per-pixel threshold mismatch, and the data term is weighted per pixel by the residual the
  /// thresholds leave there (threshold_noise_weights): pixels whose E rests on many events of
  /// uncertain size pull less against the priors. sampler.s then is the weight of a pixel whose
  /// expected residual is 0.01.
  double threshold_sigma = deblur_preset_values(kPreset).threshold_sigma;
  /// The threshold at which sampler.start holds (0: start is used as given). For another
  /// threshold c (the mean of c_pos and c_neg, estimated or given), sampling starts where the
  /// diffusion's noise level is c / start_threshold times the one at sampler.start: the EDI
  /// estimate's quantisation error (c/4 in the threshold noise model) grows in proportion to c,
  /// and a warm start should add noise in proportion to the error it lets the prior correct.
  /// A recording whose threshold is estimated at 0.6 starts about three times as noisy as one
  /// at 0.2, where the defaults were chosen. A start of 1 (pure noise) is never changed.
  double start_threshold = Thresholds::kDefault;
  /// The largest threshold the warm start follows (0: no limit): a larger c starts where this
  /// one would, so a frame never runs more network calls than at this threshold (12 by
  /// default, where low-light DAVIS recordings whose estimates reach 3 ran up to 34). Following
  /// c beyond 1 gained nothing on training-side frames simulated at c = 1.5 and 2.5
  /// (docs/sampler.md, "Warm start"); the fast preset stops at 0.6. A value below
  /// start_threshold acts as start_threshold.
  double start_threshold_max = deblur_preset_values(kPreset).start_threshold_max;
  /// Posterior samples averaged into the result (their mean estimates the posterior mean, which
  /// has a lower error than any one sample). They run as one batch: the same network calls,
  /// each on `samples` frames. 1 to 64.
  int samples = deblur_preset_values(kPreset).samples;
  /// Run the residual prior passed to deblur() (false: r = 0 and half the network calls).
  bool residual_prior = deblur_preset_values(kPreset).residual_prior;
  /// Reference time of the sharp frame (default: mid-exposure); inside the exposure.
  std::optional<TimestampUs> tau_us;
};

/// Default options with a preset's values (DeblurPresetValues).
DIFFEVENT_API DeblurOptions deblur_options(DeblurPreset preset);

/// Sets a preset's values (DeblurPresetValues) in `options`, leaving the rest.
DIFFEVENT_API void apply_preset(DeblurOptions& options, DeblurPreset preset);

/// The preset named "fast", "balanced", "best", "paper" or "noisy"; anything else is
/// kInvalidArgument naming it.
DIFFEVENT_API DeblurPreset parse_deblur_preset(const std::string& name);

/// The name of a preset ("fast", "balanced", "best", "paper", "noisy").
DIFFEVENT_API const char* deblur_preset_name(DeblurPreset preset);

/// Checks every field that does not depend on the priors (those are checked when the sampler
/// meets them); kInvalidArgument naming the first bad one. The one validation of these
/// options: AlternatingSampler, deblur(), the C API (before its LibTorch plugin loads) and the
/// CLI all call it.
DIFFEVENT_API void validate(const EbrdOptions& options);
DIFFEVENT_API void validate(const SamplerOptions& options);
DIFFEVENT_API void validate(const DeblurOptions& options);

}  // namespace v1
}  // namespace diffevent
