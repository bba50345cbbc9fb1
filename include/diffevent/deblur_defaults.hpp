#pragma once
/// \file deblur_defaults.hpp
/// The deblur defaults, in one place for the library (SamplerOptions), the C API
/// (diffevent_deblur_params_init), the CLI and the benchmark. Chosen by the sweep of
/// docs/priors.md ("Defaults") on training-side photos with the shipped priors. No LibTorch
/// needed, so builds without it (the C API's parameter init) read the same values.

namespace diffevent {
inline namespace v1 {

/// Speed and quality of deblur(): how many posterior samples are averaged, whether their noise
/// is antithetic, and whether the residual prior runs (docs/sampler.md, "Presets", with the
/// seconds and PSNR each measured).
enum class DeblurPreset : int {
  kFast = 0,  ///< One sample, no residual prior.
  kBalanced =
      1,  ///< The default: an antithetic pair of samples, no residual prior (twice kFast's work).
  kBest = 2,  ///< Four antithetic pairs and the residual prior (16 times kFast's work).
};

/// What a preset sets (DeblurOptions::samples, SamplerOptions::antithetic, whether deblur()
/// runs the residual prior it is given).
struct DeblurPresetValues {
  int samples;
  bool antithetic;
  bool residual_prior;
};

/// The values of a preset (one place: the library, the C API and the CLI read them here).
inline constexpr DeblurPresetValues deblur_preset_values(DeblurPreset p) {
  switch (p) {
    case DeblurPreset::kFast:
      return {1, false, false};
    case DeblurPreset::kBest:
      return {8, true, true};
    case DeblurPreset::kBalanced:
    default:
      return {2, true, false};
  }
}

namespace deblur_defaults {

inline constexpr DeblurPreset kPreset =
    DeblurPreset::kBalanced;  ///< The preset of a default DeblurOptions.
inline constexpr int kSteps =
    100;  ///< Respaced steps over the whole schedule (a warm start runs start * steps).
inline constexpr double kS = 7500.0;         ///< Data weight of the x step (per unit data weight).
inline constexpr double kSR = 1e3;           ///< Data weight of the r step.
inline constexpr double kLambdaTv = 0.0;     ///< TV weight on x (relative to s).
inline constexpr double kLambdaL1 = 3000.0;  ///< L1 weight on r.
inline constexpr double kStart =
    0.05;  ///< Start of sampling (1: pure noise; < 1: warm start from EDI).
inline constexpr double kThresholdSigma =
    0.05;  ///< Threshold noise model's mismatch std (0: off, uniform data weights).
inline constexpr int kSamples =
    deblur_preset_values(kPreset).samples;  ///< Posterior samples averaged.
inline constexpr bool kAntithetic =
    deblur_preset_values(kPreset).antithetic;  ///< Antithetic noise pairs.
inline constexpr bool kResidualPrior =
    deblur_preset_values(kPreset).residual_prior;  ///< Run the r prior when given.
inline constexpr double kMinPriorVariance = 1e-4;  ///< Floor of the clean prediction's variance.
inline constexpr bool kGuidedEnhancer = true;      ///< f(E): guided filter (else identity).
inline constexpr bool kRampIntegral = true;  ///< E with Interpolation::kRamp (else kStep, EDI's).
inline constexpr int kGuidedRadius = 3;      ///< Guided filter window radius.
inline constexpr double kGuidedEps = 1e-3;   ///< Guided filter regulariser.

}  // namespace deblur_defaults
}  // namespace v1
}  // namespace diffevent
