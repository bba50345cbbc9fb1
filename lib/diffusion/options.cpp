// Presets and the one validation of the deblurring options (include/diffevent/diffusion/
// options.hpp). No LibTorch: part of the event library, so the C API checks a caller's
// parameters before it loads its LibTorch plugin.
#include "diffevent/diffusion/options.hpp"

#include <cmath>

#include "core/check.hpp"

namespace diffevent {
inline namespace v1 {

DeblurOptions deblur_options(DeblurPreset preset) {
  DeblurOptions o;
  apply_preset(o, preset);
  return o;
}

void apply_preset(DeblurOptions& o, DeblurPreset preset) {
  const DeblurPresetValues v = deblur_preset_values(preset);
  o.samples = v.samples;
  o.sampler.antithetic = v.antithetic;
  o.residual_prior = v.residual_prior;
  o.sampler.start = v.start;
  o.threshold_sigma = v.threshold_sigma;
  o.sampler.robust_residual = v.robust_residual;
  o.start_threshold_max = v.start_threshold_max;
}

DeblurPreset parse_deblur_preset(const std::string& name) {
  for (DeblurPreset p : {DeblurPreset::kFast, DeblurPreset::kBalanced, DeblurPreset::kBest,
                         DeblurPreset::kPaper, DeblurPreset::kNoisy})
    if (name == deblur_preset_name(p)) return p;
  throw Error(ErrorCode::kInvalidArgument,
              fmt::format("preset '{}': expected fast, balanced, best, paper or noisy", name));
}

const char* deblur_preset_name(DeblurPreset preset) {
  switch (preset) {
    case DeblurPreset::kFast:
      return "fast";
    case DeblurPreset::kBest:
      return "best";
    case DeblurPreset::kPaper:
      return "paper";
    case DeblurPreset::kNoisy:
      return "noisy";
    case DeblurPreset::kBalanced:
    default:
      return "balanced";
  }
}

void validate(const EbrdOptions& o) {
  DIFFEVENT_CHECK(o.enhancer == Enhancer::kIdentity || o.enhancer == Enhancer::kGuided ||
                      o.enhancer == Enhancer::kTorchScript,
                  ErrorCode::kInvalidArgument, "enhancer {} is not an Enhancer value",
                  static_cast<int>(o.enhancer));
  DIFFEVENT_CHECK(o.guided_radius >= 1 && o.guided_radius <= 1024 && std::isfinite(o.guided_eps) &&
                      o.guided_eps > 0,
                  ErrorCode::kInvalidArgument,
                  "enhancer: guided_radius = {} must be in [1, 1024] and guided_eps = {} > 0",
                  o.guided_radius, o.guided_eps);
  DIFFEVENT_CHECK(o.enhancer != Enhancer::kTorchScript || !o.enhancer_path.empty(),
                  ErrorCode::kInvalidArgument, "enhancer: a TorchScript enhancer needs its file");
}

void validate(const SamplerOptions& o) {
  DIFFEVENT_CHECK(o.steps >= 1, ErrorCode::kInvalidArgument, "sampler: steps = {} must be >= 1",
                  o.steps);
  DIFFEVENT_CHECK(o.variance == VarianceType::kFixedSmall ||
                      o.variance == VarianceType::kFixedLarge ||
                      o.variance == VarianceType::kLearnedRange,
                  ErrorCode::kInvalidArgument, "sampler: variance {} is not a VarianceType value",
                  static_cast<int>(o.variance));
  DIFFEVENT_CHECK(o.guidance == GuidanceMode::kProximal ||
                      o.guidance == GuidanceMode::kGradientSigma2 ||
                      o.guidance == GuidanceMode::kGradientConstant,
                  ErrorCode::kInvalidArgument, "sampler: guidance {} is not a GuidanceMode value",
                  static_cast<int>(o.guidance));
  DIFFEVENT_CHECK(!o.analytic_variance || (o.guidance == GuidanceMode::kProximal && !o.ddim),
                  ErrorCode::kInvalidArgument,
                  "sampler: analytic_variance needs proximal guidance and DDPM steps");
  DIFFEVENT_CHECK((o.tile_size == 0 || (o.tile_size >= 8 && o.tile_size <= 65536)) &&
                      o.tile_stride >= 0 && (o.tile_size == 0 || o.tile_stride <= o.tile_size) &&
                      o.tile_above_pixels >= 0 && o.tile_batch >= 1,
                  ErrorCode::kInvalidArgument,
                  "sampler: tiles need size 0 (auto) or in [8, 65536], stride 0 (auto) or in [1, "
                  "size], tile_above_pixels >= 0 and tile_batch >= 1 (got size {}, stride {}, "
                  "above {}, batch {})",
                  o.tile_size, o.tile_stride, o.tile_above_pixels, o.tile_batch);
  auto weight_ok = [](double w) {
    return std::isfinite(w) && w >= 0 && w <= SamplerOptions::kMaxWeight;
  };
  DIFFEVENT_CHECK(
      weight_ok(o.s) && weight_ok(o.s_r) && weight_ok(o.lambda_tv) && weight_ok(o.lambda_l1),
      ErrorCode::kInvalidArgument,
      "sampler: the weights s = {}, s_r = {}, lambda_tv = {} and lambda_l1 = {} must be in [0, "
      "{:g}]",
      o.s, o.s_r, o.lambda_tv, o.lambda_l1, SamplerOptions::kMaxWeight);
  DIFFEVENT_CHECK(
      std::isfinite(o.robust_residual) && o.robust_residual >= 0 && o.robust_residual <= 1000,
      ErrorCode::kInvalidArgument, "sampler: robust_residual = {} must be in [0, 1000]",
      o.robust_residual);
  DIFFEVENT_CHECK(std::isfinite(o.min_prior_variance) && o.min_prior_variance >= 1e-12 &&
                      o.min_prior_variance <= 1e3,
                  ErrorCode::kInvalidArgument,
                  "sampler: min_prior_variance = {} must be in [1e-12, 1000]",
                  o.min_prior_variance);
  DIFFEVENT_CHECK(std::isfinite(o.eta) && o.eta >= 0 && o.eta <= 1, ErrorCode::kInvalidArgument,
                  "sampler: eta = {} must be in [0, 1]", o.eta);
  DIFFEVENT_CHECK(o.start > 0 && o.start <= 1, ErrorCode::kInvalidArgument,
                  "sampler: start = {} must be in (0, 1]", o.start);
}

void validate(const DeblurOptions& o) {
  validate(o.enhancer);
  validate(o.sampler);
  DIFFEVENT_CHECK(o.min_integral > 0 && o.min_integral < 1, ErrorCode::kInvalidArgument,
                  "deblur: min_integral must be in (0, 1), got {}", o.min_integral);
  DIFFEVENT_CHECK(o.start_threshold >= 0 && std::isfinite(o.start_threshold),
                  ErrorCode::kInvalidArgument,
                  "deblur: start_threshold must be finite and >= 0, got {}", o.start_threshold);
  DIFFEVENT_CHECK(o.start_threshold_max >= 0 && std::isfinite(o.start_threshold_max),
                  ErrorCode::kInvalidArgument,
                  "deblur: start_threshold_max must be finite and >= 0, got {}",
                  o.start_threshold_max);
  DIFFEVENT_CHECK(o.threshold_sigma >= 0 && std::isfinite(o.threshold_sigma),
                  ErrorCode::kInvalidArgument,
                  "deblur: threshold_sigma must be finite and >= 0, got {}", o.threshold_sigma);
  DIFFEVENT_CHECK(o.samples >= 1 && o.samples <= 64, ErrorCode::kInvalidArgument,
                  "deblur: samples must be in [1, 64], got {}", o.samples);
  DIFFEVENT_CHECK(
      o.interpolation == Interpolation::kStep || o.interpolation == Interpolation::kRamp,
      ErrorCode::kInvalidArgument, "deblur: interpolation {} is not an Interpolation",
      static_cast<int>(o.interpolation));
  if (!o.auto_threshold) validate(o.thresholds);
}

}  // namespace v1
}  // namespace diffevent
