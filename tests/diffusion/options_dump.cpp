// Prints the deblur defaults as JSON, one object per source: "library" from the C++ option
// structs (include/diffevent/diffusion/options.hpp, the one place they are written) and "c_api"
// from diffevent_deblur_params_init and diffevent_edi_params_init. options_follow_test.py
// compares both, the CLI's --help and the Python binding's defaults.
#include <cstdio>
#include <string>

#include "diffevent/diffevent.h"
#include "diffevent/diffusion/options.hpp"

namespace {

void field(std::string& out, const char* name, double v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s\"%s\": %.17g", out.size() > 1 ? ", " : "", name, v);
  out += buf;
}

}  // namespace

int main() {
  for (int preset = 0; preset <= 4; ++preset) {
    const diffevent::DeblurOptions o =
        diffevent::deblur_options(static_cast<diffevent::DeblurPreset>(preset));
    std::string lib = "{";
    field(lib, "steps", o.sampler.steps);
    field(lib, "s", o.sampler.s);
    field(lib, "s_r", o.sampler.s_r);
    field(lib, "lambda_tv", o.sampler.lambda_tv);
    field(lib, "lambda_l1", o.sampler.lambda_l1);
    field(lib, "min_prior_variance", o.sampler.min_prior_variance);
    field(lib, "start", o.sampler.start);
    field(lib, "eta", o.sampler.eta);
    field(lib, "seed", static_cast<double>(o.sampler.seed));
    field(lib, "threshold_sigma", o.threshold_sigma);
    field(lib, "start_threshold", o.start_threshold);
    field(lib, "robust_residual", o.sampler.robust_residual);
    field(lib, "start_threshold_max", o.start_threshold_max);
    field(lib, "samples", o.samples);
    field(lib, "antithetic", o.sampler.antithetic);
    field(lib, "residual_prior", o.residual_prior);
    field(lib, "guided_radius", o.enhancer.guided_radius);
    field(lib, "guided_eps", o.enhancer.guided_eps);
    field(lib, "threshold", o.thresholds.c_pos);
    field(lib, "min_integral", o.min_integral);
    field(lib, "enhancer_guided", o.enhancer.enhancer == diffevent::Enhancer::kGuided);
    field(lib, "integral_ramp", o.interpolation == diffevent::Interpolation::kRamp);
    field(lib, "preset_is_default", preset == static_cast<int>(diffevent::DeblurOptions::kPreset));
    lib += "}";

    diffevent_deblur_params p;
    if (diffevent_deblur_params_init_preset(&p, preset) != DIFFEVENT_OK) return 1;
    diffevent_edi_params e;
    diffevent_edi_params_init(&e);
    std::string c = "{";
    field(c, "steps", p.steps);
    field(c, "s", p.s);
    field(c, "s_r", p.s_r);
    field(c, "lambda_tv", p.lambda_tv);
    field(c, "lambda_l1", p.lambda_l1);
    field(c, "min_prior_variance", p.min_prior_variance);
    field(c, "start", p.start);
    field(c, "eta", p.eta);
    field(c, "seed", static_cast<double>(p.seed));
    field(c, "threshold_sigma", p.threshold_sigma);
    field(c, "start_threshold", p.start_threshold);
    field(c, "robust_residual", p.robust_residual);
    field(c, "start_threshold_max", p.start_threshold_max);
    field(c, "samples", p.samples);
    field(c, "antithetic", p.antithetic);
    field(c, "residual_prior", p.residual_prior);
    field(c, "guided_radius", p.guided_radius);
    field(c, "guided_eps", p.guided_eps);
    field(c, "threshold", e.c_pos);
    field(c, "min_integral", e.min_integral);
    field(c, "enhancer_guided", p.enhancer_kind == DIFFEVENT_ENHANCER_GUIDED);
    // DIFFEVENT_INTEGRAL_DEFAULT is the library's choice.
    field(c, "integral_ramp",
          p.integral == DIFFEVENT_INTEGRAL_DEFAULT
              ? o.interpolation == diffevent::Interpolation::kRamp
              : p.integral == DIFFEVENT_INTEGRAL_RAMP);
    diffevent_deblur_params d;
    diffevent_deblur_params_init(&d);
    field(c, "preset_is_default",
          d.samples == p.samples && d.antithetic == p.antithetic &&
              d.residual_prior == p.residual_prior && d.start == p.start &&
              d.threshold_sigma == p.threshold_sigma && d.robust_residual == p.robust_residual);
    c += "}";
    std::printf("{\"preset\": %d, \"library\": %s, \"c_api\": %s}\n", preset, lib.c_str(),
                c.c_str());
  }
  return 0;
}
