#include "deblur_flags.hpp"

#include "cli.hpp"
#include "core/check.hpp"

using diffevent::Error;
using diffevent::ErrorCode;

namespace diffevent_cli {
namespace {

const char* enhancer_name(diffevent::Enhancer e) {
  return e == diffevent::Enhancer::kGuided ? "guided" : "identity";
}

const char* guidance_name(diffevent::GuidanceMode g) {
  switch (g) {
    case diffevent::GuidanceMode::kGradientSigma2:
      return "sigma2";
    case diffevent::GuidanceMode::kGradientConstant:
      return "constant";
    case diffevent::GuidanceMode::kProximal:
    default:
      return "proximal";
  }
}

}  // namespace

void add_deblur_flags(CLI::App& sub, DeblurFlags& f) {
  diffevent::DeblurOptions& o = f.options;
  diffevent::SamplerOptions& so = o.sampler;
  f.app = &sub;
  f.enhance = enhancer_name(o.enhancer.enhancer);
  f.integral = integral_name(o.interpolation);
  f.guidance = guidance_name(so.guidance);
  const diffevent::DeblurPresetValues fast =
      diffevent::deblur_preset_values(diffevent::DeblurPreset::kFast);
  const diffevent::DeblurPresetValues best =
      diffevent::deblur_preset_values(diffevent::DeblurPreset::kBest);
  sub.add_option("-p,--preset", f.preset,
                 fmt::format("fast | balanced | best | paper | noisy: {}, {} or {} posterior "
                             "samples averaged; paper is the "
                             "slides' Algorithm 1 as written (from noise, one sample, residual "
                             "prior); noisy is balanced trusting the events less, for sensors "
                             "with strong threshold mismatch or noise (docs/sampler.md, "
                             "\"Presets\"). Shipped priors, 2 CPU cores: a 160 x 120 frame in "
                             "about 1.1, 1.4, 3.5, 26 or 2.2 s, a DAVIS 346 x 260 frame in 2.5, "
                             "4.1, 15, 126 or 9.0 s; benchmark PSNR (realistic level) 33.99, "
                             "34.16, 34.16, 33.08 and 34.53 dB, hard level 26.22, 26.33, 26.34, "
                             "25.49 and 27.42 dB, ideal level 36.22, 36.44, 36.44, 34.65 and "
                             "35.94 dB",
                             fast.samples, o.samples, best.samples));
  sub.add_option(
      "--steps", so.steps,
      "Sampling steps, spaced over the whole schedule (the warm start runs start * steps)");
  sub.add_option("--respacing", so.respacing,
                 "guided-diffusion respacing spec (\"100\", \"ddim25\"; overrides --steps)");
  sub.add_option("--s", so.s, "Data weight of the x step");
  sub.add_option("--s-r", so.s_r, "Data weight of the r step");
  sub.add_option("--lambda-tv", so.lambda_tv, "TV weight on x (relative to s)");
  sub.add_option("--lambda-l1", so.lambda_l1, "L1 weight on r");
  sub.add_option("--robust-residual", so.robust_residual,
                 "Without an r prior: residuals beyond this many noise-model deviations become r "
                 "(0: off)");
  sub.add_option("--start", so.start,
                 "Start of sampling as a fraction of the schedule: 1 = pure noise; below 1 a warm "
                 "start from the EDI estimate (about start * steps steps run)");
  sub.add_option("--start-threshold", o.start_threshold,
                 "Threshold at which --start holds: for another threshold c the warm start's "
                 "noise level scales by c / this (0: --start as given)");
  sub.add_option("--start-threshold-max", o.start_threshold_max,
                 "Largest threshold the warm start follows: a larger c starts where this one "
                 "does (0: no limit; the preset's)");
  sub.add_option("--threshold-sigma", o.threshold_sigma,
                 "Threshold noise model: the sensor's per-pixel threshold mismatch std (0: off, "
                 "uniform data weights)");
  sub.add_option("--samples", o.samples,
                 "Posterior samples averaged, one batch (default: the preset's)")
      ->default_str("");
  sub.add_option("--antithetic", so.antithetic,
                 "Antithetic noise pairs among the samples (default: the preset's)")
      ->default_str("");
  sub.add_option("--enhance", f.enhance,
                 "f(E): identity, guided, or a TorchScript enhancer file (.pt)");
  sub.add_option("--guided-radius", o.enhancer.guided_radius,
                 "Guided f(E): window radius in pixels");
  sub.add_option("--guided-eps", o.enhancer.guided_eps,
                 "Guided f(E): regulariser (E's units squared): larger smooths more");
  sub.add_option("--integral", f.integral,
                 "E between events: step (EDI's jumps) or ramp (docs/edi.md)");
  sub.add_option("--guidance", f.guidance,
                 "proximal, sigma2 (the slides' eq. 13) or constant (GDP)");
  sub.add_flag("--ddim", so.ddim, "DDIM steps instead of DDPM");
}

diffevent::DeblurOptions DeblurFlags::resolve() const {
  diffevent::DeblurOptions o = options;
  // The preset's values where the command line gave none.
  const diffevent::DeblurOptions p =
      diffevent::deblur_options(diffevent::parse_deblur_preset(preset));
  if (!given("--samples")) o.samples = p.samples;
  if (!given("--antithetic")) o.sampler.antithetic = p.sampler.antithetic;
  if (!given("--start")) o.sampler.start = p.sampler.start;
  if (!given("--threshold-sigma")) o.threshold_sigma = p.threshold_sigma;
  if (!given("--robust-residual")) o.sampler.robust_residual = p.sampler.robust_residual;
  if (!given("--start-threshold-max")) o.start_threshold_max = p.start_threshold_max;
  o.residual_prior = p.residual_prior;
  if (enhance == "guided") {
    o.enhancer.enhancer = diffevent::Enhancer::kGuided;
  } else if (enhance == "identity") {
    o.enhancer.enhancer = diffevent::Enhancer::kIdentity;
  } else if (enhance.size() > 3 && (enhance.substr(enhance.size() - 3) == ".pt" ||
                                    enhance.find('/') != std::string::npos)) {
    o.enhancer.enhancer = diffevent::Enhancer::kTorchScript;  // a TorchScript enhancer file
    o.enhancer.enhancer_path = enhance;
  } else {
    throw Error(
        ErrorCode::kInvalidArgument,
        fmt::format("--enhance '{}': expected identity or guided (or a TorchScript .pt file)",
                    enhance));
  }
  o.interpolation = parse_integral(integral);
  if (guidance == "sigma2")
    o.sampler.guidance = diffevent::GuidanceMode::kGradientSigma2;
  else if (guidance == "constant")
    o.sampler.guidance = diffevent::GuidanceMode::kGradientConstant;
  else if (guidance == "proximal")
    o.sampler.guidance = diffevent::GuidanceMode::kProximal;
  else
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("--guidance '{}': expected proximal, sigma2 or constant", guidance));
  diffevent::validate(o);
  return o;
}

}  // namespace diffevent_cli
