#include "diffevent/events/event_integrator.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <new>

#include "core/check.hpp"
#ifdef __linux__
#include <sys/mman.h>
#endif
#include <thread>

#include "diffevent/events/exposure.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

// Note [Exact double integral]
// Per pixel the integrand v(t) = exp(L(t) - L(start)) is piecewise constant between events;
// an event multiplies v by m = exp(+c_pos) or exp(-c_neg) (precomputed: no exp() per event).
// Summation by parts removes the per-pixel "time of last event" from the state:
//   integral_{Ta}^{Tb} v dt = v(Tb) Tb - v(Ta) Ta - sum_e t_e (v_after - v_before)
//                           = v(Tb) Tb - Ta + sum_e t_e v_before (1 - m_e)      (v(Ta) = 1),
// so the state is {v, acc} (16 bytes) and an event does acc += t_e v (1 - m); v *= m, with t
// relative to t0. A time chunk of events is summarised per pixel by (I, M) = (its integral,
// v at its end); chunks combine exactly as I = I1 + M1 I2, M = M1 M2, which lets threads
// take time chunks. E relative to tau divides by v at tau (a snapshot taken when the pass
// crosses tau). Double precision throughout; |L| must stay below ~700 (exp range).
struct PixelState {
  double v;
  double acc;
};

// Note [Random-access throughput]
// With uniformly random pixels each event reads and writes one random 16-byte state. The loop
// is latency-bound: at 1280x720 the state (14.7 MB) misses L2 and each event waits for L3 or
// DRAM. A software prefetch of the state for the event kPrefetch ahead overlaps those misses
// (measured 29 -> 109 M events/s at 1280x720 on the CI machine). The polarity multiplier is
// chosen by indexing, not by a branch: a 50/50 unpredictable branch flushes the pipeline and
// with it the overlap.
template <bool kPerPixel>
void integrate_range(const EventStream& ev, size_t a, size_t b, TimestampUs t0,
                     const double* mult_map, const double* mult, const double* one_minus,
                     PixelState* st, size_t prefetch) {
  const TimestampUs* ts = ev.t_us().data();
  const uint16_t* xs = ev.x().data();
  const uint16_t* ys = ev.y().data();
  const int8_t* ps = ev.p().data();
  const size_t w = static_cast<size_t>(ev.width());
  for (size_t i = a; i < b; ++i) {
    if (i + prefetch < b) {
      __builtin_prefetch(&st[static_cast<size_t>(ys[i + prefetch]) * w + xs[i + prefetch]], 1, 3);
    }
    const size_t idx = static_cast<size_t>(ys[i]) * w + xs[i];
    const unsigned pos = ps[i] > 0 ? 1u : 0u;
    PixelState& s = st[idx];
    const double m = kPerPixel ? mult_map[2 * idx + pos] : mult[pos];
    const double one_minus_m = kPerPixel ? 1.0 - m : one_minus[pos];
    s.acc += static_cast<double>(ts[i] - t0) * s.v * one_minus_m;
    s.v *= m;
  }
}

// Per-pixel state in one buffer aligned to 2 MiB and advised for transparent huge pages, which
// spares page walks on random access over tens of megabytes.
class StateBuffer {
 public:
  explicit StateBuffer(size_t n) {
    const size_t bytes =
        std::max(kAlign, ((n * sizeof(PixelState) + kAlign - 1) / kAlign) * kAlign);
    p_ = static_cast<PixelState*>(std::aligned_alloc(kAlign, bytes));
    if (!p_) throw std::bad_alloc();
#ifdef __linux__
    madvise(p_, bytes, MADV_HUGEPAGE);
#endif
  }
  ~StateBuffer() { std::free(p_); }
  StateBuffer(const StateBuffer&) = delete;
  StateBuffer& operator=(const StateBuffer&) = delete;
  PixelState* data() { return p_; }

 private:
  static constexpr size_t kAlign = size_t{2} << 20;
  PixelState* p_ = nullptr;
};

}  // namespace

void validate(const Thresholds& th) {
  DIFFEVENT_CHECK(std::isfinite(th.c_pos) && std::isfinite(th.c_neg) && th.c_pos > 0 &&
                      th.c_neg > 0 && th.c_pos <= Thresholds::kMax && th.c_neg <= Thresholds::kMax,
                  ErrorCode::kInvalidArgument,
                  "thresholds: c_pos = {} and c_neg = {} must be in (0, {}]", th.c_pos, th.c_neg,
                  Thresholds::kMax);
  auto check_map = [](const std::vector<float>& m, const char* name) {
    for (size_t i = 0; i < m.size(); ++i) {
      DIFFEVENT_CHECK(std::isfinite(m[i]) && m[i] > 0 && m[i] <= Thresholds::kMax,
                      ErrorCode::kInvalidArgument, "thresholds: {}[{}] = {} must be in (0, {}]",
                      name, i, m[i], Thresholds::kMax);
    }
  };
  check_map(th.c_pos_map, "c_pos_map");
  check_map(th.c_neg_map, "c_neg_map");
}

EventIntegrator::EventIntegrator(IntegratorOptions options) : options_(std::move(options)) {
  diffevent::validate(options_.thresholds);
  DIFFEVENT_CHECK(options_.num_threads >= 1 && options_.num_threads <= 256,
                  ErrorCode::kInvalidArgument, "integrator: num_threads = {} must be in [1, 256]",
                  options_.num_threads);
  DIFFEVENT_CHECK(std::isfinite(options_.ramp_fraction) && options_.ramp_fraction >= 0 &&
                      options_.ramp_fraction <= 1 && std::isfinite(options_.run_gap_fraction) &&
                      options_.run_gap_fraction >= 0 && options_.run_gap_fraction <= 1,
                  ErrorCode::kInvalidArgument,
                  "integrator: ramp_fraction = {} and run_gap_fraction = {} must be in [0, 1]",
                  options_.ramp_fraction, options_.run_gap_fraction);
}

void EventIntegrator::validate(const EventStream& events) const {
  const size_t npix = static_cast<size_t>(events.width()) * static_cast<size_t>(events.height());
  DIFFEVENT_CHECK(npix > 0, ErrorCode::kInvalidArgument,
                  "integrator: the event stream has no sensor size");
  const auto& th = options_.thresholds;
  DIFFEVENT_CHECK(th.c_pos_map.empty() || th.c_pos_map.size() == npix, ErrorCode::kInvalidArgument,
                  "thresholds: c_pos_map has {} values but the {}x{} sensor has {} pixels",
                  th.c_pos_map.size(), events.width(), events.height(), npix);
  DIFFEVENT_CHECK(th.c_neg_map.empty() || th.c_neg_map.size() == npix, ErrorCode::kInvalidArgument,
                  "thresholds: c_neg_map has {} values but the {}x{} sensor has {} pixels",
                  th.c_neg_map.size(), events.width(), events.height(), npix);
}

Image EventIntegrator::threshold_sensitivity(const EventStream& events, TimestampUs t0_us,
                                             TimestampUs t1_us,
                                             std::optional<TimestampUs> tau_us) const {
  validate(events);
  const Thresholds& th = options_.thresholds;
  // The constructor checked every threshold is finite and > 0, so c - h stays positive.
  double c_min = std::min(th.c_pos, th.c_neg);
  for (const auto* m : {&th.c_pos_map, &th.c_neg_map})
    for (float v : *m) c_min = std::min(c_min, static_cast<double>(v));
  const double h = 0.05 * c_min;
  // ln E with c_pos and c_neg (scalars and maps alike) shifted by dp and dn.
  auto log_e = [&](double dp, double dn) {
    Thresholds t = th;
    t.c_pos += dp;
    t.c_neg += dn;
    for (float& v : t.c_pos_map) v = static_cast<float>(v + dp);
    for (float& v : t.c_neg_map) v = static_cast<float>(v + dn);
    IntegratorOptions shifted = options_;
    shifted.thresholds = std::move(t);
    Image e = EventIntegrator(std::move(shifted)).double_integral(events, t0_us, t1_us, tau_us);
    for (float& v : e.values()) v = std::log(std::max(v, std::numeric_limits<float>::min()));
    return e;
  };
  const Image pp = log_e(h, 0), pm = log_e(-h, 0), np = log_e(0, h), nm = log_e(0, -h);
  Image out(1, events.height(), events.width());
  for (size_t i = 0; i < out.values().size(); ++i) {
    const double dp = (double(pp.values()[i]) - pm.values()[i]) / (2 * h);
    const double dn = (double(np.values()[i]) - nm.values()[i]) / (2 * h);
    out.values()[i] = static_cast<float>(std::sqrt(dp * dp + dn * dn));
  }
  return out;
}

Image EventIntegrator::double_integral(const EventStream& events, TimestampUs t0_us,
                                       TimestampUs t1_us,
                                       std::optional<TimestampUs> tau_opt) const {
  validate(events);
  const Exposure exposure{t0_us, t1_us};
  DIFFEVENT_CHECK(exposure.valid(), ErrorCode::kInvalidArgument,
                  "integrator: exposure [{}, {}] us must have t0 < t1 and last less than 2^63 us",
                  t0_us, t1_us);
  const TimestampUs tau = tau_opt ? *tau_opt : exposure.mid_us();
  DIFFEVENT_CHECK(tau >= t0_us && tau <= t1_us, ErrorCode::kOutOfRange,
                  "integrator: reference time tau = {} us lies outside the exposure [{}, {}] us",
                  tau, t0_us, t1_us);
  if (options_.interpolation == Interpolation::kRamp)
    return ramp_double_integral(events, t0_us, t1_us, tau);
  const int W = events.width(), H = events.height();
  const size_t npix = static_cast<size_t>(W) * static_cast<size_t>(H);
  const auto& th = options_.thresholds;
  const bool per_pixel = !th.c_pos_map.empty() || !th.c_neg_map.empty();
  // Multipliers exp(-c_neg) and exp(+c_pos), interleaved per pixel as [OFF, ON].
  std::vector<double> mult_map;
  if (per_pixel) {
    mult_map.resize(2 * npix);
    for (size_t i = 0; i < npix; ++i) {
      mult_map[2 * i] = std::exp(-(th.c_neg_map.empty() ? th.c_neg : double(th.c_neg_map[i])));
      mult_map[2 * i + 1] = std::exp(th.c_pos_map.empty() ? th.c_pos : double(th.c_pos_map[i]));
    }
  }
  const double mult[2] = {std::exp(-th.c_neg), std::exp(th.c_pos)};
  const double one_minus[2] = {1.0 - mult[0], 1.0 - mult[1]};

  // Events in [t0, t1); those at t <= tau act before tau (they step at t_e, right-continuous).
  const auto [first, last] = events.index_range(t0_us, t1_us);
  const auto& t = events.t_us();
  const size_t k_tau =
      static_cast<size_t>(std::upper_bound(t.begin() + static_cast<std::ptrdiff_t>(first),
                                           t.begin() + static_cast<std::ptrdiff_t>(last), tau) -
                          t.begin());
  const size_t n = last - first;
  // Threads take equal time chunks of events; each needs enough work to pay for its state.
  const int nthreads =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(options_.num_threads),
                                        std::max<size_t>(1, n / std::max<size_t>(npix, 65536))));
  const size_t prefetch = npix * sizeof(PixelState) > (size_t{4} << 20) ? 64 : 16;

  struct Chunk {
    size_t a, b;         // event index range
    TimestampUs ta, tb;  // time range, relative to t0
    bool has_tau;
  };
  std::vector<Chunk> chunks;
  for (int j = 0; j < nthreads; ++j) {
    const size_t a = first + n * static_cast<size_t>(j) / static_cast<size_t>(nthreads);
    const size_t b = first + n * static_cast<size_t>(j + 1) / static_cast<size_t>(nthreads);
    chunks.push_back({a, b, j == 0 ? 0 : t[a] - t0_us, 0, false});
  }
  for (size_t j = 0; j + 1 < chunks.size(); ++j) chunks[j].tb = chunks[j + 1].ta;
  chunks.back().tb = t1_us - t0_us;
  // tau belongs to the chunk whose time range holds it (the first, if several do).
  size_t tau_chunk = 0;
  for (size_t j = 0; j < chunks.size(); ++j) {
    if (chunks[j].ta <= tau - t0_us && tau - t0_us <= chunks[j].tb &&
        (j == 0 || k_tau >= chunks[j].a)) {
      tau_chunk = j;
      if (k_tau <= chunks[j].b) break;
    }
  }
  chunks[tau_chunk].has_tau = true;

  std::vector<std::unique_ptr<StateBuffer>> states(chunks.size());
  std::vector<double> v_tau(npix);
  auto run = [&](size_t j) {
    states[j] = std::make_unique<StateBuffer>(npix);
    PixelState* st = states[j]->data();
    for (size_t i = 0; i < npix; ++i) st[i] = PixelState{1.0, 0.0};
    const Chunk& c = chunks[j];
    auto range = [&](size_t a, size_t b) {
      if (per_pixel) {
        integrate_range<true>(events, a, b, t0_us, mult_map.data(), mult, one_minus, st, prefetch);
      } else {
        integrate_range<false>(events, a, b, t0_us, nullptr, mult, one_minus, st, prefetch);
      }
    };
    if (c.has_tau) {
      const size_t k = std::min(std::max(k_tau, c.a), c.b);
      range(c.a, k);
      for (size_t i = 0; i < npix; ++i) v_tau[i] = st[i].v;
      range(k, c.b);
    } else {
      range(c.a, c.b);
    }
  };
  if (chunks.size() == 1) {
    run(0);
  } else {
    std::vector<std::exception_ptr> errors(chunks.size());
    std::vector<std::thread> workers;
    for (size_t j = 1; j < chunks.size(); ++j) {
      workers.emplace_back([&, j] {
        try {
          run(j);
        } catch (...) {
          errors[j] = std::current_exception();
        }
      });
    }
    try {
      run(0);
    } catch (...) {
      errors[0] = std::current_exception();
    }
    for (auto& w : workers) w.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }

  Image out(1, H, W);
  float* e = out.data();
  std::vector<size_t> overflowed;  // pixels the one-pass product could not represent
  const double inv_T = 1.0 / static_cast<double>(t1_us - t0_us);
  for (size_t i = 0; i < npix; ++i) {
    double P = 1.0, integral = 0.0, P_tau = 1.0;
    for (size_t j = 0; j < chunks.size(); ++j) {
      const PixelState& s = states[j]->data()[i];
      integral +=
          P * (s.acc + s.v * static_cast<double>(chunks[j].tb) - static_cast<double>(chunks[j].ta));
      if (chunks[j].has_tau) P_tau = P * v_tau[i];
      P *= s.v;
    }
    const double E = integral / P_tau * inv_T;
    if (std::isfinite(E) && E > 0 && std::isfinite(P) && P > 0) {
      e[i] = static_cast<float>(E);
    } else {
      overflowed.push_back(i);
    }
  }
  if (!overflowed.empty())
    integrate_in_log_domain(events, first, last, t0_us, t1_us, tau, overflowed, e);
  return out;
}

// Note [Log-domain fallback]
// The one-pass integral multiplies v by exp(+-c) per event and so overflows (or underflows)
// once a pixel's log change passes ~700 in either direction: a hot pixel firing thousands of
// noise events, or a wrong threshold far above the true one. Those pixels (rare; none in
// normal data) are recomputed here in the log domain, E = exp(log I - L(tau) - log T) with
// log I accumulated by log-sum-exp over the constant pieces, in one more pass over the events
// that touches only them. The result may still round to 0 or +inf in float, which EDI and
// deblur handle (their guards clamp E); it is never NaN.
void EventIntegrator::integrate_in_log_domain(const EventStream& events, size_t first, size_t last,
                                              TimestampUs t0_us, TimestampUs t1_us, TimestampUs tau,
                                              const std::vector<size_t>& pixels, float* e) const {
  const auto& th = options_.thresholds;
  const size_t w = static_cast<size_t>(events.width());
  struct LogState {
    double level = 0.0, log_integral = -std::numeric_limits<double>::infinity(), level_tau = 0.0;
    double last_t = 0.0;
    bool tau_done = false;
  };
  std::vector<int64_t> slot(w * static_cast<size_t>(events.height()), -1);
  std::vector<LogState> st(pixels.size());
  for (size_t k = 0; k < pixels.size(); ++k) slot[pixels[k]] = static_cast<int64_t>(k);
  auto add_piece = [](LogState& s, double level, double dt) {
    if (dt <= 0) return;
    const double term = level + std::log(dt);
    const double hi = std::max(s.log_integral, term), lo = std::min(s.log_integral, term);
    s.log_integral = hi + std::log1p(std::exp(lo - hi));
  };
  const double rel_tau = static_cast<double>(tau - t0_us);
  for (size_t k = first; k < last; ++k) {
    const size_t pix = static_cast<size_t>(events.y()[k]) * w + events.x()[k];
    if (slot[pix] < 0) continue;
    LogState& s = st[static_cast<size_t>(slot[pix])];
    const double te = static_cast<double>(events.t_us()[k] - t0_us);
    if (!s.tau_done && te > rel_tau) {
      s.level_tau = s.level;
      s.tau_done = true;
    }
    add_piece(s, s.level, te - s.last_t);
    s.last_t = te;
    const bool on = events.p()[k] > 0;
    const double c = on ? (th.c_pos_map.empty() ? th.c_pos : double(th.c_pos_map[pix]))
                        : (th.c_neg_map.empty() ? th.c_neg : double(th.c_neg_map[pix]));
    s.level += on ? c : -c;
  }
  const double T = static_cast<double>(t1_us - t0_us);
  for (size_t k = 0; k < pixels.size(); ++k) {
    LogState& s = st[k];
    add_piece(s, s.level, T - s.last_t);
    if (!s.tau_done) s.level_tau = s.level;
    e[pixels[k]] = static_cast<float>(std::exp(s.log_integral - s.level_tau - std::log(T)));
  }
}

Image EventIntegrator::log_change(const EventStream& events, TimestampUs t_from_us,
                                  TimestampUs t_to_us) const {
  return std::move(log_changes(events, t_from_us, {t_to_us}).front());
}

std::vector<Image> EventIntegrator::log_changes(const EventStream& events, TimestampUs t_from_us,
                                                const std::vector<TimestampUs>& times_us) const {
  validate(events);
  // L(b) - L(a) sums the steps of events in (a, b] (right-continuous), negated for b < a. Two
  // sweeps outward from t_from, each accumulating into one running sum per pixel.
  const auto& t = events.t_us();
  const auto& th = options_.thresholds;
  const size_t w = static_cast<size_t>(events.width());
  const size_t npix = w * static_cast<size_t>(events.height());
  std::vector<size_t> order(times_us.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return times_us[a] < times_us[b]; });
  auto step = [&](size_t i) {
    const size_t idx = static_cast<size_t>(events.y()[i]) * w + events.x()[i];
    return std::pair<size_t, double>{
        idx, events.p()[i] > 0 ? (th.c_pos_map.empty() ? th.c_pos : double(th.c_pos_map[idx]))
                               : -(th.c_neg_map.empty() ? th.c_neg : double(th.c_neg_map[idx]))};
  };
  auto to_image = [&](const std::vector<double>& acc, double sign) {
    Image out(1, events.height(), events.width());
    for (size_t i = 0; i < npix; ++i) out.data()[i] = static_cast<float>(sign * acc[i]);
    return out;
  };
  std::vector<Image> out(times_us.size());
  const size_t origin =
      static_cast<size_t>(std::upper_bound(t.begin(), t.end(), t_from_us) - t.begin());
  std::vector<double> acc(npix, 0.0);
  size_t pos = origin;  // forward: events in (t_from, time]
  for (size_t k : order) {
    if (times_us[k] < t_from_us) continue;
    const size_t end =
        static_cast<size_t>(std::upper_bound(t.begin(), t.end(), times_us[k]) - t.begin());
    for (; pos < end; ++pos) {
      const auto [idx, c] = step(pos);
      acc[idx] += c;
    }
    out[k] = to_image(acc, 1.0);
  }
  std::fill(acc.begin(), acc.end(), 0.0);
  pos = origin;  // backward: events in (time, t_from], negated
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const size_t k = *it;
    if (times_us[k] >= t_from_us) continue;
    const size_t begin =
        static_cast<size_t>(std::upper_bound(t.begin(), t.end(), times_us[k]) - t.begin());
    for (; pos > begin; --pos) {
      const auto [idx, c] = step(pos - 1);
      acc[idx] += c;
    }
    out[k] = to_image(acc, -1.0);
  }
  return out;
}

}  // namespace v1
}  // namespace diffevent
