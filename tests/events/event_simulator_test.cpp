#include <cmath>

#include "test_util.hpp"

using namespace diffevent;

namespace {
// One pixel whose log intensity rises linearly by 1.05 over 1000 us, in 10 frames.
SimulationResult simulate_log_ramp(TimestampUs refractory_us) {
  SimulatorOptions o;
  o.log_eps = 1e-12;
  o.refractory_us = refractory_us;
  std::vector<Image> frames;
  std::vector<TimestampUs> times;
  for (int k = 0; k <= 10; ++k) {
    frames.emplace_back(1, 1, 1, static_cast<float>(0.1 * std::exp(k * 0.105)));
    times.push_back(k * 100);
  }
  return EventSimulator(o).simulate_frames(frames, times);
}

SimulatorOptions small_options() {
  SimulatorOptions o;
  o.width = 48;
  o.height = 40;
  o.exposure_us = 10000;
  return o;
}
}  // namespace

TEST(EventSimulator, SameSeedSameEventsDifferentSeedDifferentNoise) {
  auto o = small_options();
  o.threshold_sigma = 0.03;
  o.shot_noise_hz = 50;
  CameraMotion m;
  m.dx_px = 6;
  const Image photo = test::synthetic_photo(1, 50, 60, 9);
  const auto a = EventSimulator(o).simulate_motion(photo, m);
  const auto b = EventSimulator(o).simulate_motion(photo, m);
  EXPECT_EQ(a.events.t_us(), b.events.t_us());
  EXPECT_EQ(a.events.x(), b.events.x());
  EXPECT_EQ(a.events.p(), b.events.p());
  o.seed = 1;
  const auto c = EventSimulator(o).simulate_motion(photo, m);
  EXPECT_NE(a.events.t_us(), c.events.t_us());
}

TEST(EventSimulator, StillCameraGivesNoEventsAndSharpBlur) {
  const Image photo = test::synthetic_photo(1, 40, 48, 2);
  const auto r = EventSimulator(small_options()).simulate_motion(photo, CameraMotion{});
  EXPECT_EQ(r.events.size(), 0u);
  EXPECT_GT(psnr(r.sharp, r.blurry), 60.0);
  EXPECT_GT(psnr(photo, r.sharp), 60.0);
}

TEST(EventSimulator, EventsQuantiseTheLogIntensityChange) {
  // ESIM invariant: per pixel, |c * (ON - OFF) - (L_end - L_start)| < c, L = log(I + eps).
  SimulatorOptions o;
  o.frame_upsample = 16;
  const Image a = test::synthetic_photo(1, 30, 40, 1), b = test::synthetic_photo(1, 30, 40, 2);
  const auto r = EventSimulator(o).simulate_frames({a, b}, {0, 5000});
  ASSERT_GT(r.events.size(), 100u);
  std::vector<int> net(a.size(), 0);
  for (size_t i = 0; i < r.events.size(); ++i)
    net[static_cast<size_t>(r.events.y()[i]) * 40 + r.events.x()[i]] += r.events.p()[i];
  for (size_t i = 0; i < net.size(); ++i) {
    const double dl = std::log(b.data()[i] + o.log_eps) - std::log(a.data()[i] + o.log_eps);
    EXPECT_LT(std::abs(0.2 * net[i] - dl), 0.2 + 1e-9) << "pixel " << i;
  }
  // And the blurry frame of a linear intensity ramp is its midpoint.
  for (size_t i = 0; i < a.size(); i += 37)
    EXPECT_NEAR(r.blurry.data()[i], 0.5 * (a.data()[i] + b.data()[i]), 1e-5);
}

TEST(EventSimulator, FrameSequenceCrossingsAreExactForLinearLogRamp) {
  // A pixel whose log intensity rises linearly from log(0.1) to log(0.1) + 1.05 over 1000 us
  // crosses c = 0.2 five times, at t = 1000 * 0.2k / 1.05 us, k = 1..5.
  const auto r = simulate_log_ramp(0);
  ASSERT_EQ(r.events.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(double(r.events.t_us()[i]), 1000.0 * 0.2 * double(i + 1) / 1.05, 1.0);
    EXPECT_EQ(r.events.p()[i], 1);
  }
  EXPECT_EQ(r.exposure.t0_us, 0);
  EXPECT_EQ(r.exposure.t1_us, 1000);
}

TEST(EventSimulator, RefractoryPeriodDropsCloseEvents) {
  const auto r = simulate_log_ramp(250);
  // Crossings every 190.5 us: every second one falls within 250 us of the last kept one.
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_NEAR(double(r.events.t_us()[1]), 3 * 190.48, 1.0);
}

TEST(EventSimulator, ShotNoiseAndLeakRatesMatchOptions) {
  SimulatorOptions o;
  o.width = 64;
  o.height = 64;
  o.exposure_us = 100000;
  o.shot_noise_hz = 20;
  const Image flat(1, 64, 64, 0.5f);
  const auto r = EventSimulator(o).simulate_motion(flat, CameraMotion{});
  const double expected = 20 * 0.1 * 64 * 64;  // rate * T * pixels
  EXPECT_NEAR(double(r.events.size()), expected, 5 * std::sqrt(expected));
  o.shot_noise_hz = 0;
  o.leak_hz = 30;
  const auto l = EventSimulator(o).simulate_motion(flat, CameraMotion{});
  size_t on = 0;
  for (auto p : l.events.p()) on += p > 0;
  EXPECT_EQ(on, l.events.size());  // leak events are ON
  EXPECT_NEAR(double(l.events.size()) / (64 * 64), 30 * 0.1, 1.01);
}

TEST(EventSimulator, ThresholdMismatchMapIsReportedAndClamped) {
  auto o = small_options();
  o.threshold_sigma = 0.3;
  const auto r =
      EventSimulator(o).simulate_motion(test::synthetic_photo(1, 40, 48, 1), CameraMotion{});
  ASSERT_EQ(r.thresholds.c_pos_map.size(), static_cast<size_t>(48 * 40));
  float lo = 1;
  for (float c : r.thresholds.c_pos_map) lo = std::min(lo, c);
  EXPECT_GE(lo, 0.01f);
  EXPECT_DIFFEVENT_ERROR(EventSimulator([] {
                           SimulatorOptions bad;
                           bad.exposure_us = -5;
                           return bad;
                         }()),
                         ErrorCode::kInvalidArgument, "exposure_us");
  EXPECT_DIFFEVENT_ERROR(EventSimulator().simulate_frames({Image(1, 2, 2)}, {0}),
                         ErrorCode::kInvalidArgument, "at least 2 frames");
  EXPECT_DIFFEVENT_ERROR(EventSimulator().simulate_frames({Image(1, 2, 2), Image(1, 2, 2)}, {5, 5}),
                         ErrorCode::kInvalidArgument, "not after");
}

TEST(EventSimulator, ResizeAndCropPreserveMeanAndContent) {
  const Image img = test::synthetic_photo(3, 40, 60, 2);
  const Image half = resize(img, 20, 30);
  double a = 0, b = 0;
  for (float v : img.values()) a += v;
  for (float v : half.values()) b += v;
  EXPECT_NEAR(a / img.size(), b / half.size(), 1e-4);
  const Image c = crop(img, 5, 7, 10, 11);
  EXPECT_EQ(c.at(2, 0, 0), img.at(2, 5, 7));
  EXPECT_DIFFEVENT_ERROR(crop(img, 35, 0, 10, 10), ErrorCode::kOutOfRange, "does not fit");
}

TEST(EventSimulator, WorkBeyondItsBoundsIsRefusedQuickly) {
  // Given parameters whose work has no practical end (a noise rate beyond int, thresholds so
  // small every pixel fires billions of times, a motion that needs billions of samples): each
  // is a kOutOfRange error naming the bound, before the memory or the time is spent.
  SimulatorOptions o;
  o.width = 64;
  o.height = 48;
  const Image photo = test::synthetic_photo(1, 48, 64, 3);
  o.shot_noise_hz = 1e12;
  EXPECT_DIFFEVENT_ERROR(EventSimulator(o).simulate_motion(photo, CameraMotion{}),
                         ErrorCode::kOutOfRange, "max_events");
  o.shot_noise_hz = std::numeric_limits<double>::infinity();
  EXPECT_DIFFEVENT_ERROR(EventSimulator{o}, ErrorCode::kInvalidArgument, "finite and >= 0");
  o.shot_noise_hz = std::nan("");
  EXPECT_DIFFEVENT_ERROR(EventSimulator{o}, ErrorCode::kInvalidArgument, "finite and >= 0");
  o.shot_noise_hz = 0;
  o.c_pos = o.c_neg = 1e-9;
  CameraMotion m;
  m.dx_px = 6;
  EXPECT_DIFFEVENT_ERROR(EventSimulator(o).simulate_motion(photo, m), ErrorCode::kOutOfRange,
                         "max_events");
  o.c_pos = o.c_neg = 0.2;
  m.dx_px = 1e12;
  EXPECT_DIFFEVENT_ERROR(EventSimulator(o).simulate_motion(photo, m), ErrorCode::kOutOfRange,
                         "max_samples");
  // Within the bounds, a host's lower max_events applies too.
  m.dx_px = 6;
  o.max_events = 10;
  EXPECT_DIFFEVENT_ERROR(EventSimulator(o).simulate_motion(photo, m), ErrorCode::kOutOfRange,
                         "max_events = 10");
}
