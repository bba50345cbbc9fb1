#include <cmath>

#include "test_util.hpp"

using namespace diffevent;

namespace {

// Brute force: the integrand is constant on each microsecond [k, k+1) because timestamps are
// integers, so a sum over microseconds with exp() of the direct event count is the integral.
std::vector<double> brute_force(const EventStream& ev, TimestampUs t0, TimestampUs t1,
                                TimestampUs tau, const Thresholds& th) {
  const size_t npix = static_cast<size_t>(ev.width()) * static_cast<size_t>(ev.height());
  std::vector<double> E(npix, 0.0);
  for (size_t pix = 0; pix < npix; ++pix) {
    const double cp = th.c_pos_map.empty() ? th.c_pos : th.c_pos_map[pix];
    const double cn = th.c_neg_map.empty() ? th.c_neg : th.c_neg_map[pix];
    // level(t) = sum of signed steps at events with t_e < t (in [t0, t1)), relative to tau.
    std::vector<std::pair<TimestampUs, double>> steps;
    for (size_t i = 0; i < ev.size(); ++i) {
      if (static_cast<size_t>(ev.y()[i]) * ev.width() + ev.x()[i] != pix) continue;
      if (ev.t_us()[i] < t0 || ev.t_us()[i] >= t1) continue;
      steps.push_back({ev.t_us()[i], ev.p()[i] > 0 ? cp : -cn});
    }
    auto level = [&](double t) {
      double l = 0;
      for (auto& s : steps) l += (s.first < t) ? s.second : 0.0;
      return l;
    };
    const double ltau = level(tau + 0.5) - 0.0;  // level just after tau: events at tau count
    double sum = 0;
    for (TimestampUs k = t0; k < t1; ++k) sum += std::exp(level(k + 0.5) - ltau);
    E[pix] = sum / static_cast<double>(t1 - t0);
  }
  return E;
}

// Brute force for Interpolation::kRamp: the level as knots (time, level) per pixel, written
// out from the rule (hold, then a ramp of length r into each event), evaluated by linear
// interpolation and integrated by the midpoint rule on `sub` points per microsecond.
std::vector<double> brute_force_ramp(const EventStream& ev, TimestampUs t0, TimestampUs t1,
                                     TimestampUs tau, const Thresholds& th, double ramp_max,
                                     double run_gap, int sub) {
  const size_t npix = static_cast<size_t>(ev.width()) * static_cast<size_t>(ev.height());
  std::vector<double> E(npix, 0.0);
  for (size_t pix = 0; pix < npix; ++pix) {
    const double cp = th.c_pos_map.empty() ? th.c_pos : th.c_pos_map[pix];
    const double cn = th.c_neg_map.empty() ? th.c_neg : th.c_neg_map[pix];
    std::vector<double> kt{0.0}, kl{0.0};
    int last_p = 0;
    for (size_t i = 0; i < ev.size(); ++i) {
      if (static_cast<size_t>(ev.y()[i]) * ev.width() + ev.x()[i] != pix) continue;
      if (ev.t_us()[i] < t0 || ev.t_us()[i] >= t1) continue;
      const double te = static_cast<double>(ev.t_us()[i] - t0), gap = te - kt.back();
      const int p = ev.p()[i] > 0 ? 1 : -1;
      const double r = (p == last_p && gap <= run_gap) ? gap : std::min(gap, ramp_max);
      if (gap - r > 0) {
        kt.push_back(te - r);
        kl.push_back(kl.back());
      }
      kt.push_back(te);
      kl.push_back(kl.back() + (p > 0 ? cp : -cn));
      last_p = p;
    }
    kt.push_back(static_cast<double>(t1 - t0));
    kl.push_back(kl.back());
    auto level = [&](double t) {  // the last knot at or before t, then linear to the next
      size_t k = 0;
      while (k + 2 < kt.size() && kt[k + 1] <= t) ++k;
      const double span = kt[k + 1] - kt[k];
      return span > 0 ? kl[k] + (kl[k + 1] - kl[k]) * std::min(1.0, (t - kt[k]) / span) : kl[k + 1];
    };
    const double ltau = level(static_cast<double>(tau - t0));
    double sum = 0;
    const int64_t n = (t1 - t0) * sub;
    for (int64_t k = 0; k < n; ++k) sum += std::exp(level((k + 0.5) / sub) - ltau);
    E[pix] = sum / static_cast<double>(n);
  }
  return E;
}

// The random streams both brute-force tests use: 800 events on 7 x 5 pixels over
// [-300, 2300) us (the exposure is [0, 2000)), asymmetric thresholds.
EventStream random_case_stream(uint64_t seed) {
  return test::random_stream(7, 5, 800, -300, 2300, seed);
}
Thresholds random_case_thresholds() {
  Thresholds th;
  th.c_pos = 0.21;
  th.c_neg = 0.17;
  return th;
}

}  // namespace

TEST(EventIntegrator, NoEventsGivesOneEverywhere) {
  EventStream empty(5, 4);
  const Image E = EventIntegrator().double_integral(empty, 0, 1000);
  ASSERT_EQ(E.size(), 20u);
  for (float v : E.values()) EXPECT_FLOAT_EQ(v, 1.0f);
}

TEST(EventIntegrator, ThresholdSensitivityMatchesTheDerivativeOfTheClosedForm) {
  // Given k ON events at t_e > tau and one OFF event at t_o < tau at pixel (1, 2):
  //   E = [ (t_o - t0) e^{c_neg} + (tau - t_o) ... ] -- per piece:
  //   [t0, t_o): level +c_neg (before the OFF event the intensity was c_neg higher),
  //   [t_o, t_e): level 0, [t_e, t1): level k c_pos,
  // so d ln E / d c_pos = (t1 - t_e) k e^{k c_pos} / (T E) and d ln E / d c_neg = (t_o - t0)
  // e^{c_neg} / (T E).
  const double cp = 0.25, cn = 0.2;
  const int k = 3;
  const TimestampUs t0 = 0, t1 = 1000, te = 600, to = 300;
  auto ev =
      EventStream::from_arrays(3, 2, {to, te, te, te}, {2, 2, 2, 2}, {1, 1, 1, 1}, {0, 1, 1, 1});
  Thresholds th;
  th.c_pos = cp;
  th.c_neg = cn;
  const Image S = EventIntegrator(IntegratorOptions::with(th)).threshold_sensitivity(ev, t0, t1);
  const double T = double(t1 - t0);
  const double E = ((to - t0) * std::exp(cn) + (te - to) + (t1 - te) * std::exp(k * cp)) / T;
  const double dp = (t1 - te) * k * std::exp(k * cp) / (T * E),
               dn = (to - t0) * std::exp(cn) / (T * E);
  // Then the central difference agrees with the closed form to O(h^2) (h = 0.01 here).
  EXPECT_NEAR(S.at(0, 1, 2), std::sqrt(dp * dp + dn * dn), 2e-3 * std::sqrt(dp * dp + dn * dn));
  // A pixel without events does not depend on the thresholds.
  EXPECT_FLOAT_EQ(S.at(0, 0, 0), 0.0f);
  // Per-pixel maps shift alike: a map holding the scalars gives the same S.
  th.c_pos_map.assign(6, static_cast<float>(cp));
  th.c_neg_map.assign(6, static_cast<float>(cn));
  const Image Sm = EventIntegrator(IntegratorOptions::with(th)).threshold_sensitivity(ev, t0, t1);
  EXPECT_NEAR(Sm.at(0, 1, 2), S.at(0, 1, 2), 1e-4);
  th.c_pos_map[0] = 0.0f;
  EXPECT_DIFFEVENT_ERROR(
      EventIntegrator(IntegratorOptions::with(th)).threshold_sensitivity(ev, t0, t1),
      ErrorCode::kInvalidArgument, "c_pos_map[0] = 0 must be in (0, 20]");
}

TEST(EventIntegrator, SingleEventMatchesClosedForm) {
  // Given one ON event at t_e after tau, E = ((t_e - t0) + (t1 - t_e) e^c) / T at that pixel.
  const double c = 0.3;
  const TimestampUs t0 = 0, t1 = 1000, te = 700;
  auto ev = EventStream::from_arrays(3, 2, {te}, {2}, {1}, {1});
  EventIntegrator integ(IntegratorOptions::with(Thresholds::symmetric(c)));
  const Image E = integ.double_integral(ev, t0, t1);
  EXPECT_NEAR(E.at(0, 1, 2), ((te - t0) + (t1 - te) * std::exp(c)) / double(t1 - t0), 1e-6);
  EXPECT_FLOAT_EQ(E.at(0, 0, 0), 1.0f);
  // Before tau, an OFF event means the level before it was c_neg above the level at tau.
  auto ev2 = EventStream::from_arrays(3, 2, {200}, {0}, {0}, {0});
  Thresholds th;
  th.c_pos = 0.5;
  th.c_neg = 0.25;
  const Image E2 = EventIntegrator(IntegratorOptions::with(th)).double_integral(ev2, t0, t1);
  EXPECT_NEAR(E2.at(0, 0, 0), (200 * std::exp(0.25) + 800) / 1000.0, 1e-6);
  // With tau at the exposure start, the same event acts after tau.
  const Image E3 =
      EventIntegrator(IntegratorOptions::with(th)).double_integral(ev2, t0, t1, TimestampUs{0});
  EXPECT_NEAR(E3.at(0, 0, 0), (200 + 800 * std::exp(-0.25)) / 1000.0, 1e-6);
}

TEST(EventIntegrator, MatchesBruteForceOnRandomStreams) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    const auto ev = random_case_stream(seed);
    const Thresholds th = random_case_thresholds();
    const TimestampUs t0 = 0, t1 = 2000, tau = 777;
    const auto ref = brute_force(ev, t0, t1, tau, th);
    for (int threads : {1, 3}) {
      IntegratorOptions o = IntegratorOptions::with(th, threads);
      const Image E = EventIntegrator(o).double_integral(ev, t0, t1, tau);
      for (size_t i = 0; i < ref.size(); ++i)
        EXPECT_NEAR(E.data()[i] / ref[i], 1.0, 1e-6) << "pixel " << i;
    }
  }
}

TEST(EventIntegrator, RampSingleEventMatchesClosedForm) {
  // Given one ON event at t_e after tau and ramps of at most 0.04 T: the level holds 0 until
  // t_e - r (r = 0.04 T = 40 us), ramps to c at t_e and holds c; so
  //   E = ((t_e - r - t0) + r (e^c - 1) / c + (t1 - t_e) e^c) / T.
  const double c = 0.3;
  const TimestampUs t0 = 0, t1 = 1000, te = 700;
  auto ev = EventStream::from_arrays(3, 2, {te}, {2}, {1}, {1});
  IntegratorOptions o = IntegratorOptions::with(Thresholds::symmetric(c));
  o.interpolation = Interpolation::kRamp;
  const Image E = EventIntegrator(o).double_integral(ev, t0, t1);
  const double r = 40;
  EXPECT_NEAR(E.at(0, 1, 2), ((te - r) + r * std::expm1(c) / c + (t1 - te) * std::exp(c)) / 1000.0,
              1e-6);
  EXPECT_FLOAT_EQ(E.at(0, 0, 0), 1.0f);
  // With tau inside the ramp (t_e - 10), L(tau) = c (r - 10) / r: E above divided by exp of it.
  const Image Et = EventIntegrator(o).double_integral(ev, t0, t1, TimestampUs{te - 10});
  EXPECT_NEAR(Et.at(0, 1, 2), E.at(0, 1, 2) * std::exp(-c * 0.75) / 1.0, 1e-6);
  // Two ON events 100 us apart (< 0.15 T: one run): a ramp of 40 us into the first, then
  // linear from c to 2c over the 100 us between them.
  auto ev2 = EventStream::from_arrays(3, 2, {300, 400}, {0, 0}, {0, 0}, {1, 1});
  const Image E2 = EventIntegrator(o).double_integral(ev2, t0, t1, TimestampUs{0});
  const double expect2 = (260 + 40 * std::expm1(c) / c + 100 * std::exp(c) * std::expm1(c) / c +
                          600 * std::exp(2 * c)) /
                         1000;
  EXPECT_NEAR(E2.at(0, 0, 0), expect2, 1e-6);
}

TEST(EventIntegrator, RampMatchesBruteForceAndReducesToStep) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    const auto ev = random_case_stream(seed);
    const Thresholds th = random_case_thresholds();
    const TimestampUs t0 = 0, t1 = 2000;
    for (TimestampUs tau : {TimestampUs{0}, TimestampUs{777}, TimestampUs{2000}}) {
      IntegratorOptions o = IntegratorOptions::with(th);
      o.interpolation = Interpolation::kRamp;
      o.ramp_fraction = 0.02;    // 40 us
      o.run_gap_fraction = 0.1;  // 200 us
      const auto ref = brute_force_ramp(ev, t0, t1, tau, th, 40.0, 200.0, 8);
      const Image E = EventIntegrator(o).double_integral(ev, t0, t1, tau);
      for (size_t i = 0; i < ref.size(); ++i)
        EXPECT_NEAR(E.data()[i] / ref[i], 1.0, 1e-5) << "pixel " << i << " tau " << tau;
      // Without ramps the model is EDI's step model, to rounding.
      o.ramp_fraction = o.run_gap_fraction = 0;
      const Image R0 = EventIntegrator(o).double_integral(ev, t0, t1, tau);
      const Image S = EventIntegrator(IntegratorOptions::with(th)).double_integral(ev, t0, t1, tau);
      for (size_t i = 0; i < S.size(); ++i)
        EXPECT_NEAR(R0.data()[i] / S.data()[i], 1.0, 1e-6) << "pixel " << i;
    }
  }
}

TEST(EventIntegrator, RampStaysFiniteForThousandsOfEventsAndValidatesFractions) {
  // Given 5000 ON events at one pixel (a log change of 1000, beyond exp's range) the ramp
  // integral keeps its state in relative form: E is finite and positive for tau at the start
  // (e^{1000}: +inf in float is allowed there, never NaN) and at the end (tiny, not NaN).
  std::vector<TimestampUs> t;
  for (int i = 0; i < 5000; ++i) t.push_back(i);
  auto ev = EventStream::from_arrays(1, 1, t, std::vector<uint16_t>(5000, 0),
                                     std::vector<uint16_t>(5000, 0), std::vector<int8_t>(5000, 1));
  IntegratorOptions o = IntegratorOptions::with(Thresholds::symmetric(0.2));
  o.interpolation = Interpolation::kRamp;
  const Image end = EventIntegrator(o).double_integral(ev, 0, 10000, TimestampUs{10000});
  EXPECT_TRUE(std::isfinite(end.at(0, 0, 0)));
  EXPECT_GE(end.at(0, 0, 0), 0.0f);
  EXPECT_NEAR(end.at(0, 0, 0), 0.5f, 1e-3);  // the level holds its final value over [5000, 10000)
  const Image start = EventIntegrator(o).double_integral(ev, 0, 10000, TimestampUs{0});
  EXPECT_FALSE(std::isnan(start.at(0, 0, 0)));
  EXPECT_GT(start.at(0, 0, 0), 1e30f);
  o.ramp_fraction = 1.5;
  EXPECT_DIFFEVENT_ERROR(EventIntegrator{o}, ErrorCode::kInvalidArgument,
                         "ramp_fraction = 1.5 and run_gap_fraction = 0.15 must be in [0, 1]");
}

TEST(EventIntegrator, PerPixelThresholdMapsAndThreadsAgree) {
  // ~550 events per pixel: log levels stay well inside double range (see docs/edi.md).
  const auto ev = test::random_stream(9, 4, 20000, 0, 50000, 11);
  Thresholds th;
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.2f, 0.03f);
  for (int i = 0; i < 36; ++i) {
    th.c_pos_map.push_back(std::max(0.05f, nd(rng)));
    th.c_neg_map.push_back(std::max(0.05f, nd(rng)));
  }
  const auto small = ev.slice_time(0, 1500);
  const auto ref = brute_force(small, 0, 1500, 600, th);
  const Image E =
      EventIntegrator(IntegratorOptions::with(th, 1)).double_integral(small, 0, 1500, 600);
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(E.data()[i] / ref[i], 1.0, 1e-6);
  // Many events per pixel, split across threads: the chunk combination must be exact.
  const Image A =
      EventIntegrator(IntegratorOptions::with(th, 1)).double_integral(ev, 0, 50000, 20000);
  const Image B =
      EventIntegrator(IntegratorOptions::with(th, 4)).double_integral(ev, 0, 50000, 20000);
  for (size_t i = 0; i < A.size(); ++i) EXPECT_NEAR(B.data()[i] / A.data()[i], 1.0, 1e-9);
}

TEST(EventIntegrator, LogChangeIsSignedAndAntisymmetric) {
  auto ev =
      EventStream::from_arrays(2, 1, {10, 20, 30, 40}, {0, 0, 1, 0}, {0, 0, 0, 0}, {1, 1, 0, 0});
  Thresholds th;
  th.c_pos = 0.3;
  th.c_neg = 0.1;
  EventIntegrator integ(IntegratorOptions::with(th));
  const Image d = integ.log_change(ev, 0, 35);
  EXPECT_NEAR(d.at(0, 0, 0), 0.6, 1e-7);
  EXPECT_NEAR(d.at(0, 0, 1), -0.1, 1e-7);
  const Image r = integ.log_change(ev, 35, 0);
  EXPECT_NEAR(r.at(0, 0, 0), -0.6, 1e-7);
  // Events at exactly t_from are already included in x(t_from).
  EXPECT_NEAR(integ.log_change(ev, 10, 20).at(0, 0, 0), 0.3, 1e-7);
}

TEST(EventIntegrator, ConsistentWithLogChange) {
  // E at tau_a relates to E at tau_b by E_a = E_b * exp(L(tau_b) - L(tau_a)).
  const auto ev = test::random_stream(6, 6, 2000, 0, 10000, 5);
  EventIntegrator integ(IntegratorOptions::with(Thresholds::symmetric(0.2)));
  const Image Ea = integ.double_integral(ev, 0, 10000, TimestampUs{2000});
  const Image Eb = integ.double_integral(ev, 0, 10000, TimestampUs{8000});
  const Image d = integ.log_change(ev, 2000, 8000);
  for (size_t i = 0; i < Ea.size(); ++i)
    EXPECT_NEAR(Ea.data()[i], Eb.data()[i] * std::exp(d.data()[i]), 2e-5 * Ea.data()[i]);
}

TEST(EventIntegrator, ValidatesArguments) {
  EventStream ev(4, 4);
  EXPECT_DIFFEVENT_ERROR(EventIntegrator(IntegratorOptions::with(Thresholds::symmetric(-0.1))),
                         ErrorCode::kInvalidArgument,
                         "c_pos = -0.1 and c_neg = -0.1 must be in (0, 20]");
  EXPECT_DIFFEVENT_ERROR(EventIntegrator({Thresholds::symmetric(std::nan(""))}),
                         ErrorCode::kInvalidArgument, "must be in (0, 20]");
  // A threshold beyond any sensor's range once overflowed exp() into a NaN integral (found by
  // fuzz_deblur_params: c = 7.7e307); the largest accepted one integrates without NaN.
  EXPECT_DIFFEVENT_ERROR(EventIntegrator({Thresholds{7.7e307, 1.6e308, {}, {}}}),
                         ErrorCode::kInvalidArgument, "must be in (0, 20]");
  EXPECT_DIFFEVENT_ERROR(EventIntegrator({Thresholds::symmetric(20.001)}),
                         ErrorCode::kInvalidArgument, "(0, 20]");
  {
    EventStream burst(2, 1);
    for (int i = 0; i < 200; ++i) burst.push_back(10 + i, 0, 0, i < 100 ? 1 : -1);
    for (int i = 0; i < 200; ++i) burst.push_back(300 + i, 1, 0, 1);
    for (Interpolation mode : {Interpolation::kStep, Interpolation::kRamp}) {
      IntegratorOptions o = IntegratorOptions::with(Thresholds::symmetric(Thresholds::kMax));
      o.interpolation = mode;
      const Image E = EventIntegrator(o).double_integral(burst, 0, 1000);
      // (a pixel 2000 log units above its level at tau may integrate to +inf in float: never NaN)
      for (float v : E.values()) EXPECT_TRUE(v > 0) << v;
    }
  }
  EXPECT_DIFFEVENT_ERROR(EventIntegrator().double_integral(ev, 10, 10), ErrorCode::kInvalidArgument,
                         "t0 < t1");
  EXPECT_DIFFEVENT_ERROR(EventIntegrator().double_integral(ev, 0, 10, TimestampUs{11}),
                         ErrorCode::kOutOfRange, "outside the exposure");
  Thresholds th;
  th.c_pos_map.assign(3, 0.2f);
  EXPECT_DIFFEVENT_ERROR(EventIntegrator(IntegratorOptions::with(th)).double_integral(ev, 0, 10),
                         ErrorCode::kInvalidArgument, "c_pos_map has 3 values");
}

TEST(EventIntegrator, LogChangesMatchSingleLogChangeInAnyOrder) {
  const auto ev = test::random_stream(5, 4, 3000, 0, 10000, 8);
  EventIntegrator integ(IntegratorOptions::with(Thresholds::symmetric(0.2)));
  const std::vector<TimestampUs> times = {9000, 100, 5000, 4999, 5000, 0, 10000, 2500};
  const auto many = integ.log_changes(ev, 5000, times);
  ASSERT_EQ(many.size(), times.size());
  for (size_t k = 0; k < times.size(); ++k) {
    // Reference: direct signed sums over (a, b].
    const TimestampUs a = std::min<TimestampUs>(5000, times[k]),
                      b = std::max<TimestampUs>(5000, times[k]);
    std::vector<double> ref(20, 0.0);
    for (size_t i = 0; i < ev.size(); ++i)
      if (ev.t_us()[i] > a && ev.t_us()[i] <= b)
        ref[static_cast<size_t>(ev.y()[i]) * 5 + ev.x()[i]] += 0.2 * ev.p()[i];
    const double sign = times[k] < 5000 ? -1.0 : 1.0;
    for (size_t i = 0; i < 20; ++i)
      EXPECT_NEAR(many[k].data()[i], sign * ref[i], 1e-5) << "time " << times[k];
  }
}

TEST(EventIntegrator, LogChangesBeyondTheDoubleRangeFallBackToTheLogDomain) {
  // Given a pixel with 800 ON events (c = 1) at t_a < tau and 800 OFF events at t_b > tau,
  // L - L(tau) is -800 before t_a, 0 between and -800 after t_b: E = (t_b - t_a) / T exactly,
  // although e^800 overflows any double on the way. A second, quiet pixel keeps E = 1.
  const TimestampUs T = 1000, ta = 200, tb = 700;
  EventStream ev(2, 1);
  for (int k = 0; k < 800; ++k) ev.push_back(ta, 0, 0, +1);
  for (int k = 0; k < 800; ++k) ev.push_back(tb, 0, 0, -1);
  EventIntegrator integ(IntegratorOptions::with(Thresholds::symmetric(1.0)));
  const Image E = integ.double_integral(ev, 0, T);
  EXPECT_NEAR(E.at(0, 0, 0), double(tb - ta) / T, 1e-6);
  EXPECT_FLOAT_EQ(E.at(0, 0, 1), 1.0f);
  // The log-domain value also agrees with the one-pass product where both work (N = 100).
  EventStream small(1, 1);
  for (int k = 0; k < 100; ++k) small.push_back(ta, 0, 0, +1);
  for (int k = 0; k < 100; ++k) small.push_back(tb, 0, 0, -1);
  const double expect = (ta * std::exp(-100.0) + (tb - ta) + (T - tb) * std::exp(-100.0)) / T;
  EXPECT_NEAR(integ.double_integral(small, 0, T).at(0, 0, 0), expect, 1e-6);
  // A pixel whose E exceeds float's range saturates to +inf, never NaN.
  EventStream hot(1, 1);
  for (int k = 0; k < 800; ++k) hot.push_back(ta, 0, 0, +1);
  const float e_hot = integ.double_integral(hot, 0, T, 0).at(0, 0, 0);
  EXPECT_TRUE(std::isinf(e_hot) && e_hot > 0);
}
