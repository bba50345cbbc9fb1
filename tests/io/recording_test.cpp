// Recording: the frames and event windows of AEDAT4, HDF5 and folder recordings, checked
// against what was written, and the errors of malformed ones.
#include <fmt/format.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "test_util.hpp"

using namespace diffevent;

namespace {

using test::expect_same;

// The image as stored in 8 bits.
Image quantised(const Image& im) {
  Image q = im;
  for (float& v : q.values()) v = std::round(std::fmin(std::fmax(v, 0.0f), 1.0f) * 255) / 255;
  return q;
}

double max_abs_diff(const Image& a, const Image& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    m = std::max(m, std::fabs(double(a.data()[i]) - b.data()[i]));
  return m;
}

// A small simulated video: 10 frames, grey or RGB.
VideoSimulation small_video(int channels, uint64_t seed = 5) {
  SimulatorOptions o;
  o.width = 40;
  o.height = 30;
  o.exposure_us = 10000;
  o.seed = seed;
  VideoOptions v;
  v.frames = 10;
  v.frame_interval_us = 25000;
  CameraMotion m;
  m.dx_px = 1.5;
  m.dy_px = -0.7;
  return EventSimulator(o).simulate_video(test::synthetic_photo(channels, 60, 80, seed), m, v);
}

std::vector<FrameRecord> records(const VideoSimulation& v) {
  std::vector<FrameRecord> out;
  for (size_t k = 0; k < v.blurry.size(); ++k) out.push_back({v.blurry[k], v.exposures[k]});
  return out;
}

void check_recording(const Recording& rec, const VideoSimulation& v) {
  ASSERT_EQ(rec.size(), v.blurry.size());
  EXPECT_EQ(rec.width(), v.events.width());
  EXPECT_EQ(rec.height(), v.events.height());
  for (size_t k = 0; k < rec.size(); ++k) {
    SCOPED_TRACE(k);
    EXPECT_EQ(rec.frame(k).exposure.t0_us, v.exposures[k].t0_us);
    EXPECT_EQ(rec.frame(k).exposure.t1_us, v.exposures[k].t1_us);
    const Image im = rec.image(k);
    EXPECT_EQ(im.channels(), v.blurry[k].channels());
    EXPECT_LT(max_abs_diff(im, quantised(v.blurry[k])), 1e-6);
    expect_same(rec.events(k), v.events.slice_time(v.exposures[k].t0_us, v.exposures[k].t1_us));
  }
  // Windows across packets and frames, empty ones, and the whole stream.
  for (auto [a, b] : std::vector<std::pair<TimestampUs, TimestampUs>>{
           {0, 1}, {3333, 77777}, {24999, 25001}, {-100, 0}, {0, 1000000}, {230000, 240000}})
    expect_same(rec.events_between(a, b), v.events.slice_time(a, b));
}

}  // namespace

TEST(Simulator, VideoFramesAreMeansOfTheirExposureAndTheCameraKeepsMoving) {
  const VideoSimulation v = small_video(1);
  ASSERT_EQ(v.blurry.size(), 10u);
  ASSERT_EQ(v.sharp.size(), 10u);
  for (size_t k = 0; k < 10; ++k) {
    EXPECT_EQ(v.exposures[k].t0_us, static_cast<TimestampUs>(k) * 25000);
    EXPECT_EQ(v.exposures[k].duration_us(), 10000);
  }
  EXPECT_GT(v.events.size(), 1000u);
  EXPECT_LE(v.events.t_end(), 9 * 25000 + 10000);
  // Consecutive ground-truth frames differ (the camera moves 2.5 exposures' paths apart).
  EXPECT_GT(max_abs_diff(v.sharp[0], v.sharp[1]), 0.01);
  // Without motion nothing changes: every blurry frame is the sharp one, and no events fire.
  SimulatorOptions o;
  o.exposure_us = 1000;
  VideoOptions vo;
  vo.frames = 3;
  vo.frame_interval_us = 2000;
  const Image photo = test::synthetic_photo(1, 12, 16, 1);
  const VideoSimulation still = EventSimulator(o).simulate_video(photo, CameraMotion{}, vo);
  EXPECT_EQ(still.events.size(), 0u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_LT(max_abs_diff(still.blurry[k], photo), 1e-5);
    EXPECT_LT(max_abs_diff(still.sharp[k], photo), 1e-6);
  }
  // One frame of a video is simulate_motion's frame (same sampling, same path).
  SimulatorOptions one;
  one.exposure_us = 10000;
  CameraMotion m;
  m.dx_px = 3;
  VideoOptions single;
  single.frames = 1;
  single.frame_interval_us = 10000;
  const Image src = test::synthetic_photo(1, 24, 32, 2);
  const VideoSimulation sv = EventSimulator(one).simulate_video(src, m, single);
  const SimulationResult sm = EventSimulator(one).simulate_motion(src, m);
  // (The pose is computed from absolute rather than relative time: equal up to rounding.)
  EXPECT_LT(max_abs_diff(sv.blurry[0], sm.blurry), 1e-5);
  EXPECT_LT(max_abs_diff(sv.sharp[0], sm.sharp), 1e-6);
  EXPECT_NEAR(double(sv.events.size()), double(sm.events.size()), 0.002 * sm.events.size());
  EXPECT_DIFFEVENT_ERROR(EventSimulator(one).simulate_video(src, m, VideoOptions{0, 10000}),
                         ErrorCode::kInvalidArgument, "1 to 100000");
  EXPECT_DIFFEVENT_ERROR(EventSimulator(one).simulate_video(src, m, VideoOptions{3, 5000}),
                         ErrorCode::kInvalidArgument, "at least the exposure");
}

TEST(Recording, Aedat4FramesAndEventWindowsRoundTrip) {
  test::TempDir dir;
  for (int channels : {1, 3}) {
    const VideoSimulation v = small_video(channels);
    for (auto comp : {WriteOptions::Compression::kNone, WriteOptions::Compression::kLz4,
                      WriteOptions::Compression::kZstd}) {
      if (comp != WriteOptions::Compression::kNone && !aedat4_compression_supported()) continue;
      SCOPED_TRACE(static_cast<int>(comp) + 10 * channels);
      WriteOptions wo;
      wo.aedat_compression = comp;
      wo.aedat_packet_events = 777;  // many packets, windows across their ends
      write_recording(dir.file("r.aedat4"), v.events, records(v), wo);
      const Recording rec = Recording::open(dir.file("r.aedat4"));
      EXPECT_STREQ(rec.layout(), "aedat4");
      check_recording(rec, v);
      // read_events sees the same events, every frame's exposure, and the first frame.
      const EventFile f = read_events(dir.file("r.aedat4"));
      expect_same(f.events, v.events);
      ASSERT_EQ(f.exposures.size(), 10u);
      EXPECT_EQ(f.exposures[3].t0_us, v.exposures[3].t0_us);
      ASSERT_TRUE(f.image.has_value());
      EXPECT_LT(max_abs_diff(*f.image, quantised(v.blurry[0])), 1e-6);
    }
  }
}

TEST(Recording, Hdf5ImagesAndEventWindowsRoundTrip) {
  if (!hdf5_supported()) GTEST_SKIP() << "HDF5 not compiled in";
  test::TempDir dir;
  for (int channels : {1, 3}) {
    const VideoSimulation v = small_video(channels, 9);
    write_recording(dir.file("r.h5"), v.events, records(v));
    const Recording rec = Recording::open(dir.file("r.h5"));
    EXPECT_STREQ(rec.layout(), "hdf5");
    check_recording(rec, v);
  }
}

TEST(Recording, FolderOfFramesWithOneEventFileAndTimestamps) {
  test::TempDir dir;
  const VideoSimulation v = small_video(1, 3);
  std::ofstream ts(dir.file("timestamps.txt"));
  ts << "# start end (seconds)\n";
  for (size_t k = 0; k < v.blurry.size(); ++k) {
    // Names sort naturally, not as text: frame_2 before frame_10.
    write_image(dir.file(fmt::format("frame_{}.png", k)), v.blurry[k], 8);
    ts << fmt::format("{:.6f}, {:.6f}\n", v.exposures[k].t0_us * 1e-6, v.exposures[k].t1_us * 1e-6);
  }
  ts.close();
  write_events(dir.file("events.npz"), v.events);
  const Recording rec = Recording::open(dir.path().string());
  EXPECT_STREQ(rec.layout(), "folder");
  check_recording(rec, v);
  EXPECT_EQ(rec.frame(10 - 1).name, "frame_9");
  // The same with an indexed (AEDAT4) event file and microsecond timestamps.
  std::filesystem::remove(dir.file("events.npz"));
  write_events(dir.file("events.aedat4"), v.events);
  std::ofstream us(dir.file("timestamps.txt"));
  for (const Exposure& e : v.exposures) us << e.t0_us << " " << e.t1_us << "\n";
  us.close();
  check_recording(Recording::open(dir.path().string()), v);
  EXPECT_FALSE(Recording::open(dir.path().string()).thresholds().has_value());
  if (hdf5_supported()) {
    // An HDF5 event file that states its thresholds: the folder recording states them too.
    std::filesystem::remove(dir.file("events.aedat4"));
    WriteOptions wo;
    wo.thresholds = Thresholds{0.3, 0.25, {}, {}};
    write_events(dir.file("events.h5"), v.events, wo);
    const Recording h5 = Recording::open(dir.path().string());
    check_recording(h5, v);
    ASSERT_TRUE(h5.thresholds().has_value());
    EXPECT_EQ(h5.thresholds()->c_pos, 0.3);
    EXPECT_EQ(h5.thresholds()->c_neg, 0.25);
  }
  // One exposure too few: named.
  std::ofstream shortf(dir.file("timestamps.txt"));
  for (size_t k = 0; k + 1 < v.exposures.size(); ++k)
    shortf << v.exposures[k].t0_us << " " << v.exposures[k].t1_us << "\n";
  shortf.close();
  EXPECT_DIFFEVENT_ERROR(Recording::open(dir.path().string()), ErrorCode::kFormatError,
                         "lists 9 exposures for 10 images");
  std::ofstream bad(dir.file("timestamps.txt"));
  bad << "100 50\n";
  bad.close();
  EXPECT_DIFFEVENT_ERROR(Recording::open(dir.path().string()), ErrorCode::kFormatError,
                         "ends before it starts");
}

TEST(Recording, FolderOfPerFrameEventFilesPairsThemWithTheirImages) {
  if (!hdf5_supported()) GTEST_SKIP() << "HDF5 not compiled in";
  test::TempDir dir;
  const VideoSimulation v = small_video(1, 4);
  // Frame k's events in scene_k.h5 (with its exposure) beside scene_k.png; the last two share
  // one image, as ni-joint's low_light_model1/2.mat share low_light_model.png.
  for (size_t k = 0; k < 3; ++k) {
    WriteOptions wo;
    wo.exposure = v.exposures[k];
    const std::string stem = k < 1 ? "alpha" : fmt::format("beta{}", k);
    write_events(dir.file(stem + ".h5"),
                 v.events.slice_time(v.exposures[k].t0_us, v.exposures[k].t1_us), wo);
    if (k < 2) write_image(dir.file(k < 1 ? "alpha.png" : "beta.png"), v.blurry[k], 8);
  }
  const Recording rec = Recording::open(dir.path().string());
  EXPECT_STREQ(rec.layout(), "per-frame");
  ASSERT_EQ(rec.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(rec.frame(k).exposure.t0_us, v.exposures[k].t0_us);
    expect_same(rec.events(k), v.events.slice_time(v.exposures[k].t0_us, v.exposures[k].t1_us));
  }
  EXPECT_EQ(rec.frame(2).name, "beta2");
  EXPECT_LT(max_abs_diff(rec.image(2), quantised(v.blurry[1])), 1e-6);
  EXPECT_DIFFEVENT_ERROR(rec.events_between(0, 10), ErrorCode::kUnsupported, "per-frame");
  write_events(dir.file("gamma.h5"), v.events.slice_time(0, 10));
  EXPECT_DIFFEVENT_ERROR(Recording::open(dir.path().string()), ErrorCode::kFormatError,
                         "no image for the event file gamma.h5");
}

TEST(Recording, NiJointFolderOpensAsPerFrameRecording) {
  const std::string dir = test::ni_joint_dir();
  if (!std::filesystem::exists(dir + "/badminton.mat")) GTEST_SKIP() << "no ni-joint data";
  const Recording rec = Recording::open(dir);
  EXPECT_STREQ(rec.layout(), "per-frame");
  ASSERT_GE(rec.size(), 6u);
  EXPECT_EQ(rec.frame(0).name, "badminton");
  const Image im = rec.image(0);
  const EventStream ev = rec.events(0);
  EXPECT_EQ(ev.width(), im.width());
  EXPECT_EQ(ev.height(), im.height());
  EXPECT_GT(ev.size(), 1000u);
  EXPECT_GE(ev.t_begin(), rec.frame(0).exposure.t0_us);
  EXPECT_LT(ev.t_end(), rec.frame(0).exposure.t1_us);
}

TEST(Recording, NiJointThresholdsLieInsideTheSearchInterval) {
  // These DAVIS recordings fire a few events per pixel at most: the sensor behaves as a large
  // threshold, and the energy's minimum lies beyond 1 on all but badminton (docs/quality.md).
  // night_run's energy has no minimum: it falls until single events saturate pixels.
  const std::string dir = test::ni_joint_dir();
  if (!std::filesystem::exists(dir + "/badminton.mat")) GTEST_SKIP() << "no ni-joint data";
  const Recording rec = Recording::open(dir);
  const std::map<std::string, std::pair<double, double>> expected = {
      {"badminton", {0.4, 0.8}},
      {"keyboard", {1.2, 2.0}},
      {"toy", {0.9, 1.5}},
      {"low_light_model1", {2.2, 3.6}},
      {"low_light_model2", {1.4, 2.3}}};
  for (size_t i = 0; i < rec.size(); ++i) {
    const auto& f = rec.frame(i);
    const ThresholdEstimate est = Edi().estimate_threshold(rec.image(i), rec.events(i), f.exposure);
    SCOPED_TRACE(f.name + ": c = " + std::to_string(est.c));
    if (f.name == "night_run") {
      EXPECT_TRUE(est.at_bound);
      continue;
    }
    ASSERT_TRUE(expected.count(f.name));
    EXPECT_FALSE(est.at_bound);
    EXPECT_GT(est.c, expected.at(f.name).first);
    EXPECT_LT(est.c, expected.at(f.name).second);
  }
}

TEST(Recording, MalformedRecordingsGiveNamedErrors) {
  test::TempDir dir;
  const VideoSimulation v = small_video(1, 6);
  // Events without frames.
  write_events(dir.file("plain.aedat4"), v.events);
  EXPECT_DIFFEVENT_ERROR(Recording::open(dir.file("plain.aedat4")), ErrorCode::kFormatError,
                         "holds no frames");
  write_events(dir.file("plain.txt"), v.events);
  EXPECT_DIFFEVENT_ERROR(Recording::open(dir.file("plain.txt")), ErrorCode::kUnsupported,
                         "holds no frames");
  EXPECT_DIFFEVENT_ERROR(Recording::open(dir.file("missing.aedat4")), ErrorCode::kIoError,
                         "missing.aedat4");
  // A truncated AEDAT4 recording: named, whichever packet the cut lands in.
  WriteOptions wo;
  wo.aedat_compression = WriteOptions::Compression::kNone;
  write_recording(dir.file("r.aedat4"), v.events, records(v), wo);
  std::ifstream in(dir.file("r.aedat4"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t cut : {bytes.size() - 5, bytes.size() / 2, size_t{400}}) {
    std::ofstream(dir.file("cut.aedat4"), std::ios::binary) << bytes.substr(0, cut);
    EXPECT_DIFFEVENT_ERROR(Recording::open(dir.file("cut.aedat4")), ErrorCode::kFormatError,
                           "truncated");
  }
  // Frames of the wrong size are refused when written.
  auto recs = records(v);
  recs[2].image = Image(1, 5, 5);
  EXPECT_DIFFEVENT_ERROR(write_recording(dir.file("x.aedat4"), v.events, recs),
                         ErrorCode::kInvalidArgument, "frame 2 is 5x5");
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.aedat4")));
  EXPECT_DIFFEVENT_ERROR(write_recording(dir.file("x.npy"), v.events, records(v)),
                         ErrorCode::kInvalidArgument, ".aedat4 or .h5");
  if (hdf5_supported()) {
    // An event_utils image with a timestamp but no exposure needs the exposure time.
    WriteOptions one;
    one.image = v.blurry[0];
    write_events(dir.file("ts.h5"), v.events, one);
    EXPECT_DIFFEVENT_ERROR(Recording::open(dir.file("ts.h5")), ErrorCode::kFormatError,
                           "no valid exposure");
  }
  // Empty folder.
  std::filesystem::create_directories(dir.file("empty"));
  EXPECT_DIFFEVENT_ERROR(Recording::open(dir.file("empty")), ErrorCode::kFormatError,
                         "holds no frames");
}

TEST(Recording, WindowsHonourTheEventLimit) {
  test::TempDir dir;
  const VideoSimulation v = small_video(1, 7);
  std::vector<std::string> names{"r.aedat4"};
  if (hdf5_supported()) names.push_back("r.h5");
  const size_t in_frame_3 = v.events.slice_time(v.exposures[3].t0_us, v.exposures[3].t1_us).size();
  ASSERT_GT(in_frame_3, 10u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    write_recording(dir.file(name), v.events, records(v));
    RecordingOptions ro;
    ro.read.max_events = static_cast<int64_t>(in_frame_3) - 1;
    const Recording rec = Recording::open(dir.file(name), ro);
    EXPECT_DIFFEVENT_ERROR(rec.events(3), ErrorCode::kOutOfRange, name);
    ro.read.max_events = static_cast<int64_t>(in_frame_3);
    EXPECT_EQ(Recording::open(dir.file(name), ro).events(3).size(), in_frame_3);
  }
}

TEST(Recording, ConcurrentReadersGetTheSameFrames) {
  test::TempDir dir;
  const VideoSimulation v = small_video(1, 8);
  write_recording(dir.file("r.aedat4"), v.events, records(v));
  const Recording rec = Recording::open(dir.file("r.aedat4"));
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t k = static_cast<size_t>(t); k < rec.size(); k += 2) {
        const EventStream ev = rec.events(k);
        const EventStream want = v.events.slice_time(v.exposures[k].t0_us, v.exposures[k].t1_us);
        if (ev.t_us() != want.t_us() || ev.x() != want.x()) ++bad;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}
