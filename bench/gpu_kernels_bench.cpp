// CUDA kernels against a device-to-device copy of the same bytes (CUDA-event timing, manual
// time): the fused x step (with and without TV), the r step, the guided filter and the noise
// fill at 346x260, 1280x720 and 3840x2160 (grey). Needs no LibTorch; exits with an error when
// no CUDA device is present. Run: build/bench/gpu_kernels_bench --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true (scripts/gpu-check.sh).
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/cuda/launch.hpp"

using namespace diffevent::kernels;
using namespace diffevent::kernels::cuda;

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

// Device buffers of n floats, filled once with values in the kernels' usual ranges.
struct Buffers {
  std::vector<float*> bufs;
  explicit Buffers(int count, size_t n) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.25f, 1.0f);
    std::vector<float> host(n);
    for (int k = 0; k < count; ++k) {
      float* d = nullptr;
      check(cudaMalloc(reinterpret_cast<void**>(&d), n * sizeof(float)), "cudaMalloc");
      for (auto& v : host) v = u(rng);
      check(cudaMemcpy(d, host.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy");
      bufs.push_back(d);
    }
  }
  ~Buffers() {
    for (float* d : bufs) cudaFree(d);
  }
  float* operator[](size_t k) const { return bufs[k]; }
};

// Times `launch` with CUDA events around each iteration (after a warm-up) and reports bytes/s
// and the fraction of a device-to-device copy's bandwidth at the same size.
bool no_device(benchmark::State& state) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0) return false;
  state.SkipWithError("no CUDA device");
  return true;
}

template <typename F>
void run(benchmark::State& state, size_t n, double bytes_per_iter, F launch) {
  cudaStream_t stream;
  check(cudaStreamCreate(&stream), "cudaStreamCreate");
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "cudaEventCreate");
  check(cudaEventCreate(&b), "cudaEventCreate");
  auto time_ms = [&](auto&& f) {
    check(cudaEventRecord(a, stream), "record");
    f(stream);
    check(cudaEventRecord(b, stream), "record");
    check(cudaEventSynchronize(b), "sync");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, a, b), "elapsed");
    return static_cast<double>(ms);
  };
  // Copy reference: median of 21 copies of n floats (reads n, writes n).
  Buffers copy(2, n);
  std::vector<double> copies;
  for (int i = 0; i < 21; ++i)
    copies.push_back(time_ms([&](cudaStream_t s) {
      check(cudaMemcpyAsync(copy[1], copy[0], n * 4, cudaMemcpyDeviceToDevice, s), "copy");
    }));
  std::nth_element(copies.begin(), copies.begin() + 10, copies.end());
  const double copy_bw = 2.0 * 4.0 * static_cast<double>(n) / (copies[10] * 1e-3);
  for (int i = 0; i < 3; ++i) time_ms(launch);  // warm-up
  double total = 0;
  for (auto _ : state) {
    const double ms = time_ms(launch);
    total += ms;
    state.SetIterationTime(ms * 1e-3);
  }
  const double bw = bytes_per_iter * static_cast<double>(state.iterations()) / (total * 1e-3);
  state.SetBytesProcessed(
      static_cast<int64_t>(bytes_per_iter * static_cast<double>(state.iterations())));
  state.counters["of_copy"] = bw / copy_bw;
  state.counters["copy_GBps"] = copy_bw * 1e-9;
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaStreamDestroy(stream);
}

GuidanceParams params(float tv) {
  GuidanceParams p{};
  p.x0_a = 1.2f;
  p.x0_b = 0.6f;
  p.c1 = 0.3f;
  p.c2 = 0.7f;
  p.sigma = 0.05f;
  p.s = 1e4f;
  p.lambda_tv = tv;
  p.tv_eps = 1e-3f;
  p.clip = true;
  return p;
}

// args: W, H, lambda_tv > 0
void BM_Cuda_XStep(benchmark::State& state) {
  if (no_device(state)) return;
  const int64_t W = state.range(0), H = state.range(1);
  const size_t n = static_cast<size_t>(W * H);
  Buffers b(8, n);  // xt eps y fe R var z out
  const XStepArgs a{1,       1,    H,    W,    b[0], b[1],    b[2], b[3],
                    nullptr, b[4], b[5], true, b[6], nullptr, b[7]};
  const GuidanceParams p = params(state.range(2) ? 100.f : 0.f);
  // Reads x_t, eps, y, f(E), R, z; writes x_{t-1}.
  run(state, n, 7.0 * 4 * n, [&](cudaStream_t s) {
    check(state.range(2) ? launch_x_step<true>(a, p, s) : launch_x_step<false>(a, p, s), "x step");
  });
}

void BM_Cuda_RStep(benchmark::State& state) {
  if (no_device(state)) return;
  const int64_t W = state.range(0), H = state.range(1);
  const size_t n = static_cast<size_t>(W * H);
  Buffers b(8, n);  // rt R_hat y fe Xs var z out
  const RStepArgs a{1,       1,    H,    W,    b[0], b[1],    b[2], b[3],
                    nullptr, b[4], b[5], true, b[6], nullptr, b[7]};
  const GuidanceParams p = params(0.f);
  run(state, n, 7.0 * 4 * n,
      [&](cudaStream_t s) { check(launch_r_step(a, 1e4f, 1e-3f, p, s), "r step"); });
}

void BM_Cuda_GuidedFilter(benchmark::State& state) {
  if (no_device(state)) return;
  const int64_t W = state.range(0), H = state.range(1);
  const size_t n = static_cast<size_t>(W * H);
  Buffers b(3, n);         // p I out
  Buffers work(1, 6 * n);  // the six work planes, one allocation (launch_guided_filter's contract)
  // Compulsory traffic: read p and I, write the output (the work planes are the passes' own).
  run(state, n, 3.0 * 4 * n, [&](cudaStream_t s) {
    check(launch_guided_filter(b[0], b[1], b[2], work[0], 1, static_cast<int>(H),
                               static_cast<int>(W), 3, 1e-3f, s),
          "guided filter");
  });
}

void BM_Cuda_NormalFill(benchmark::State& state) {
  if (no_device(state)) return;
  const int64_t W = state.range(0), H = state.range(1);
  const size_t n = static_cast<size_t>(W * H);
  Buffers b(1, n);
  uint64_t stream_id = 0;
  run(state, n, 4.0 * n, [&](cudaStream_t s) {
    check(launch_normal_fill(b[0], static_cast<int64_t>(n), 7, stream_id++, s), "noise");
  });
}

void sizes(benchmark::internal::Benchmark* b, bool tv) {
  for (auto [w, h] : {std::pair<int, int>{346, 260}, {1280, 720}, {3840, 2160}}) {
    if (tv) {
      b->Args({w, h, 0});
      b->Args({w, h, 1});
    } else {
      b->Args({w, h});
    }
  }
  b->UseManualTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Cuda_XStep)->Apply([](benchmark::internal::Benchmark* b) { sizes(b, true); });
BENCHMARK(BM_Cuda_RStep)->Apply([](benchmark::internal::Benchmark* b) { sizes(b, false); });
BENCHMARK(BM_Cuda_GuidedFilter)->Apply([](benchmark::internal::Benchmark* b) { sizes(b, false); });
BENCHMARK(BM_Cuda_NormalFill)->Apply([](benchmark::internal::Benchmark* b) { sizes(b, false); });

}  // namespace

BENCHMARK_MAIN();
