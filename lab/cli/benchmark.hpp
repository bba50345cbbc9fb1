#pragma once
// `diffevent benchmark` (diffevent-lab): the quality benchmark of docs/quality.md.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deblur_flags.hpp"

namespace diffevent_cli {

struct BenchmarkArgs {
  std::string suite;   ///< Folder of samples (made from `photos` when it holds none).
  std::string photos;  ///< Held-out photos to simulate the suite from.
  std::string prior, residual_prior;  ///< Trained priors for the last row (optional).
  std::string report;                 ///< Also write the table (markdown) here.
  int crops_per_photo = 1;
  int width = 160, height = 120;
  /// Levels to evaluate (ideal, realistic, hard, and the held-out mild, noisy, asymmetric,
  /// refractory, leak, shake); empty: all. A level missing from the suite is simulated.
  std::vector<std::string> levels;
  /// The deblur rows' options: deblur's flags, with deblur's defaults (DeblurOptions).
  DeblurFlags deblur;
  /// When set: PNG montages (sRGB-encoded) of the first `montage_count` samples of each level,
  /// DIR/<level>_<sample>.png, columns blurry | EDI (enhanced E) | deblur (analytic prior) |
  /// deblur (trained priors, when given) | ground truth.
  std::string montage;
  int montage_count = 3;
  /// Skip the rows whose cost does not depend on the priors (for sweeps over trained priors).
  bool trained_only = false;
  /// The ablation: instead of one trained-priors row, deblur with the x prior alone (r = 0) and
  /// with the x and r priors, every other option the same.
  bool ablation = false;
  /// Simulate the suite in colour (linear RGB photos; events from their luminance, as a colour
  /// event camera's pixels see it) instead of grey. A suite keeps the mode it was made in; asking
  /// for the other one is an error that names both.
  bool colour = false;
  uint64_t seed = 0;
  bool json = false;
  /// Set (from a signal handler) to stop: the sampler stops within a step, the run with kCancelled.
  const std::atomic<bool>* cancel = nullptr;
};

/// Simulates (if needed) and evaluates the suite; prints the table. Returns the exit status.
int run_benchmark(const BenchmarkArgs& args);

/// The `benchmark` subcommand.
Command add_benchmark(CLI::App& app, const Common& c);

}  // namespace diffevent_cli
