// Writes the seeds of the fuzzers' corpora: make_fuzz_seeds OUT_DIR -> OUT_DIR/<harness>/<files>.
// Small valid files of every event format and image format (the library's writers make most of
// them; EVT3 and MAT v5, which it does not write, come from tests/encoders.hpp), the hostile
// inputs the regression tests use (raw-byte and negative-size NumPy dtypes, impossible shapes,
// non-finite float times, a PNG header claiming 100000 x 100000 pixels), and a few random byte
// strings for the recipe-decoding harnesses (numpy, deblur_params).
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "diffevent/events/edi.hpp"
#include "diffevent/events/event_io.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/events/recording.hpp"
#include "diffevent/image/image.hpp"
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
                 static_cast<uint16_t>((s >> 16) % static_cast<uint32_t>(height)),
                 (s >> 30) & 1 ? 1 : -1);
  }
  return ev;
}

void put_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Compressed MAT v5: the `events` element inside one miCOMPRESSED (zlib) element.
std::string mat_compressed(const EventStream& ev) {
  const std::string element = test::mat_events_element(ev);
  uLongf len = compressBound(element.size());
  std::string z(len, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &len,
            reinterpret_cast<const Bytef*>(element.data()), element.size(), 9);
  z.resize(len);
  std::string out = test::mat_header();
  test::put_le<uint32_t>(out, 15);
  test::put_le<uint32_t>(out, static_cast<uint32_t>(z.size()));
  return out + z;
}

std::string f64s(std::initializer_list<double> values) {
  std::string out;
  for (double v : values) test::put_le(out, v);
  return out;
}

// The NumPy files of the hostile-input tests (each once crashed, over-read or overflowed).
void hostile_numpy(const fs::path& npy, const fs::path& npz) {
  const std::string v0 =
      test::npy_file("{'descr': '|V0', 'fortran_order': False, 'shape': (10, 4), }", "");
  put_bytes(npy / "hostile_v0.npy", v0);
  put_bytes(npy / "hostile_v1.npy",
            test::npy_file("{'descr': '|V1', 'fortran_order': False, 'shape': (70000, 4), }",
                           std::string(16, 'x')));
  put_bytes(
      npy / "hostile_pad.npy",
      test::npy_file(
          "{'descr': [('t', '<i8'), ('', '|V-13'), ('x', '<u2'), ('y', '<u2'), ('p', '|i1')], "
          "'fortran_order': False, 'shape': (3,), }",
          std::string(64, '\0')));
  put_bytes(npy / "hostile_huge.npy",
            test::npy_file("{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|i1')], "
                           "'fortran_order': False, "
                           "'shape': (2305843009213693953,), }",
                           ""));
  const double nan = std::nan(""), inf = HUGE_VAL;
  const std::string rows = f64s({nan, 1, 2, 1, 0.5, 1, 2, 1}),
                    late = f64s({0.5, 1, 2, 1, 1e300, 1, 2, 1}), neg = f64s({-inf, 1, 2, 1});
  const char* f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4), }";
  put_bytes(npy / "hostile_nan_first.npy", test::npy_file(f8, rows));
  put_bytes(npy / "hostile_1e300_later.npy", test::npy_file(f8, late));
  put_bytes(npy / "hostile_minus_inf.npy",
            test::npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 4), }", neg));

  auto column = [](const char* descr, const std::string& shape, const std::string& data) {
    return test::npy_file(
        "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }",
        data);
  };
  std::string t3, u3, p3("\x01\x00\x01", 3);
  for (int64_t v : {10, 20, 30}) test::put_le(t3, v);
  for (uint16_t v : {1, 2, 3}) test::put_le(u3, v);
  const std::string x = column("<u2", "(3,)", u3), y = x, p = column("|i1", "(3,)", p3);
  auto columns = [&](const std::string& t) {
    return test::stored_zip({{"t.npy", t}, {"x.npy", x}, {"y.npy", y}, {"p.npy", p}});
  };
  put_bytes(npz / "hostile_member_v0.npz", test::stored_zip({{"events.npy", v0}}));
  put_bytes(npz / "hostile_shape_2e61.npz", columns(column("<i8", "(2305843009213693953,)", t3)));
  put_bytes(npz / "hostile_shape_2e32_squared.npz",
            columns(column("<i8", "(4294967296, 4294967296)", t3)));
  put_bytes(npz / "hostile_nan_times.npz", columns(column("<f8", "(3,)", f64s({nan, 0.5, 1.0}))));
  put_bytes(npz / "hostile_1e300_times.npz",
            columns(column("<f8", "(3,)", f64s({0.5, 1e300, inf}))));
}

void image_seeds(const fs::path& dir) {
  Image grey(1, 5, 7), rgb(3, 4, 6);
  for (size_t i = 0; i < grey.values().size(); ++i)
    grey.data()[i] = static_cast<float>(i % 11) / 10.0f;
  for (size_t i = 0; i < rgb.values().size(); ++i)
    rgb.data()[i] = static_cast<float>(i % 13) / 12.0f;
  write_image((dir / "grey.pfm").string(), grey);
  write_image((dir / "rgb.pfm").string(), rgb);
  if (png_supported()) {
    write_image((dir / "grey8.png").string(), grey, 8);
    write_image((dir / "grey16.png").string(), grey, 16);
    write_image((dir / "rgb8.png").string(), rgb, 8);
    write_image((dir / "rgb16.png").string(), rgb, 16);
  }
  put_bytes(dir / "hostile_claims_100000x100000.png", test::lying_png(100000, 100000));
  put_bytes(dir / "hostile_claims_40000x40000.png", test::lying_png(40000, 40000));
  put_bytes(dir / "hostile_claims_0x5.png", test::lying_png(0, 5));
  put_bytes(dir / "hostile_chunk_2gb.png", test::png_with_lying_chunk(1970632053));
  put_bytes(dir / "hostile_pfm_huge.pfm", "Pf\n1048576 1048576\n-1.0\n" + std::string(16, '\0'));
  put_bytes(dir / "hostile_pfm_nan_scale.pfm", "Pf\n2 2\nnan\n" + std::string(16, '\0'));
}

// Random byte strings: the recipe-decoding harnesses turn any bytes into a structured input.
void random_seeds(const fs::path& dir, uint32_t seed) {
  for (int k = 0; k < 8; ++k) {
    std::string bytes(64u << (k % 5), '\0');
    for (char& c : bytes) {
      seed = seed * 1664525u + 1013904223u;
      c = static_cast<char>(seed >> 24);
    }
    put_bytes(dir / ("random" + std::to_string(k)), bytes);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds OUT_DIR\n");
    return 64;
  }
  const fs::path out = argv[1];
  const EventStream small = small_stream(40, 64, 48), wide = small_stream(300, 640, 480);
  for (const char* d : {"text", "hdf5", "evt2", "evt3", "dat", "aedat4", "mat", "npy", "npz",
                        "numpy", "image", "deblur_params"})
    fs::create_directories(out / d);
  for (const auto& [name, ev] :
       {std::pair<const char*, const EventStream&>{"small", small}, {"wide", wide}}) {
    const std::string s = name;
    write_events((out / "text" / (s + ".txt")).string(), ev);
    WriteOptions h5;
    h5.exposure = Exposure{ev.t_us().front(), ev.t_us().back()};
    write_events((out / "hdf5" / (s + ".h5")).string(), ev, h5);
    WriteOptions gzip = h5;  // chunks through the parallel inflater
    gzip.hdf5_deflate_level = 1;
    write_events((out / "hdf5" / (s + "_gzip.h5")).string(), ev, gzip);
    write_events((out / "evt2" / (s + ".raw")).string(), ev);
    put_bytes(
        out / "evt3" / (s + ".raw"),
        test::encode_evt3(ev, "% evt 3.0\n% format EVT3;height=" + std::to_string(ev.height()) +
                                  ";width=" + std::to_string(ev.width()) + "\n% end\n"));
    write_events((out / "dat" / (s + ".dat")).string(), ev);
    for (auto [c, tag] : {std::pair{WriteOptions::Compression::kNone, "none"},
                          {WriteOptions::Compression::kLz4, "lz4"},
                          {WriteOptions::Compression::kZstd, "zstd"}}) {
      WriteOptions a;
      a.aedat_compression = c;
      a.aedat_packet_events = 16;
      write_events((out / "aedat4" / (s + "_" + tag + ".aedat4")).string(), ev, a);
    }
    // Recordings: two frames (grey, 8 x 6 crop of the sensor would be refused, so full size)
    // with the events, as AEDAT4 (uncompressed) and HDF5.
    {
      const TimestampUs t0 = ev.t_us().front(), t1 = ev.t_us().back() + 1;
      std::vector<FrameRecord> frames;
      Image grey(1, ev.height(), ev.width());
      for (size_t i = 0; i < grey.size(); ++i) grey.data()[i] = float(i % 7) / 7.0f;
      frames.push_back({grey, {t0, t0 + (t1 - t0) / 2}});
      frames.push_back({grey, {t0 + (t1 - t0) / 2, t1}});
      WriteOptions a;
      a.aedat_compression = WriteOptions::Compression::kNone;
      a.aedat_packet_events = 16;
      write_recording((out / "aedat4" / (s + "_frames.aedat4")).string(), ev, frames, a);
      write_recording((out / "hdf5" / (s + "_frames.h5")).string(), ev, frames);
    }
    put_bytes(out / "mat" / (s + ".mat"), test::mat_header() + test::mat_events_element(ev));
    put_bytes(out / "mat" / (s + "_z.mat"), mat_compressed(ev));
    write_events((out / "npy" / (s + ".npy")).string(), ev);
    write_events((out / "npz" / (s + ".npz")).string(), ev);
  }
  hostile_numpy(out / "npy", out / "npz");
  image_seeds(out / "image");
  random_seeds(out / "numpy", 1);
  random_seeds(out / "deblur_params", 2);
  std::printf("seeds written to %s\n", out.string().c_str());
  return 0;
}
