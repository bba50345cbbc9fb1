#pragma once
// The deblurring flags `deblur` and `benchmark` share, bound straight to the fields of
// diffevent::DeblurOptions: --help shows the struct's own defaults, and a default changed there
// changes here with nothing else to edit.
#include <CLI/CLI.hpp>
#include <string>

#include "cli.hpp"
#include "diffevent/diffusion/options.hpp"

namespace diffevent_cli {

struct DeblurFlags {
  diffevent::DeblurOptions options;  ///< The numbers and switches bind here directly.
  /// Names the command line gives, turned into options' fields by resolve().
  std::string preset = diffevent::deblur_preset_name(diffevent::DeblurOptions::kPreset);
  std::string enhance, integral, guidance;
  CLI::App* app = nullptr;

  /// After parsing: the preset's values where the command line gave none, the named choices,
  /// validated (diffevent::validate).
  diffevent::DeblurOptions resolve() const;
  bool given(const char* flag) const { return app != nullptr && app->count(flag) > 0; }
  /// The threshold flags given: --threshold's value is `both` (the command holds it);
  /// --threshold-pos/-neg are bound to options.thresholds.
  ThresholdFlags thresholds(double both) const {
    ThresholdFlags f;
    if (given("--threshold")) f.both = both;
    if (given("--threshold-pos")) f.pos = options.thresholds.c_pos;
    if (given("--threshold-neg")) f.neg = options.thresholds.c_neg;
    return f;
  }
};

/// Adds the sampler's flags (--steps, --s, --s-r, --lambda-tv, --lambda-l1, --start,
/// --threshold-sigma, --preset, --samples, --antithetic, --enhance, --integral, --guidance,
/// --respacing, --ddim) to `sub`, bound to `flags`.
void add_deblur_flags(CLI::App& sub, DeblurFlags& flags);

}  // namespace diffevent_cli
