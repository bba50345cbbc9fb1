// Integrator throughput (events/s) beside this machine's memory bandwidth (a STREAM triad).
// Run: build/bench/integrator_bench --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "bandwidth.hpp"
#include "diffevent/events.hpp"

using namespace diffevent;

namespace {

// Time-sorted events at uniformly random pixels: the cache-hostile worst case.
const EventStream& stream(int w, int h, size_t n) {
  static std::vector<std::pair<std::tuple<int, int, size_t>, EventStream>> cache;
  for (auto& c : cache)
    if (c.first == std::make_tuple(w, h, n)) return c.second;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> ux(0, w - 1), uy(0, h - 1), up(0, 1);
  std::vector<TimestampUs> t(n);
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  const TimestampUs T = 1000000;
  for (size_t i = 0; i < n; ++i) {
    t[i] = static_cast<TimestampUs>(i * T / n);
    x[i] = static_cast<uint16_t>(ux(rng));
    y[i] = static_cast<uint16_t>(uy(rng));
    p[i] = static_cast<int8_t>(up(rng) ? 1 : -1);
  }
  IngestOptions o;
  o.polarity = PolarityEncoding::kMinusPlusOne;
  cache.emplace_back(std::make_tuple(w, h, n), EventStream::from_arrays(w, h, t, x, y, p, o));
  return cache.back().second;
}

void BM_EventIntegrator_DoubleIntegral(benchmark::State& state) {
  const int w = static_cast<int>(state.range(0)), h = static_cast<int>(state.range(1));
  const auto n = static_cast<size_t>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const EventStream& ev = stream(w, h, n);
  EventIntegrator integ(IntegratorOptions::with(Thresholds::symmetric(0.2), threads));
  for (auto _ : state) {
    Image E = integ.double_integral(ev, 0, 1000000);
    benchmark::DoNotOptimize(E.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.SetLabel(fmt::format("{}x{}/{}/threads:{}", w, h, n, threads));
}
BENCHMARK(BM_EventIntegrator_DoubleIntegral)
    ->ArgNames({"w", "h", "events", "threads"})
    ->Args({346, 260, 1000000, 1})
    ->Args({346, 260, 10000000, 1})
    ->Args({1280, 720, 1000000, 1})
    ->Args({1280, 720, 10000000, 1})
    ->Args({346, 260, 10000000, 2})
    ->Args({1280, 720, 10000000, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The ramp interpolation (one thread: each event does an exp, an expm1 and a division).
void BM_EventIntegrator_DoubleIntegralRamp(benchmark::State& state) {
  const int w = static_cast<int>(state.range(0)), h = static_cast<int>(state.range(1));
  const auto n = static_cast<size_t>(state.range(2));
  const EventStream& ev = stream(w, h, n);
  IntegratorOptions o = IntegratorOptions::with(Thresholds::symmetric(0.2));
  o.interpolation = Interpolation::kRamp;
  EventIntegrator integ(o);
  for (auto _ : state) {
    Image E = integ.double_integral(ev, 0, 1000000);
    benchmark::DoNotOptimize(E.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.SetLabel(fmt::format("{}x{}/{}/ramp", w, h, n));
}
BENCHMARK(BM_EventIntegrator_DoubleIntegralRamp)
    ->ArgNames({"w", "h", "events"})
    ->Args({346, 260, 1000000})
    ->Args({346, 260, 10000000})
    ->Args({1280, 720, 10000000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_EventIntegrator_LogChange(benchmark::State& state) {
  const EventStream& ev = stream(346, 260, static_cast<size_t>(state.range(0)));
  EventIntegrator integ;
  for (auto _ : state) {
    Image d = integ.log_change(ev, 0, 1000000);
    benchmark::DoNotOptimize(d.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_EventIntegrator_LogChange)->Arg(1000000)->Unit(benchmark::kMillisecond);

// The threshold search on a DAVIS-sized frame (a smooth synthetic image; the events of
// stream(), over one exposure): the scan grows with the interval, the golden section does not.
void BM_Edi_EstimateThreshold(benchmark::State& state) {
  const EventStream& ev = stream(346, 260, static_cast<size_t>(state.range(0)));
  Image blurry(1, 260, 346);
  for (int y = 0; y < 260; ++y)
    for (int x = 0; x < 346; ++x)
      blurry.at(0, y, x) = static_cast<float>(0.3 + 0.2 * std::sin(x * 0.07) * std::cos(y * 0.05));
  ThresholdSearchOptions search;
  search.c_max = static_cast<double>(state.range(1));
  int evaluations = 0;
  for (auto _ : state) {
    const ThresholdEstimate est = Edi().estimate_threshold(blurry, ev, {0, 1000000}, search);
    evaluations = est.evaluations;
    benchmark::DoNotOptimize(est.c);
  }
  state.SetLabel(fmt::format("interval [0.05, {}], {} evaluations", state.range(1), evaluations));
}
BENCHMARK(BM_Edi_EstimateThreshold)
    ->ArgNames({"events", "c_max"})
    ->Args({100000, 1})
    ->Args({100000, 4})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The sensor-threshold estimate on a simulated frame (a synthetic photo moved 14 px during a
// 20 ms exposure, threshold 0.2 with a per-pixel mismatch of 0.05 and 5 Hz of noise events):
// DAVIS 346 x 260 and a 160 x 120 benchmark-sized frame, every core.
void BM_Edi_EstimateSensorThreshold(benchmark::State& state) {
  const int w = static_cast<int>(state.range(0)), h = w == 346 ? 260 : w * 3 / 4;
  SimulatorOptions so;
  so.width = w;
  so.height = h;
  so.threshold_sigma = 0.05;
  so.shot_noise_hz = 5;
  CameraMotion m;
  m.dx_px = 12;
  m.dy_px = -7;
  Image photo(1, so.height + 40, w + 40);
  for (int y = 0; y < photo.height(); ++y)
    for (int x = 0; x < photo.width(); ++x)
      photo.at(0, y, x) = static_cast<float>(0.4 + 0.25 * std::sin(x * 0.21) * std::cos(y * 0.17) +
                                             0.1 * std::sin((x + 2 * y) * 0.05));
  const SimulationResult r = EventSimulator(so).simulate_motion(photo, m);
  EdiOptions eo;
  eo.num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  SensorThresholdOptions o;
  o.reference_at_start = true;
  double c = 0;
  for (auto _ : state) {
    c = Edi(eo).estimate_sensor_threshold(r.blurry, r.events, r.exposure, o).c;
    benchmark::DoNotOptimize(c);
  }
  state.SetLabel(
      fmt::format("{}x{}, {} events, c = {:.3f} (true 0.2)", w, so.height, r.events.size(), c));
}
BENCHMARK(BM_Edi_EstimateSensorThreshold)
    ->ArgNames({"width"})
    ->Arg(160)
    ->Arg(346)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK(BM_MemoryBandwidth_Triad)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
