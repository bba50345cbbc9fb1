// Cost of one prior evaluation (a network forward) per pixel: the shipped x prior (or
// DIFFEVENT_BENCH_PRIOR), one image, as the sampler calls it.
// Run: build/bench/prior_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "diffevent/diffusion/diffusion_prior.hpp"

using namespace diffevent;

namespace {

std::string prior_path() {
  const char* env = std::getenv("DIFFEVENT_BENCH_PRIOR");
  return env ? env : std::string(DIFFEVENT_SOURCE_DIR) + "/models/x_prior_grey.pt";
}

// args: width, height, batch, threads, optimize (freeze + optimize_for_inference at load)
void BM_Prior_Forward(benchmark::State& state) {
  const std::string path = prior_path();
  if (!std::ifstream(path)) {
    state.SkipWithError(
        "no shipped x prior (models/x_prior_grey.pt; or set DIFFEVENT_BENCH_PRIOR)");
    return;
  }
  const int64_t W = state.range(0), H = state.range(1), N = state.range(2);
  at::set_num_threads(static_cast<int>(state.range(3)));
  TorchScriptPriorOptions o;
  o.optimize = state.range(4) != 0;
  const auto prior = load_prior(path, o);
  const int64_t m = prior->metadata().size_multiple;
  const int64_t w = (W + m - 1) / m * m, h = (H + m - 1) / m * m;
  at::manual_seed(0);
  const at::Tensor x = at::randn({N, prior->metadata().channels, h, w});
  const at::Tensor t = at::full({N}, 30, at::kLong);
  for (int i = 0; i < 3; ++i)
    prior->predict(x, t);  // warm-up: the executor profiles and optimises the first calls
  for (auto _ : state) benchmark::DoNotOptimize(prior->predict(x, t));
  const double px = static_cast<double>(N * w * h);
  state.SetItemsProcessed(static_cast<int64_t>(px) * state.iterations());
  state.counters["us_per_px"] = benchmark::Counter(
      px * 1e-6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Prior_Forward)
    ->ArgNames({"w", "h", "batch", "threads", "optimize"})
    ->Args({128, 128, 1, 1, 1})
    ->Args({256, 256, 1, 1, 1})
    ->Args({256, 256, 1, 1, 0})
    ->Args({346, 260, 1, 1, 1})
    ->Args({160, 120, 2, 2, 1})
    ->Args({160, 120, 4, 2, 1})
    ->Args({160, 120, 8, 2, 1})
    ->Args({346, 260, 2, 2, 1})
    ->Args({256, 256, 2, 2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
