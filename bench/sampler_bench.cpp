// The fused proximal x step against the ATen composition of the same formulas, and against
// this machine's memory bandwidth; plus a whole sampler step with the analytic prior.
// Run: build/bench/sampler_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bandwidth.hpp"
#include "diffevent/diffusion/alternating_sampler.hpp"
#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/events/event_stream.hpp"
#include "kernels/guidance/guidance.hpp"

#ifdef DIFFEVENT_BENCH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

using namespace diffevent;

namespace {

struct Inputs {
  at::Tensor xt, eps, y, fe, R, var, z;
  kernels::GuidanceParams p{};
  explicit Inputs(int64_t C, int64_t H, int64_t W, float lambda_tv) {
    at::manual_seed(0);
    xt = at::randn({1, C, H, W});
    eps = at::randn({1, C, H, W});
    y = at::rand({1, C, H, W});
    fe = at::rand({1, 1, H, W}) + 0.5f;
    R = 0.05f * at::randn({1, C, H, W});
    var = at::full({1}, 0.01f);
    z = at::randn({1, C, H, W});
    p.x0_a = 1.2f;
    p.x0_b = 0.6f;
    p.c1 = 0.3f;
    p.c2 = 0.7f;
    p.sigma = 0.05f;
    p.s = 1e4f;
    p.lambda_tv = lambda_tv;
    p.tv_eps = 1e-3f;
    p.clip = true;
  }
};

// The same formulas as separate ATen operations (what the sampler does without the kernel).
at::Tensor composed(const Inputs& in) {
  const auto& p = in.p;
  at::Tensor x0 = (p.x0_a * in.xt - p.x0_b * in.eps).clamp(-1, 1);
  at::Tensor X = (x0 + 1) / 2;
  const at::Tensor cur = 1 / in.var + 2 * p.s * in.fe * in.fe;
  X = (X / in.var + 2 * p.s * in.fe * (in.y - in.R)) / cur;
  if (p.lambda_tv > 0)
    X = X - p.lambda_tv / cur * tv_isotropic_grad(X.squeeze(0), p.tv_eps).unsqueeze(0);
  const at::Tensor x0g = (2 * X - 1).clamp(-1, 1);
  return p.c1 * x0g + p.c2 * in.xt + p.sigma * in.z;
}

void set_threads(benchmark::State& state) { at::set_num_threads(static_cast<int>(state.range(2))); }

void BM_GuidanceStep_Fused(benchmark::State& state) {
  set_threads(state);
  const Inputs in(3, state.range(0), state.range(0), static_cast<float>(state.range(1)));
  for (auto _ : state) {
    at::Tensor out = kernels::fused_x_step(in.xt, in.eps, in.y, in.fe, at::Tensor(), in.R, in.var,
                                           in.z, at::Tensor(), in.p);
    benchmark::DoNotOptimize(out.data_ptr<float>());
  }
  // Bytes that must move: read x_t, eps, y, R, z, write x_{t-1} (4 bytes each), read f(E).
  const int64_t n = in.xt.numel();
  state.SetBytesProcessed(state.iterations() * (6 * 4 * n + 4 * in.fe.numel()));
}

void BM_GuidanceStep_Aten(benchmark::State& state) {
  set_threads(state);
  const Inputs in(3, state.range(0), state.range(0), static_cast<float>(state.range(1)));
  for (auto _ : state) {
    at::Tensor out = composed(in);
    benchmark::DoNotOptimize(out.data_ptr<float>());
  }
  const int64_t n = in.xt.numel();
  state.SetBytesProcessed(state.iterations() * (6 * 4 * n + 4 * in.fe.numel()));
}

// args: size, lambda_tv, threads
BENCHMARK(BM_GuidanceStep_Fused)
    ->Args({256, 0, 1})
    ->Args({256, 100, 1})
    ->Args({1024, 0, 1})
    ->Args({1024, 100, 1})
    ->Args({1024, 100, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_GuidanceStep_Aten)
    ->Args({256, 0, 1})
    ->Args({256, 100, 1})
    ->Args({1024, 0, 1})
    ->Args({1024, 100, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_AlternatingSampler_StepAnalyticPrior(benchmark::State& state) {
  at::set_num_threads(1);
  const int64_t s = state.range(0);
  PriorMetadata m;
  m.channels = 3;
  auto prior = std::make_shared<GaussianPrior>(at::zeros({3, 1, 1}), at::ones({3, 1, 1}), m);
  const at::Tensor y = at::rand({3, s, s}), E = at::rand({1, s, s}) + 0.5f;
  SamplerOptions o;
  o.steps = 10;
  o.lambda_tv = 100;
  const EbrdModel model(y, E);
  for (auto _ : state) {
    SampleResult r = AlternatingSampler(prior, nullptr, o).sample(model);
    benchmark::DoNotOptimize(r.x.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * o.steps);  // steps/s
}
BENCHMARK(BM_AlternatingSampler_StepAnalyticPrior)
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A prior that times its network: separates network time from everything else in a step.
class TimedPrior : public DiffusionPrior {
 public:
  explicit TimedPrior(std::unique_ptr<DiffusionPrior> inner) : inner_(std::move(inner)) {}
  const PriorMetadata& metadata() const override { return inner_->metadata(); }
  at::Device device() const override { return inner_->device(); }
  PriorOutput predict(const at::Tensor& x, const at::Tensor& t) override {
    sync();
    const auto a = std::chrono::steady_clock::now();
    PriorOutput out = inner_->predict(x, t);
    sync();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    return out;
  }
  // On a GPU the network's time is only known once its kernels have finished.
  void sync() const {
#ifdef DIFFEVENT_BENCH_CUDA
    if (inner_->device().is_cuda()) c10::cuda::device_synchronize();
#endif
  }
  double seconds = 0;

 private:
  std::unique_ptr<DiffusionPrior> inner_;
};

// Times whole sampler runs (x prior only, TV on) with `prior` and reports steps/s, the
// network's share and the rest per step; the first run is a warm-up (cuDNN autotuning, the
// allocator) and is not counted.
// Tiles: tile_above_pixels, tile_size and tile_stride as SamplerOptions takes them (0: from
// the prior).
void run_unet_steps(benchmark::State& state, const std::shared_ptr<TimedPrior>& prior, int64_t W,
                    int64_t H, int steps, int64_t tile_above_pixels, int tile_size = 256,
                    int tile_stride = 128) {
  const int64_t C = prior->metadata().channels;
  const at::Tensor y = at::rand({C, H, W}), E = at::rand({1, H, W}) + 0.5f;
  SamplerOptions o;
  o.steps = steps;
  o.lambda_tv = 100;
  o.tile_above_pixels = tile_above_pixels;
  o.tile_size = tile_size;
  o.tile_stride = tile_stride;
  const EbrdModel model(y, E);
  AlternatingSampler(prior, nullptr, o).sample(model);
  prior->seconds = 0;
  double total = 0;
  for (auto _ : state) {
    const auto a = std::chrono::steady_clock::now();
    SampleResult r = AlternatingSampler(prior, nullptr, o).sample(model);
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    benchmark::DoNotOptimize(r.x.data_ptr<float>());
  }
  const double n = static_cast<double>(state.iterations()) * steps;
  state.SetItemsProcessed(state.iterations() * steps);
  state.counters["network_share"] = prior->seconds / total;
  state.counters["network_ms_per_step"] = 1e3 * prior->seconds / n;
  state.counters["non_network_ms_per_step"] = 1e3 * (total - prior->seconds) / n;
}

// Needs DIFFEVENT_BENCH_UNET=path (scripts/make_test_priors.py --bench-unet path); skipped
// otherwise.
void BM_AlternatingSampler_StepSmallUNet(benchmark::State& state) {
  const char* path = std::getenv("DIFFEVENT_BENCH_UNET");
  if (!path) {
    state.SkipWithError(
        "set DIFFEVENT_BENCH_UNET to a ~1M-parameter UNet (scripts/make_test_priors.py "
        "--bench-unet)");
    return;
  }
  at::set_num_threads(static_cast<int>(state.range(1)));
  run_unet_steps(state, std::make_shared<TimedPrior>(load_prior(path)), state.range(0),
                 state.range(0), 5, INT64_MAX);
}
BENCHMARK(BM_AlternatingSampler_StepSmallUNet)
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The shipped grey x prior (models/x_prior_grey.pt, or DIFFEVENT_BENCH_PRIOR); "" and the
// benchmark skipped when it is not there.
std::string shipped_x_prior(benchmark::State& state) {
  const char* env = std::getenv("DIFFEVENT_BENCH_PRIOR");
  const std::string path =
      env ? env : std::string(DIFFEVENT_SOURCE_DIR) + "/models/x_prior_grey.pt";
  if (std::ifstream(path)) return path;
  state.SkipWithError("no shipped x prior (models/x_prior_grey.pt; or set DIFFEVENT_BENCH_PRIOR)");
  return "";
}

// A DAVIS 346 x 260 frame with the shipped x prior (models/x_prior_grey.pt, or
// DIFFEVENT_BENCH_PRIOR), one thread: arg 0 runs the frame whole, 1 with the automatic tiling
// (whole as well for a prior whose attention runs in windows, as the shipped one's; 128-pixel
// tiles, stride 80, for one with global attention). Two steps (three network evaluations).
void BM_AlternatingSampler_DavisFrameShippedPrior(benchmark::State& state) {
  const std::string path = shipped_x_prior(state);
  if (path.empty()) return;
  at::set_num_threads(1);
  const bool tiled = state.range(0) != 0;
  run_unet_steps(state, std::make_shared<TimedPrior>(load_prior(path)), 346, 260, 2,
                 tiled ? 0 : INT64_MAX, 0, 0);
}
BENCHMARK(BM_AlternatingSampler_DavisFrameShippedPrior)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A whole `deblur()` call with the default preset and the shipped grey x prior on `device`: a
// W x H grey frame and about three events per pixel (uniform times over a 20 ms exposure,
// random polarities; the content does not change the work). Reports seconds per frame and the
// network's share; a first call (allocator, cuDNN autotuning) is not counted.
void run_deblur_frame(benchmark::State& state, const std::string& device, int W, int H) {
  const std::string path = shipped_x_prior(state);
  if (path.empty()) return;
  std::mt19937_64 rng(5);
  Image blurry(1, H, W);
  std::uniform_real_distribution<float> u(0.2f, 0.8f);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      blurry.at(0, y, x) =
          0.5f + 0.3f * std::sin(0.05f * x) * std::cos(0.07f * y) + 0.05f * (u(rng) - 0.5f);
  const size_t n = static_cast<size_t>(W) * static_cast<size_t>(H) * 3;
  std::vector<TimestampUs> t(n);
  std::vector<uint16_t> xs(n), ys(n);
  std::vector<int8_t> ps(n);
  std::uniform_int_distribution<TimestampUs> ut(0, 19999);
  for (auto& v : t) v = ut(rng);
  std::sort(t.begin(), t.end());
  for (size_t i = 0; i < n; ++i) {
    xs[i] = static_cast<uint16_t>(rng() % static_cast<uint64_t>(W));
    ys[i] = static_cast<uint16_t>(rng() % static_cast<uint64_t>(H));
    ps[i] = static_cast<int8_t>(rng() & 1);
  }
  const EventStream events =
      EventStream::from_arrays(W, H, std::move(t), std::move(xs), std::move(ys), std::move(ps));
  TorchScriptPriorOptions po;
  po.device = device;
  auto prior = std::make_shared<TimedPrior>(load_prior(path, po));
  const DeblurOptions o = deblur_options(DeblurPreset::kBalanced);
  const Exposure exposure{0, 20000};
  // Frames above a megapixel run in tiles whose first ones warm up the allocator anyway.
  if (static_cast<int64_t>(W) * H <= (int64_t{1} << 20))
    deblur(blurry, events, exposure, prior, nullptr, o);
  prior->seconds = 0;
  double total = 0;
  for (auto _ : state) {
    const auto a = std::chrono::steady_clock::now();
    DeblurResult r = deblur(blurry, events, exposure, prior, nullptr, o);
    total += std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    benchmark::DoNotOptimize(r.sharp.data());
  }
  state.counters["seconds_per_frame"] = total / static_cast<double>(state.iterations());
  state.counters["network_share"] = prior->seconds / total;
}

// The CPU case, all threads (a 346 x 260 DAVIS frame; scripts/time_deblur.sh times the CLI).
void BM_Deblur_DefaultPreset(benchmark::State& state) {
  run_deblur_frame(state, "cpu", static_cast<int>(state.range(0)),
                   static_cast<int>(state.range(1)));
}
BENCHMARK(BM_Deblur_DefaultPreset)
    ->Args({346, 260})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

#ifdef DIFFEVENT_BENCH_CUDA
// The fused CUDA x step against the ATen composition of the same formulas on the GPU, timed
// with CUDA events on LibTorch's current stream. args: fused?, W, H (grey).
void BM_GuidanceStep_Cuda(benchmark::State& state) {
  if (!at::hasCUDA()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  Inputs cpu(1, state.range(2), state.range(1), 100.f);
  Inputs in = cpu;
  for (at::Tensor* t : {&in.xt, &in.eps, &in.y, &in.fe, &in.R, &in.var, &in.z})
    *t = t->to(at::kCUDA);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  auto once = [&] {
    return state.range(0) ? kernels::fused_x_step(in.xt, in.eps, in.y, in.fe, at::Tensor(), in.R,
                                                  in.var, in.z, at::Tensor(), in.p)
                          : composed(in);
  };
  for (int i = 0; i < 3; ++i) once();
  for (auto _ : state) {
    cudaEventRecord(a, stream);
    at::Tensor out = once();
    cudaEventRecord(b, stream);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    state.SetIterationTime(ms * 1e-3);
  }
  const int64_t n = in.xt.numel();
  state.SetBytesProcessed(state.iterations() * (6 * 4 * n + 4 * in.fe.numel()));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
}
BENCHMARK(BM_GuidanceStep_Cuda)
    ->Args({1, 1280, 720})
    ->Args({0, 1280, 720})
    ->Args({1, 3840, 2160})
    ->Args({0, 3840, 2160})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// A sampler step on the GPU split into network and the rest: DIFFEVENT_BENCH_UNET on cuda:0,
// 256x256 whole and 1280x720 in 256-pixel tiles (stride 128, 16 tiles per call). args: W, H.
void BM_AlternatingSampler_StepUNetCuda(benchmark::State& state) {
  const char* path = std::getenv("DIFFEVENT_BENCH_UNET");
  if (!path || !at::hasCUDA()) {
    state.SkipWithError("needs a CUDA device and DIFFEVENT_BENCH_UNET");
    return;
  }
  TorchScriptPriorOptions po;
  po.device = "cuda:0";
  run_unet_steps(state, std::make_shared<TimedPrior>(load_prior(path, po)), state.range(0),
                 state.range(1), 10, 256 * 256, 256, 128);
}
// A whole frame on the GPU with the default preset: a DAVIS frame, 720p and 4K. args: W, H.
void BM_Deblur_DefaultPresetCuda(benchmark::State& state) {
  if (!at::hasCUDA()) {
    state.SkipWithError("no CUDA device");
    return;
  }
  run_deblur_frame(state, "cuda:0", static_cast<int>(state.range(0)),
                   static_cast<int>(state.range(1)));
}
BENCHMARK(BM_Deblur_DefaultPresetCuda)
    ->Args({346, 260})
    ->Args({1280, 720})
    ->Args({3840, 2160})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(BM_AlternatingSampler_StepUNetCuda)
    ->Args({256, 256})
    ->Args({1280, 720})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
#endif

BENCHMARK(BM_MemoryBandwidth_Triad)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
