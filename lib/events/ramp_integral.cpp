// EventIntegrator::ramp_double_integral: E with Interpolation::kRamp (Note [Ramp interpolation]).
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.hpp"
#include "diffevent/events/event_integrator.hpp"
#include "diffevent/events/exposure.hpp"

namespace diffevent {
inline namespace v1 {

// Note [Ramp interpolation]
// Per pixel, L(t) - L(t0) is piecewise linear: it holds the level of the last event, then
// ramps to the next event's level over the r before that event (r = the whole gap within a
// run of same-polarity events closer than run_gap, else min(gap, ramp_max)); after the last
// event it holds. Each piece integrates exactly: a hold of length h at level L gives
// h exp(L), a ramp from La to Lb = La + d over r gives r exp(La) expm1(d) / d. The state keeps
// the integral relative to the current level, I_rel = I exp(-L), so an event costs one
// multiplication by exp(-d) and no exp(L); I_rel is rescaled by 2^-500 (and the scale kept in
// log form) if it ever passes 2^500, so no pixel overflows. L(tau) is read off the piece that
// holds tau. E = I_rel exp(L_end - L(tau)) / T, formed in the log domain.
Image EventIntegrator::ramp_double_integral(const EventStream& events, TimestampUs t0_us,
                                            TimestampUs t1_us, TimestampUs tau) const {
  const int W = events.width(), H = events.height();
  const size_t npix = static_cast<size_t>(W) * static_cast<size_t>(H);
  const auto& th = options_.thresholds;
  const double T = static_cast<double>(t1_us - t0_us);
  const double ramp_max = options_.ramp_fraction * T, run_gap = options_.run_gap_fraction * T;
  const double rel_tau = static_cast<double>(tau - t0_us);
  struct RampState {
    double last_t = 0.0;     // time of the last event (0: none yet), relative to t0
    double level = 0.0;      // L after the last event, relative to L(t0)
    double rel = 0.0;        // integral so far times exp(-level)
    double log_scale = 0.0;  // rel is in units of exp(log_scale)
    double level_tau = 0.0;
    int8_t last_p = 0;  // 0: no event yet
    bool tau_done = false;
  };
  std::vector<RampState> st(npix);
  // Per polarity [OFF, ON]: the level step d, the ramp's integral factor expm1(d) / d and
  // exp(-d), precomputed (per pixel with threshold maps): no transcendental per event.
  struct Step {
    double d, ramp, decay;
  };
  auto make_step = [](double d) { return Step{d, std::expm1(d) / d, std::exp(-d)}; };
  const bool per_pixel = !th.c_pos_map.empty() || !th.c_neg_map.empty();
  const Step scalar[2] = {make_step(-th.c_neg), make_step(th.c_pos)};
  std::vector<Step> map;
  if (per_pixel) {
    map.resize(2 * npix);
    for (size_t i = 0; i < npix; ++i) {
      map[2 * i] = make_step(-(th.c_neg_map.empty() ? th.c_neg : double(th.c_neg_map[i])));
      map[2 * i + 1] = make_step(th.c_pos_map.empty() ? th.c_pos : double(th.c_pos_map[i]));
    }
  }
  const auto [first, last] = events.index_range(t0_us, t1_us);
  constexpr double kBig = 0x1p500, kLogBig = 346.57359027997265;  // 2^500 and its natural log
  const size_t prefetch = npix * sizeof(RampState) > (size_t{4} << 20) ? 32 : 8;
  const TimestampUs* ts = events.t_us().data();
  const uint16_t* xs = events.x().data();
  const uint16_t* ys = events.y().data();
  const int8_t* ps = events.p().data();
  for (size_t k = first; k < last; ++k) {
    if (k + prefetch < last) {
      __builtin_prefetch(
          &st[static_cast<size_t>(ys[k + prefetch]) * static_cast<size_t>(W) + xs[k + prefetch]], 1,
          3);
    }
    const size_t pix = static_cast<size_t>(ys[k]) * static_cast<size_t>(W) + xs[k];
    RampState& s = st[pix];
    const double te = static_cast<double>(ts[k] - t0_us);
    const unsigned pos = ps[k] > 0 ? 1u : 0u;
    const Step& step = per_pixel ? map[2 * pix + pos] : scalar[pos];
    const int8_t p = pos ? 1 : -1;
    const double gap = te - s.last_t;
    const double r = (s.last_p == p && gap <= run_gap) ? gap : std::min(gap, ramp_max);
    const double hold = gap - r;
    // tau lies in this gap, on the hold or on the ramp (an event at tau with no ramp acts
    // before tau, as with kStep).
    if (!s.tau_done && (rel_tau < te || (rel_tau == te && r > 0))) {
      s.level_tau =
          s.level + (rel_tau <= s.last_t + hold ? 0.0 : step.d * (rel_tau - s.last_t - hold) / r);
      s.tau_done = true;
    }
    s.rel = (s.rel + hold + r * step.ramp) * step.decay;
    if (s.rel > kBig) {
      s.rel /= kBig;
      s.log_scale += kLogBig;
    }
    s.level += step.d;
    s.last_t = te;
    s.last_p = p;
  }
  Image out(1, H, W);
  float* e = out.data();
  for (size_t i = 0; i < npix; ++i) {
    const RampState& s = st[i];
    const double rel = s.rel + (T - s.last_t);
    const double level_tau = s.tau_done ? s.level_tau : s.level;
    e[i] = static_cast<float>(
        std::exp(std::log(rel) + s.log_scale + s.level - level_tau - std::log(T)));
  }
  return out;
}

}  // namespace v1
}  // namespace diffevent
