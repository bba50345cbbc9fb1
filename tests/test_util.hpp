#pragma once
// Shared helpers for the tests: temporary folders, random streams, expected-error checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "diffevent/events.hpp"
#include "encoders.hpp"

namespace diffevent::test {

/// A fresh temporary folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("diffevent_test_" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Two streams are equal: sensor size and every event.
inline void expect_same(const EventStream& a, const EventStream& b) {
  EXPECT_EQ(a.width(), b.width());
  EXPECT_EQ(a.height(), b.height());
  EXPECT_EQ(a.t_us(), b.t_us());
  EXPECT_EQ(a.x(), b.x());
  EXPECT_EQ(a.y(), b.y());
  EXPECT_EQ(a.p(), b.p());
}

/// A sorted random stream with uniformly random pixels and polarities.
inline EventStream random_stream(int w, int h, size_t n, TimestampUs t0, TimestampUs t1,
                                 uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> ut(t0, t1 - 1);
  std::uniform_int_distribution<int> ux(0, w - 1), uy(0, h - 1), up(0, 1);
  std::vector<TimestampUs> t(n);
  for (auto& v : t) v = ut(rng);
  std::sort(t.begin(), t.end());
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<uint16_t>(ux(rng));
    y[i] = static_cast<uint16_t>(uy(rng));
    p[i] = static_cast<int8_t>(up(rng) ? 1 : -1);
  }
  IngestOptions o;
  o.polarity = PolarityEncoding::kMinusPlusOne;
  return EventStream::from_arrays(w, h, std::move(t), std::move(x), std::move(y), std::move(p), o);
}

/// A smooth-plus-edges synthetic photo in [0.05, 0.95] (no files needed).
inline Image synthetic_photo(int c, int h, int w, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Image img(c, h, w);
  struct Blob {
    double x, y, r, v;
  };
  std::vector<Blob> blobs;
  for (int k = 0; k < 12; ++k)
    blobs.push_back({u(rng) * w, u(rng) * h, 6 + u(rng) * w / 5, u(rng)});
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double v = 0.3 + 0.2 * std::sin(x * 0.05 + ch) * std::cos(y * 0.07);
        for (const auto& b : blobs)
          if ((x - b.x) * (x - b.x) + (y - b.y) * (y - b.y) < b.r * b.r) v = 0.15 + 0.7 * b.v;
        img.at(ch, y, x) = static_cast<float>(std::min(0.95, std::max(0.05, v)));
      }
  return img;
}

/// The bundled ni-joint recordings (DAVIS346, MIT licence).
inline std::string ni_joint_dir() { return std::string(DIFFEVENT_SOURCE_DIR) + "/data/ni-joint"; }

/// A folder of recordings that cannot be bundled (tonic's GPL-3.0 samples: sample.aedat4,
/// sample_ncars.dat), named by DIFFEVENT_TONIC_DATA; empty when unset.
inline std::string tonic_data_dir() {
  const char* d = std::getenv("DIFFEVENT_TONIC_DATA");
  return d != nullptr && std::filesystem::exists(std::filesystem::path(d) / "sample.aedat4")
             ? std::string(d)
             : "";
}

}  // namespace diffevent::test

/// Expects `stmt` to throw diffevent::Error with `code` and a message containing `needle`.
#define EXPECT_DIFFEVENT_ERROR(stmt, expected_code, needle)                             \
  do {                                                                                  \
    try {                                                                               \
      stmt;                                                                             \
      ADD_FAILURE() << "expected an error containing '" << (needle) << "'";             \
    } catch (const ::diffevent::Error& e__) {                                           \
      EXPECT_EQ(e__.code(), (expected_code)) << e__.what();                             \
      EXPECT_NE(std::string(e__.what()).find(needle), std::string::npos) << e__.what(); \
    }                                                                                   \
  } while (0)
