// Reader throughput (events/s) for the binary formats, from a file in the temp folder.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "diffevent/events.hpp"

using namespace diffevent;

namespace {

std::string make_file(const std::string& ext, size_t n) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("diffevent_io_bench_" + std::to_string(n) + ext))
          .string();
  if (std::filesystem::exists(path)) return path;
  std::mt19937 rng(1);
  std::vector<TimestampUs> t(n);
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = static_cast<TimestampUs>(i / 4);
    x[i] = static_cast<uint16_t>(rng() % 1280);
    y[i] = static_cast<uint16_t>(rng() % 720);
    p[i] = (rng() & 1) ? 1 : -1;
  }
  IngestOptions o;
  o.polarity = PolarityEncoding::kMinusPlusOne;
  write_events(path, EventStream::from_arrays(1280, 720, t, x, y, p, o));
  return path;
}

void read_bench(benchmark::State& state, const char* ext) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::string path = make_file(ext, n);
  ReadOptions ro;
  ro.width = 1280;
  ro.height = 720;
  for (auto _ : state) {
    EventFile f = read_events(path, ro);
    benchmark::DoNotOptimize(f.events.t_us().data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}

void BM_ReadEvents_Evt2(benchmark::State& s) { read_bench(s, ".raw"); }
void BM_ReadEvents_Dat(benchmark::State& s) { read_bench(s, ".dat"); }
void BM_ReadEvents_Npy(benchmark::State& s) { read_bench(s, ".npy"); }
void BM_ReadEvents_Text(benchmark::State& s) { read_bench(s, ".txt"); }
BENCHMARK(BM_ReadEvents_Evt2)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadEvents_Dat)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadEvents_Npy)->Arg(1000000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadEvents_Text)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
