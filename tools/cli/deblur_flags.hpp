#pragma once
// The deblurring flags `deblur` and `benchmark` share, bound straight to the fields of
// diffevent::DeblurOptions: --help shows the struct's own defaults, and a default changed there
// changes here with nothing else to edit.
#include <CLI/CLI.hpp>
#include <string>

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
};

/// Adds the sampler's flags (--steps, --s, --s-r, --lambda-tv, --lambda-l1, --start,
/// --threshold-sigma, --preset, --samples, --antithetic, --enhance, --integral, --guidance,
/// --respacing, --ddim) to `sub`, bound to `flags`.
void add_deblur_flags(CLI::App& sub, DeblurFlags& flags);

}  // namespace diffevent_cli
