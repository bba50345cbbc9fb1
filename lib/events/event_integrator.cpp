#include "diffevent/event_integrator.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <thread>

namespace diffevent {
inline namespace v1 {
namespace {

// Note [Exact double integral]
// Per pixel the integrand v(t) = exp(L(t) - L(start)) is piecewise constant between events.
// We keep v, the running integral acc of v over [start, t_last], and t_last. At an event:
//   acc += v * (t - t_last); t_last = t; v *= exp(+c_pos) or exp(-c_neg).
// The multipliers are precomputed, so there is no exp() per event. A chunk of events over
// [start, end] is summarised per pixel by (A, M) = (integral of v, v at end); two adjacent
// chunks combine as (A1 + M1 * A2, M1 * M2), which makes the computation parallel and exact.
struct PixelState {
  double v;
  double acc;
  TimestampUs t_last;
};

struct Chunk {
  size_t first, last;      // event index range
  TimestampUs t_start, t_end;
};

template <bool kPerPixel>
void integrate_chunk(const EventStream& ev, const Chunk& ch, const double* mult_pos_map,
                     const double* mult_neg_map, double mult_pos, double mult_neg,
                     std::vector<PixelState>& state) {
  const size_t npix = state.size();
  for (size_t i = 0; i < npix; ++i) state[i] = PixelState{1.0, 0.0, ch.t_start};
  const TimestampUs* t = ev.t_us().data();
  const uint16_t* xs = ev.x().data();
  const uint16_t* ys = ev.y().data();
  const int8_t* ps = ev.p().data();
  const size_t w = static_cast<size_t>(ev.width());
  PixelState* st = state.data();
  for (size_t i = ch.first; i < ch.last; ++i) {
    const size_t idx = static_cast<size_t>(ys[i]) * w + xs[i];
    PixelState& s = st[idx];
    double m;
    if constexpr (kPerPixel) {
      m = ps[i] > 0 ? mult_pos_map[idx] : mult_neg_map[idx];
    } else {
      m = ps[i] > 0 ? mult_pos : mult_neg;
    }
    s.acc += s.v * static_cast<double>(t[i] - s.t_last);
    s.t_last = t[i];
    s.v *= m;
  }
  for (size_t i = 0; i < npix; ++i) {
    PixelState& s = st[i];
    s.acc += s.v * static_cast<double>(ch.t_end - s.t_last);
  }
}

}  // namespace

EventIntegrator::EventIntegrator(IntegratorOptions options) : options_(std::move(options)) {
  const auto& th = options_.thresholds;
  DIFFEVENT_CHECK(std::isfinite(th.c_pos) && std::isfinite(th.c_neg) && th.c_pos > 0 &&
                      th.c_neg > 0,
                  ErrorCode::kInvalidArgument,
                  "thresholds: c_pos = {} and c_neg = {} must be finite and > 0", th.c_pos,
                  th.c_neg);
  DIFFEVENT_CHECK(options_.num_threads >= 1 && options_.num_threads <= 256,
                  ErrorCode::kInvalidArgument, "integrator: num_threads = {} must be in [1, 256]",
                  options_.num_threads);
  auto check_map = [](const std::vector<float>& m, const char* name) {
    for (size_t i = 0; i < m.size(); ++i) {
      DIFFEVENT_CHECK(std::isfinite(m[i]) && m[i] > 0, ErrorCode::kInvalidArgument,
                      "thresholds: {}[{}] = {} must be finite and > 0", name, i, m[i]);
    }
  };
  check_map(th.c_pos_map, "c_pos_map");
  check_map(th.c_neg_map, "c_neg_map");
}

void EventIntegrator::validate(const EventStream& events) const {
  const size_t npix = static_cast<size_t>(events.width()) * static_cast<size_t>(events.height());
  DIFFEVENT_CHECK(npix > 0, ErrorCode::kInvalidArgument,
                  "integrator: the event stream has no sensor size");
  const auto& th = options_.thresholds;
  DIFFEVENT_CHECK(th.c_pos_map.empty() || th.c_pos_map.size() == npix,
                  ErrorCode::kInvalidArgument,
                  "thresholds: c_pos_map has {} values but the {}x{} sensor has {} pixels",
                  th.c_pos_map.size(), events.width(), events.height(), npix);
  DIFFEVENT_CHECK(th.c_neg_map.empty() || th.c_neg_map.size() == npix,
                  ErrorCode::kInvalidArgument,
                  "thresholds: c_neg_map has {} values but the {}x{} sensor has {} pixels",
                  th.c_neg_map.size(), events.width(), events.height(), npix);
}

Image EventIntegrator::double_integral(const EventStream& events, TimestampUs t0_us,
                                       TimestampUs t1_us,
                                       std::optional<TimestampUs> tau_opt) const {
  validate(events);
  DIFFEVENT_CHECK(t0_us < t1_us, ErrorCode::kInvalidArgument,
                  "integrator: exposure [{}, {}] us must have t0 < t1", t0_us, t1_us);
  const TimestampUs tau = tau_opt ? *tau_opt : t0_us + (t1_us - t0_us) / 2;
  DIFFEVENT_CHECK(tau >= t0_us && tau <= t1_us, ErrorCode::kOutOfRange,
                  "integrator: reference time tau = {} us lies outside the exposure [{}, {}] us",
                  tau, t0_us, t1_us);
  const int W = events.width(), H = events.height();
  const size_t npix = static_cast<size_t>(W) * static_cast<size_t>(H);
  const auto& th = options_.thresholds;
  const bool per_pixel = !th.c_pos_map.empty() || !th.c_neg_map.empty();
  std::vector<double> mpos, mneg;
  if (per_pixel) {
    mpos.resize(npix);
    mneg.resize(npix);
    for (size_t i = 0; i < npix; ++i) {
      mpos[i] = std::exp(th.c_pos_map.empty() ? th.c_pos : double(th.c_pos_map[i]));
      mneg[i] = std::exp(-(th.c_neg_map.empty() ? th.c_neg : double(th.c_neg_map[i])));
    }
  }
  const double mult_pos = std::exp(th.c_pos), mult_neg = std::exp(-th.c_neg);

  // Events in [t0, t1); those at t <= tau act before tau (they step at t_e, right-continuous).
  const auto [first, last] = events.index_range(t0_us, t1_us);
  const auto& t = events.t_us();
  const size_t k_tau = static_cast<size_t>(
      std::upper_bound(t.begin() + static_cast<std::ptrdiff_t>(first),
                       t.begin() + static_cast<std::ptrdiff_t>(last), tau) -
      t.begin());

  // Chunk boundaries: exposure start, tau, equal-count splits, exposure end.
  struct Cut {
    size_t index;
    TimestampUs time;
  };
  std::vector<Cut> cuts{{first, t0_us}, {k_tau, tau}};
  const size_t n = last - first;
  const int nthreads = static_cast<int>(std::min<size_t>(
      static_cast<size_t>(options_.num_threads), std::max<size_t>(1, n / 65536)));
  for (int j = 1; j < nthreads; ++j) {
    const size_t idx = first + n * static_cast<size_t>(j) / static_cast<size_t>(nthreads);
    if (idx != k_tau && idx > first && idx < last) cuts.push_back({idx, t[idx]});
  }
  std::sort(cuts.begin(), cuts.end(), [](const Cut& a, const Cut& b) { return a.index < b.index; });
  cuts.push_back({last, t1_us});
  std::vector<Chunk> chunks;
  size_t tau_chunk = 0;
  for (size_t j = 0; j + 1 < cuts.size(); ++j) {
    if (cuts[j].index == k_tau && cuts[j].time == tau) tau_chunk = chunks.size();
    chunks.push_back({cuts[j].index, cuts[j + 1].index, cuts[j].time, cuts[j + 1].time});
  }

  std::vector<std::vector<PixelState>> states(chunks.size());
  auto run = [&](size_t j) {
    states[j].resize(npix);
    if (per_pixel) {
      integrate_chunk<true>(events, chunks[j], mpos.data(), mneg.data(), 0, 0, states[j]);
    } else {
      integrate_chunk<false>(events, chunks[j], nullptr, nullptr, mult_pos, mult_neg, states[j]);
    }
  };
  if (chunks.size() == 1 || nthreads == 1) {
    for (size_t j = 0; j < chunks.size(); ++j) run(j);
  } else {
    // Workers may only fail by running out of memory; carry that back to the caller.
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
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
  }

  // Combine: integral relative to t0 is sum_j P_j A_j with P_j the product of earlier M's;
  // dividing by P_tau makes it relative to the level at tau.
  Image out(1, H, W);
  float* e = out.data();
  const double inv_T = 1.0 / static_cast<double>(t1_us - t0_us);
  for (size_t i = 0; i < npix; ++i) {
    double P = 1.0, integral = 0.0, P_tau = 1.0;
    for (size_t j = 0; j < chunks.size(); ++j) {
      if (j == tau_chunk) P_tau = P;
      integral += P * states[j][i].acc;
      P *= states[j][i].v;
    }
    e[i] = static_cast<float>(integral / P_tau * inv_T);
  }
  return out;
}

Image EventIntegrator::log_change(const EventStream& events, TimestampUs t_from_us,
                                  TimestampUs t_to_us) const {
  validate(events);
  const bool reversed = t_to_us < t_from_us;
  const TimestampUs a = reversed ? t_to_us : t_from_us;
  const TimestampUs b = reversed ? t_from_us : t_to_us;
  // Events in (a, b] change L between a and b (right-continuous steps).
  const auto& t = events.t_us();
  const size_t first = static_cast<size_t>(std::upper_bound(t.begin(), t.end(), a) - t.begin());
  const size_t last = static_cast<size_t>(std::upper_bound(t.begin(), t.end(), b) - t.begin());
  const auto& th = options_.thresholds;
  Image out(1, events.height(), events.width());
  float* o = out.data();
  const size_t w = static_cast<size_t>(events.width());
  std::vector<double> acc(out.size(), 0.0);
  for (size_t i = first; i < last; ++i) {
    const size_t idx = static_cast<size_t>(events.y()[i]) * w + events.x()[i];
    if (events.p()[i] > 0) {
      acc[idx] += th.c_pos_map.empty() ? th.c_pos : double(th.c_pos_map[idx]);
    } else {
      acc[idx] -= th.c_neg_map.empty() ? th.c_neg : double(th.c_neg_map[idx]);
    }
  }
  const double sign = reversed ? -1.0 : 1.0;
  for (size_t i = 0; i < acc.size(); ++i) o[i] = static_cast<float>(sign * acc[i]);
  return out;
}

}  // namespace v1
}  // namespace diffevent
