#pragma once
// STREAM triad a[i] = b[i] + s * c[i] over 3 x 64 MiB, the memory-bandwidth reference printed
// beside throughput figures. Bytes moved = 3 * 8 * n (write-allocate not counted).
#include <benchmark/benchmark.h>

#include <vector>

inline void BM_MemoryBandwidth_Triad(benchmark::State& state) {
  const size_t n = size_t{8} << 20;
  std::vector<double> a(n, 1.0), b(n, 2.0), c(n, 3.0);
  for (auto _ : state) {
    for (size_t i = 0; i < n; ++i) a[i] = b[i] + 3.0 * c[i];
    benchmark::DoNotOptimize(a.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(3 * sizeof(double) * n));
}
