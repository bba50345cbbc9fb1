// Reader throughput (events/s) for the binary formats, from a file in the temp folder.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "diffevent/events.hpp"
#include "encoders.hpp"

using namespace diffevent;

namespace {

std::string make_file(const std::string& ext, size_t n,
                      WriteOptions::Compression aedat = WriteOptions::Compression::kLz4,
                      int deflate = 0) {
  const std::string tag = ext == ".aedat4" ? std::to_string(static_cast<int>(aedat))
                          : ext == ".h5"   ? "z" + std::to_string(deflate)
                                           : "";
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("diffevent_io_bench_" + std::to_string(n) + tag + ext))
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
  const EventStream ev = EventStream::from_arrays(1280, 720, t, x, y, p, o);
  if (ext == ".evt3") {  // no EVT 3.0 writer in the library: the tests' encoder
    std::ofstream(path, std::ios::binary)
        << test::encode_evt3(ev, "% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n");
    return path;
  }
  WriteOptions wo;
  wo.aedat_compression = aedat;
  wo.hdf5_deflate_level = deflate;
  write_events(path, ev, wo);
  return path;
}

void read_bench(benchmark::State& state, const char* ext,
                WriteOptions::Compression aedat = WriteOptions::Compression::kLz4,
                int deflate = 0) {
  const auto n = static_cast<size_t>(state.range(0));
  const std::string path = make_file(ext, n, aedat, deflate);
  ReadOptions ro;
  ro.width = 1280;
  ro.height = 720;
  for (auto _ : state) {
    EventFile f = read_events(path, ro);  // wall time (AEDAT4 decompresses on every core)
    benchmark::DoNotOptimize(f.events.t_us().data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
}

void BM_ReadEvents_Evt2(benchmark::State& s) { read_bench(s, ".raw"); }
void BM_ReadEvents_Dat(benchmark::State& s) { read_bench(s, ".dat"); }
void BM_ReadEvents_Npy(benchmark::State& s) { read_bench(s, ".npy"); }
void BM_ReadEvents_Text(benchmark::State& s) { read_bench(s, ".txt"); }
void BM_ReadEvents_Evt3(benchmark::State& s) { read_bench(s, ".evt3"); }
void BM_ReadEvents_Hdf5(benchmark::State& s) { read_bench(s, ".h5"); }
void BM_ReadEvents_Hdf5Gzip(benchmark::State& s) {
  read_bench(s, ".h5", WriteOptions::Compression::kLz4, 1);
}
void BM_ReadEvents_Aedat4Lz4(benchmark::State& s) { read_bench(s, ".aedat4"); }
void BM_ReadEvents_Aedat4Zstd(benchmark::State& s) {
  read_bench(s, ".aedat4", WriteOptions::Compression::kZstd);
}
void BM_ReadEvents_Aedat4Raw(benchmark::State& s) {
  read_bench(s, ".aedat4", WriteOptions::Compression::kNone);
}
BENCHMARK(BM_ReadEvents_Evt2)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Dat)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Npy)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Text)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Evt3)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Hdf5)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Hdf5Gzip)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Aedat4Lz4)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Aedat4Zstd)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ReadEvents_Aedat4Raw)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
