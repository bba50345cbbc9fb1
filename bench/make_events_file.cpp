// Writes N time-sorted random events (1280x720) to a file, for reader memory and speed checks.
// Usage: make_events_file OUT N        (write)
//        make_events_file --read FILE   (read the whole file into an EventStream, print its size)
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "diffevent/events.hpp"

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--read") {
    try {
      diffevent::ReadOptions ro;
      ro.width = 1280;
      ro.height = 720;
      const auto f = diffevent::read_events(argv[2], ro);
      std::printf("%zu events, %zu bytes in memory\n", f.events.size(), f.events.memory_bytes());
      return 0;
    } catch (const diffevent::Error& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 1;
    }
  }
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s OUT.(raw|npy|dat|h5|txt) N\n", argv[0]);
    return 64;
  }
  const auto n = static_cast<size_t>(std::strtoull(argv[2], nullptr, 10));
  std::mt19937 rng(1);
  std::vector<diffevent::TimestampUs> t(n);
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = static_cast<diffevent::TimestampUs>(i / 16);
    x[i] = static_cast<uint16_t>(rng() % 1280);
    y[i] = static_cast<uint16_t>(rng() % 720);
    p[i] = (rng() & 1) ? 1 : -1;
  }
  diffevent::IngestOptions o;
  o.polarity = diffevent::PolarityEncoding::kMinusPlusOne;
  try {
    diffevent::write_events(
        argv[1], diffevent::EventStream::from_arrays(1280, 720, std::move(t), std::move(x),
                                                     std::move(y), std::move(p), o));
  } catch (const diffevent::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
