#pragma once
// `diffevent benchmark`: the quality benchmark of docs/quality.md.
#include <cstdint>
#include <string>

namespace diffevent_cli {

struct BenchmarkArgs {
  std::string suite;            ///< Folder of samples (made from `photos` when it holds none).
  std::string photos;           ///< Held-out photos to simulate the suite from.
  std::string prior, residual_prior;  ///< Trained priors for the last row (optional).
  std::string report;           ///< Also write the table (markdown) here.
  int crops_per_photo = 1;
  int width = 160, height = 120;
  int steps = 50;
  uint64_t seed = 0;
  bool json = false;
  bool cancelled_by_sigint = true;
};

/// Simulates (if needed) and evaluates the suite; prints the table. Returns the exit status.
int run_benchmark(const BenchmarkArgs& args);

}  // namespace diffevent_cli
