#include <cmath>

#include "test_util.hpp"

using namespace diffevent;

namespace {
// `contrast`: the photo raised to that power first (its log contrast multiplied by it).
SimulationResult simulate(int c, uint64_t seed, double sigma = 0.0, double threshold = 0.2,
                          float contrast = 1) {
  SimulatorOptions o;
  o.width = 96;
  o.height = 80;
  o.c_pos = o.c_neg = threshold;
  o.threshold_sigma = sigma;
  o.seed = seed;
  CameraMotion m;
  m.dx_px = 14;
  m.dy_px = -5;
  m.rotation_rad = 0.02;
  Image photo = test::synthetic_photo(c, 110, 120, seed);
  if (contrast != 1)
    for (float& v : photo.values()) v = std::pow(v, contrast);
  return EventSimulator(o).simulate_motion(photo, m);
}
}  // namespace

TEST(Edi, IdealModelInvertsExactly) {
  // Given blurry = E * sharp built from the integrator itself, EDI returns sharp.
  const auto ev = test::random_stream(8, 6, 500, 0, 4000, 2);
  const Image sharp = test::synthetic_photo(1, 6, 8, 4);
  EventIntegrator integ(IntegratorOptions::with(Thresholds::symmetric(0.2)));
  const Image E = integ.double_integral(ev, 0, 4000);
  Image blurry = sharp;
  for (size_t i = 0; i < blurry.size(); ++i) blurry.data()[i] *= E.data()[i];
  const Image out = Edi(EdiOptions::with_threshold(0.2)).deblur(blurry, ev, {0, 4000});
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out.data()[i], sharp.data()[i], 1e-5);
}

TEST(Edi, BeatsBlurryInputOnSimulatedDataByFiveDb) {
  for (uint64_t seed : {1u, 2u}) {
    const auto r = simulate(1, seed);
    const Image out = Edi(EdiOptions::with_threshold(0.2)).deblur(r.blurry, r.events, r.exposure);
    const double gain = psnr(r.sharp, out) - psnr(r.sharp, r.blurry);
    EXPECT_GT(gain, 5.0) << "seed " << seed << ": EDI " << psnr(r.sharp, out) << " dB, blur "
                         << psnr(r.sharp, r.blurry);
  }
}

TEST(Edi, RgbSharesOneDoubleIntegral) {
  const auto r = simulate(3, 5);
  const Image out = Edi(EdiOptions::with_threshold(0.2)).deblur(r.blurry, r.events, r.exposure);
  ASSERT_EQ(out.channels(), 3);
  const Image E = EventIntegrator(IntegratorOptions::with(Thresholds::symmetric(0.2)))
                      .double_integral(r.events, 0, r.exposure.t1_us);
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(out.at(c, 40, 50), r.blurry.at(c, 40, 50) / std::max(E.at(0, 40, 50), 1e-3f), 1e-6);
  EXPECT_GT(psnr(r.sharp, out) - psnr(r.sharp, r.blurry), 5.0);
}

TEST(Edi, FramesAtTauEqualDeblurAndFollowLogChange) {
  const auto r = simulate(1, 3);
  Edi edi(EdiOptions::with_threshold(0.2));
  std::vector<TimestampUs> times;
  const auto frames = edi.frames(r.blurry, r.events, r.exposure, 4, &times);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(times[0], 2500);
  EXPECT_EQ(times[3], 17500);
  const Image sharp = edi.deblur(r.blurry, r.events, r.exposure);
  const Image d = EventIntegrator(IntegratorOptions::with(Thresholds::symmetric(0.2)))
                      .log_change(r.events, r.exposure.mid_us(), times[0]);
  for (size_t i = 0; i < sharp.size(); i += 97)
    EXPECT_NEAR(frames[0].data()[i], sharp.data()[i] * std::exp(d.data()[i]), 1e-4);
  // The mean of the frames approximates the blurry frame (the model's consistency).
  Image mean(1, sharp.height(), sharp.width());
  for (const auto& f : edi.frames(r.blurry, r.events, r.exposure, 40))
    for (size_t i = 0; i < mean.size(); ++i) mean.data()[i] += f.data()[i] / 40.0f;
  EXPECT_GT(psnr(r.blurry, mean), 35.0);
}

TEST(Edi, ThresholdSearchFindsAUsefulThreshold) {
  const auto r = simulate(1, 4);
  const auto est = Edi().estimate_threshold(r.blurry, r.events, r.exposure);
  // True threshold 0.2; the documented energy lands within 0.15..0.25 on simulated data.
  EXPECT_GT(est.c, 0.14);
  EXPECT_LT(est.c, 0.27);
  EXPECT_GT(est.evaluations, 5);
  // The energy at the estimate is no worse than at the ends of the interval.
  Edi edi;
  const ThresholdSearchOptions interval;
  EXPECT_LE(est.energy,
            edi.threshold_energy(r.blurry, r.events, r.exposure, interval.c_min) + 1e-12);
  EXPECT_LE(est.energy, edi.threshold_energy(r.blurry, r.events, r.exposure, 1.0) + 1e-12);
  EXPECT_LE(est.energy,
            edi.threshold_energy(r.blurry, r.events, r.exposure, interval.c_max) + 1e-12);
  const Image out = Edi(EdiOptions::with_threshold(est.c)).deblur(r.blurry, r.events, r.exposure);
  EXPECT_GT(psnr(r.sharp, out), psnr(r.sharp, r.blurry) + 4.0);
}

TEST(Edi, ThresholdSearchFindsLargeThresholdsInsideTheDefaultInterval) {
  // A sensor that fires few events (low light, a high bias) behaves as a large threshold:
  // the default interval reaches it, where one ending at 1 stops at its end. The scene's
  // log contrast is quadrupled (the photo to the 4th power), so such thresholds still fire.
  for (const double truth : {0.6, 1.5}) {
    const auto r = simulate(1, 4, 0.0, truth, 4);
    const auto est = Edi().estimate_threshold(r.blurry, r.events, r.exposure);
    EXPECT_FALSE(est.at_bound) << "true c " << truth << ", estimate " << est.c;
    // Sparse events bias the energy's minimum up (measured: 0.71 for 0.6, 2.22 for 1.5).
    EXPECT_GT(est.c, 0.8 * truth);
    EXPECT_LT(est.c, 1.6 * truth);
    ThresholdSearchOptions old_interval;
    old_interval.c_max = 1.0;
    if (truth > 1.2) {
      EXPECT_TRUE(Edi().estimate_threshold(r.blurry, r.events, r.exposure, old_interval).at_bound);
    }
  }
}

TEST(Edi, ThresholdSearchReportsItsSpreadAndSurvivesOverflow) {
  const auto r = simulate(1, 4);
  const auto est = Edi().estimate_threshold(r.blurry, r.events, r.exposure);
  // The minimisers of the grid's cells scatter around the estimate: a small, positive error.
  EXPECT_GT(est.std_error, 0.0);
  EXPECT_LT(est.std_error, 0.1);
  // A search up to c = 20 overflows exp(c N) at busy pixels; the energy stays finite and the
  // estimate stays where the data put it instead of running to the end of the interval.
  ThresholdSearchOptions wide;
  wide.c_max = 20;
  Edi edi;
  EXPECT_TRUE(std::isfinite(edi.threshold_energy(r.blurry, r.events, r.exposure, 20, wide)));
  const auto far = edi.estimate_threshold(r.blurry, r.events, r.exposure, wide);
  EXPECT_FALSE(far.at_bound);
  EXPECT_NEAR(far.c, est.c, 0.05);
}

TEST(Edi, LinearizeOptionRoundTripsWithoutEvents) {
  // With no events E = 1, so the output equals the input whatever the transfer function.
  Image blurry = test::synthetic_photo(1, 10, 12, 1);
  EdiOptions o;
  o.linearize_srgb = true;
  const Image out = Edi(o).deblur(blurry, EventStream(12, 10), {0, 100});
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out.data()[i], blurry.data()[i], 1e-5);
}

TEST(Edi, GuardsTinyIntegralAndValidatesInput) {
  // Many OFF events right after tau make E tiny; the guard caps the gain at 1 / min_integral.
  std::vector<TimestampUs> t(200, 501);
  auto ev = EventStream::from_arrays(1, 1, t, std::vector<uint16_t>(200, 0),
                                     std::vector<uint16_t>(200, 0), std::vector<int8_t>(200, 0));
  EdiOptions o;
  o.min_integral = 0.6;
  const Image out = Edi(o).deblur(Image(1, 1, 1, 0.3f), ev, {0, 1000});
  EXPECT_NEAR(out.at(0, 0, 0), 0.3 / 0.6, 1e-6);
  EXPECT_DIFFEVENT_ERROR(Edi().deblur(Image(1, 5, 5), EventStream(4, 4), {0, 10}),
                         ErrorCode::kInvalidArgument,
                         "blurry image is 5x5 but the events come from a 4x4 sensor");
  Image nan(1, 4, 4);
  nan.at(0, 1, 1) = std::nanf("");
  EXPECT_DIFFEVENT_ERROR(Edi().deblur(nan, EventStream(4, 4), {0, 10}), ErrorCode::kInvalidArgument,
                         "NaN");
  EXPECT_DIFFEVENT_ERROR(Edi().deblur(Image(1, 4, 4), EventStream(4, 4), {10, 10}),
                         ErrorCode::kInvalidArgument, "t0 < t1");
  EXPECT_DIFFEVENT_ERROR(Edi().frames(Image(1, 4, 4), EventStream(4, 4), {0, 10}, 0),
                         ErrorCode::kInvalidArgument, "frame count");
}

TEST(Edi, ExposureArithmeticCannotOverflow) {
  // Given the widest exposure a file or a caller can state: it is refused by name, and the
  // helpers themselves stay defined (no signed overflow).
  const Exposure widest{INT64_MIN, INT64_MAX};
  EXPECT_FALSE(widest.valid());
  EXPECT_EQ(widest.duration_us(), 0);
  EXPECT_EQ(widest.mid_us(), -1);  // INT64_MIN + (2^64 - 1) / 2
  EXPECT_DIFFEVENT_ERROR(Edi().deblur(Image(1, 4, 4), EventStream(4, 4), widest),
                         ErrorCode::kInvalidArgument, "less than 2^63 us");
  EXPECT_DIFFEVENT_ERROR(EventIntegrator().double_integral(EventStream(4, 4), INT64_MIN, INT64_MAX),
                         ErrorCode::kInvalidArgument, "less than 2^63 us");
  // The longest valid exposure, and the usual midpoint rounding towards t0.
  const Exposure longest{-1, INT64_MAX - 1};
  EXPECT_TRUE(longest.valid());
  EXPECT_EQ(longest.duration_us(), INT64_MAX);
  EXPECT_EQ((Exposure{-3, 4}.mid_us()), 0);
  EXPECT_EQ((Exposure{10, 21}.mid_us()), 15);
  EXPECT_EQ((Exposure{5, 5}.duration_us()), 0);
}

namespace {
// The 96 x 80 sensor of simulate() at one threshold.
SimulatorOptions sensor_options(double threshold, uint64_t seed) {
  SimulatorOptions o;
  o.width = 96;
  o.height = 80;
  o.c_pos = o.c_neg = threshold;
  o.seed = seed;
  return o;
}

SensorThresholdEstimate sensor_estimate(const SimulationResult& r, bool reference_at_start = true) {
  SensorThresholdOptions so;
  so.reference_at_start = reference_at_start;
  return Edi().estimate_sensor_threshold(r.blurry, r.events, r.exposure, so);
}
}  // namespace

TEST(Edi, SensorThresholdFindsTheSimulatedThreshold) {
  // The simulator starts every pixel at its reference level: reference_at_start models it.
  for (const double c : {0.2, 0.45}) {
    const auto est = sensor_estimate(simulate(1, 3, 0.0, c));
    EXPECT_NEAR(est.c / c, 1.0, 0.1) << "threshold " << c;
    EXPECT_FALSE(est.at_bound);
    EXPECT_GT(est.pixels, 200);
    EXPECT_GT(est.std_error, 0.0);
    EXPECT_NEAR(est.motion_px, std::hypot(14.0, 5.0), 3.0);  // the simulated path, +- rotation
  }
}

TEST(Edi, SensorThresholdIsTheMedianUnderStrongMismatchAndNoise) {
  // A per-pixel mismatch of half the threshold and 20 Hz of noise events: the sharpest single
  // threshold lies far below the mean (docs/edi.md); the per-pixel median does not.
  SimulatorOptions o = sensor_options(0.2, 5);
  o.threshold_sigma = 0.1;
  o.shot_noise_hz = 20;
  CameraMotion m;
  m.dx_px = -9;
  m.dy_px = 7;
  const auto r = EventSimulator(o).simulate_motion(test::synthetic_photo(1, 110, 120, 5), m);
  const auto est = sensor_estimate(r);
  EXPECT_NEAR(est.c, 0.2, 0.2 * 0.2);
  const auto search = Edi().estimate_threshold(r.blurry, r.events, r.exposure);
  EXPECT_LT(search.c, 0.16);  // why the sensor's threshold needs its own estimate
}

TEST(Edi, SensorThresholdSeparatesThePolarities) {
  // ON 0.3, OFF 0.15: pixels that brighten fire ON events, those that darken OFF ones.
  SimulatorOptions o = sensor_options(0.3, 6);
  o.c_neg = 0.15;
  CameraMotion m;
  m.dx_px = 12;
  m.dy_px = 5;
  const auto est =
      sensor_estimate(EventSimulator(o).simulate_motion(test::synthetic_photo(1, 110, 120, 6), m));
  EXPECT_NEAR(est.c_pos, 0.3, 0.3 * 0.15);
  EXPECT_NEAR(est.c_neg, 0.15, 0.15 * 0.15);
  EXPECT_GT(est.pixels_pos, 25);
  EXPECT_GT(est.pixels_neg, 25);
  EXPECT_EQ(est.pixels_pos + est.pixels_neg, est.pixels);
  // Symmetric thresholds: both alike.
  const auto sym = sensor_estimate(simulate(1, 3, 0.0, 0.2));
  EXPECT_NEAR(sym.c_pos / sym.c_neg, 1.0, 0.1);
}

TEST(Edi, SensorThresholdDoesNotFollowTheMotion) {
  // The velocity scales the blur, the events fix the change: three times the motion, about
  // the same c (were they confounded, c would triple).
  const SimulatorOptions o = sensor_options(0.3, 2);
  const Image photo = test::synthetic_photo(1, 110, 120, 2);
  CameraMotion slow, fast;
  slow.dx_px = 6;
  fast.dx_px = 18;
  const auto a = sensor_estimate(EventSimulator(o).simulate_motion(photo, slow));
  const auto b = sensor_estimate(EventSimulator(o).simulate_motion(photo, fast));
  EXPECT_NEAR(a.c, 0.3, 0.045);
  EXPECT_NEAR(b.c, 0.3, 0.045);
  EXPECT_NEAR(b.c / a.c, 1.0, 0.2);
  EXPECT_NEAR(a.motion_px, 6, 1.5);
  EXPECT_NEAR(b.motion_px, 18, 1.5);
}

TEST(Edi, SensorThresholdReferencePhaseMovesItTheRightWay) {
  // Each pixel's last half threshold goes unsaid when references start at the exposure: read
  // as a random phase, the same events need a larger threshold.
  const auto r = simulate(1, 4, 0.0, 0.2);
  const auto reset = sensor_estimate(r, true), random_phase = sensor_estimate(r, false);
  EXPECT_GT(random_phase.c, reset.c * 1.03);
}

TEST(Edi, SensorThresholdNamesWhatIsMissing) {
  const Image photo = test::synthetic_photo(1, 40, 48, 2);
  SimulatorOptions o;
  o.width = 40;
  o.height = 32;
  const auto still = EventSimulator(o).simulate_motion(photo, CameraMotion{});
  try {
    Edi().estimate_sensor_threshold(still.blurry, still.events, still.exposure);
    FAIL() << "no events must not give a threshold";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("sensor threshold: only 0 pixels"), std::string::npos)
        << e.what();
  }
  const auto r = simulate(1, 3);
  SensorThresholdOptions bad;
  bad.block_px = 4;
  try {
    Edi().estimate_sensor_threshold(r.blurry, r.events, r.exposure, bad);
    FAIL() << "block_px 4 must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("block_px 4"), std::string::npos) << e.what();
  }
}

TEST(Edi, SensorThresholdOnNoiseIsAnEstimateInRangeOrANamedError) {
  // Events at random pixels and times over random images, dense and sparse, on sensors from
  // tiny to several blocks: every call ends in a finite estimate inside its range or in the
  // error that names too few moving edges, never in NaN or a crash.
  for (uint64_t seed = 0; seed < 12; ++seed) {
    const int w = seed % 3 == 0 ? 5 : 40 + static_cast<int>(seed) * 11;
    const int h = seed % 3 == 0 ? 4 : 30 + static_cast<int>(seed) * 7;
    const size_t n = seed % 2 == 0 ? 50 : 40000;
    const auto ev = test::random_stream(w, h, n, 0, 20000, seed);
    const Image blurry = test::synthetic_photo(1, h, w, seed);
    SensorThresholdOptions o;
    o.min_peak = 1.0;  // let noise through to the per-pixel stage as well
    try {
      const auto est = Edi().estimate_sensor_threshold(blurry, ev, {0, 20000}, o);
      EXPECT_TRUE(std::isfinite(est.c) && est.c >= o.c_min && est.c <= o.c_max) << est.c;
      EXPECT_TRUE(std::isfinite(est.std_error) && est.std_error >= 0);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find("sensor threshold: only"), std::string::npos)
          << e.what();
    }
  }
}
