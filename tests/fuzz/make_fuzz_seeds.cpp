// Writes small valid files of every event format to seed the fuzzers' corpora:
// make_fuzz_seeds OUT_DIR  ->  OUT_DIR/<format>/<seed files>.
// The writers of the library make most of them; EVT3 and MAT v5 (no writers) come from
// tests/encoders.hpp.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "diffevent/event_io.hpp"
#include "diffevent/edi.hpp"
#include "diffevent/event_stream.hpp"
#include "encoders.hpp"

namespace fs = std::filesystem;
using namespace diffevent;

namespace {

EventStream small_stream(size_t n, int width, int height) {
  EventStream ev(width, height);
  uint32_t s = 12345;
  int64_t t = 100;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    t += (s >> 20) % 3000;  // crosses EVT time-high steps and wraps low bits
    ev.push_back(t, static_cast<uint16_t>((s >> 8) % static_cast<uint32_t>(width)),
                 static_cast<uint16_t>((s >> 16) % static_cast<uint32_t>(height)), (s >> 30) & 1 ? 1 : -1);
  }
  return ev;
}

void put_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Compressed MAT v5: the `events` element inside one miCOMPRESSED (zlib) element.
std::string mat_compressed(const EventStream& ev) {
  const std::string element = test::mat_events_element(ev);
  uLongf len = compressBound(element.size());
  std::string z(len, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(element.data()), element.size(), 9);
  z.resize(len);
  std::string out = test::mat_header();
  test::put_le<uint32_t>(out, 15);
  test::put_le<uint32_t>(out, static_cast<uint32_t>(z.size()));
  return out + z;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds OUT_DIR\n");
    return 64;
  }
  const fs::path out = argv[1];
  const EventStream small = small_stream(40, 64, 48), wide = small_stream(300, 640, 480);
  for (const char* d : {"text", "hdf5", "evt2", "evt3", "dat", "aedat4", "mat", "npy", "npz"})
    fs::create_directories(out / d);
  for (const auto& [name, ev] : {std::pair<const char*, const EventStream&>{"small", small}, {"wide", wide}}) {
    const std::string s = name;
    write_events((out / "text" / (s + ".txt")).string(), ev);
    WriteOptions h5;
    h5.exposure = Exposure{ev.t_us().front(), ev.t_us().back()};
    write_events((out / "hdf5" / (s + ".h5")).string(), ev, h5);
    write_events((out / "evt2" / (s + ".raw")).string(), ev);
    put_bytes(out / "evt3" / (s + ".raw"),
              test::encode_evt3(ev, "% evt 3.0\n% format EVT3;height=" + std::to_string(ev.height()) +
                                        ";width=" + std::to_string(ev.width()) + "\n% end\n"));
    write_events((out / "dat" / (s + ".dat")).string(), ev);
    for (auto [c, tag] : {std::pair{WriteOptions::Compression::kNone, "none"}, {WriteOptions::Compression::kLz4, "lz4"},
                          {WriteOptions::Compression::kZstd, "zstd"}}) {
      WriteOptions a;
      a.aedat_compression = c;
      a.aedat_packet_events = 16;
      write_events((out / "aedat4" / (s + "_" + tag + ".aedat4")).string(), ev, a);
    }
    put_bytes(out / "mat" / (s + ".mat"), test::mat_header() + test::mat_events_element(ev));
    put_bytes(out / "mat" / (s + "_z.mat"), mat_compressed(ev));
    write_events((out / "npy" / (s + ".npy")).string(), ev);
    write_events((out / "npz" / (s + ".npz")).string(), ev);
  }
  std::printf("seeds written to %s\n", out.string().c_str());
  return 0;
}
