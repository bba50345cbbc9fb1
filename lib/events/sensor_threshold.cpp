// Edi::estimate_sensor_threshold: the sensor's contrast threshold from the blur the events explain.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/check.hpp"
#include "core/median.hpp"
#include "diffevent/events/edi.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

// An event prepared for warping: position, time in exposures from mid-exposure, weight.
struct WarpEvent {
  float x, y, s, w;
};

// A window of the image plane on a grid of `scale`-pixel cells.
struct Grid {
  double x0, y0, scale;
  int w, h;
};

// Sum of squares of the image of warped events: each event moved to mid-exposure along the
// velocity (vx, vy) (pixels per exposure) and voted bilinearly into the grid's cells.
double warped_contrast(const std::vector<WarpEvent>& events, double vx, double vy, const Grid& g,
                       std::vector<double>& image, std::vector<double>& row) {
  image.assign(static_cast<size_t>(g.w) * static_cast<size_t>(g.h), 0.0);
  const double inv = 1.0 / g.scale;
  for (const WarpEvent& e : events) {
    const double fx = (e.x - vx * e.s - g.x0) * inv, fy = (e.y - vy * e.s - g.y0) * inv;
    const double flx = std::floor(fx), fly = std::floor(fy);
    if (flx < 0 || fly < 0 || flx + 1 >= g.w || fly + 1 >= g.h) continue;
    const double ax = fx - flx, ay = fy - fly;
    double* r0 =
        &image[static_cast<size_t>(fly) * static_cast<size_t>(g.w) + static_cast<size_t>(flx)];
    double* r1 = r0 + g.w;
    r0[0] += e.w * (1 - ax) * (1 - ay);
    r0[1] += e.w * ax * (1 - ay);
    r1[0] += e.w * (1 - ax) * ay;
    r1[1] += e.w * ax * ay;
  }
  // A [1 2 1] / 4 blur along both axes before the sum of squares: bilinear votes alone score
  // whole-pixel displacements highest (an event on a grid point keeps its weight in one cell),
  // which pins sparse recordings to zero velocity.
  double sum = 0;
  const int W = g.w, H = g.h;
  row.assign(static_cast<size_t>(W), 0.0);
  for (int y = 0; y < H; ++y) {
    const double* r = &image[static_cast<size_t>(y) * W];
    for (int x = 1; x + 1 < W; ++x) row[x] = 0.25 * r[x - 1] + 0.5 * r[x] + 0.25 * r[x + 1];
    std::copy(row.begin(), row.end(), &image[static_cast<size_t>(y) * W]);
  }
  for (int y = 1; y + 1 < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const size_t i = static_cast<size_t>(y) * W + x;
      const double v = 0.25 * image[i - W] + 0.5 * image[i] + 0.25 * image[i + W];
      sum += v * v;
    }
  }
  return sum;
}

// A block's velocity (pixels per exposure) and how clearly its contrast peaks there.
struct Velocity {
  double vx = 0, vy = 0;
  /// The coarse stage's best contrast over its median over the searched velocities.
  double peak = 0;
};

// The velocity of largest warped contrast, coarse to fine: 4-pixel steps over the whole range
// on 4-pixel cells, then 1-pixel and quarter-pixel steps around the best on pixel cells.
Velocity block_velocity(const std::vector<WarpEvent>& events, double x0, double y0, int side,
                        double vmax) {
  std::vector<double> image, row;
  double bx = 0, by = 0, peak = 0;
  struct Stage {
    double scale, step, range;
  };
  const Stage stages[] = {{4.0, 4.0, vmax}, {1.0, 1.0, 4.0}, {1.0, 0.25, 1.0}};
  const double pad = vmax / 2 + 2;  // the largest displacement of an event, and a cell
  for (int k = 0; k < 3; ++k) {
    const Stage& st = stages[k];
    const Grid g{x0 - pad, y0 - pad, st.scale,
                 static_cast<int>(std::ceil((side + 2 * pad) / st.scale)) + 2,
                 static_cast<int>(std::ceil((side + 2 * pad) / st.scale)) + 2};
    const double cx = k == 0 ? 0.0 : bx, cy = k == 0 ? 0.0 : by;
    const int n = static_cast<int>(std::lround(st.range / st.step));
    double best = -1;
    std::vector<double> scores;
    for (int i = -n; i <= n; ++i) {
      for (int j = -n; j <= n; ++j) {
        const double vx = std::clamp(cx + i * st.step, -vmax, vmax);
        const double vy = std::clamp(cy + j * st.step, -vmax, vmax);
        const double f = warped_contrast(events, vx, vy, g, image, row);
        if (k == 0) scores.push_back(f);
        if (f > best) {
          best = f;
          bx = vx;
          by = vy;
        }
      }
    }
    if (k == 0) peak = best / std::max(detail::median(scores), 1e-300);
  }
  return {bx, by, peak};
}

// |g(c)| - |h| for one pixel, g(c) = (exp(c n(t0)) - exp(c n(t1))) / E(c) with the step model:
// n(t) the signed count from mid-exposure, E(c) the mean of exp(c n(t)) over the exposure.
// Evaluated relative to the largest exponent, so that no c overflows.
double misfit(double c, const std::vector<std::pair<float, int>>& ev, int n_start, double extra,
              double h_abs) {
  int level = n_start, top = n_start;
  for (const auto& e : ev) top = std::max(top, level += e.second);
  const double m = c * top;
  double E = 0, prev = -0.5;
  level = n_start;
  for (const auto& e : ev) {
    E += (e.first - prev) * std::exp(c * level - m);
    prev = e.first;
    level += e.second;
  }
  E += (0.5 - prev) * std::exp(c * level - m);
  const double g = (std::exp(c * n_start - m) - std::exp(c * (level + extra) - m)) / E;
  return std::abs(g) - h_abs;
}

}  // namespace

SensorThresholdEstimate Edi::estimate_sensor_threshold(const Image& blurry,
                                                       const EventStream& events,
                                                       const Exposure& exposure,
                                                       const SensorThresholdOptions& o) const {
  validate(blurry, events, exposure);
  DIFFEVENT_CHECK(o.block_px >= 8 && o.max_motion_px > 0 && o.max_motion_px <= 256 &&
                      o.min_peak >= 1 && std::isfinite(o.min_peak) && o.gradient_quantile >= 0 &&
                      o.gradient_quantile < 1 && o.c_min > 0 && o.c_max > o.c_min &&
                      o.c_max <= Thresholds::kMax,
                  ErrorCode::kInvalidArgument,
                  "sensor threshold: options out of range (block_px {} >= 8, max_motion_px {} in "
                  "(0, 256], min_peak {} >= 1, gradient_quantile {} in [0, 1), 0 < c_min {} < "
                  "c_max {} <= {})",
                  o.block_px, o.max_motion_px, o.min_peak, o.gradient_quantile, o.c_min, o.c_max,
                  Thresholds::kMax);
  const int H = events.height(), W = events.width();
  const size_t npix = static_cast<size_t>(H) * static_cast<size_t>(W);
  Image grey = blurry.to_grey();
  if (options_.linearize_srgb) srgb_to_linear(grey);

  // The exposure's events, grouped by pixel in time order (a stable counting sort).
  const auto [first, last] = events.index_range(exposure.t0_us, exposure.t1_us);
  const double T = static_cast<double>(exposure.duration_us());
  std::vector<size_t> count(npix + 1, 0);
  auto pixel_of = [&](size_t i) {
    return static_cast<size_t>(events.y()[i]) * static_cast<size_t>(W) + events.x()[i];
  };
  for (size_t i = first; i < last; ++i) ++count[pixel_of(i) + 1];
  std::vector<size_t> start(npix + 1, 0);
  for (size_t k = 0; k < npix; ++k) start[k + 1] = start[k] + count[k + 1];
  std::vector<std::pair<float, int>> by_pixel(last - first);
  {
    std::vector<size_t> fill(start.begin(), start.end() - 1);
    for (size_t i = first; i < last; ++i) {
      const double s = static_cast<double>(events.t_us()[i] - exposure.t0_us) / T - 0.5;
      by_pixel[fill[pixel_of(i)]++] = {static_cast<float>(s), events.p()[i] > 0 ? 1 : -1};
    }
  }

  // 1. A velocity per block from its events (and a margin around it), blocks in parallel.
  const int B = o.block_px;
  const int margin = std::min(16, B / 2);
  const int bw = (W + B - 1) / B, bh = (H + B - 1) / B;
  const size_t nblocks = static_cast<size_t>(bw) * static_cast<size_t>(bh);
  std::vector<double> vx(nblocks, 0.0), vy(nblocks, 0.0);
  std::vector<char> has_v(nblocks, 0);
  // Enough events for the contrast to peak clearly; beyond it every k-th event is used.
  constexpr size_t kMaxBlockEvents = 20000;
  auto run_block = [&](size_t bi, std::vector<WarpEvent>& local) {
    const int bx = static_cast<int>(bi % static_cast<size_t>(bw));
    const int by = static_cast<int>(bi / static_cast<size_t>(bw));
    const int x0 = std::max(0, bx * B - margin), x1 = std::min(W, (bx + 1) * B + margin);
    const int y0 = std::max(0, by * B - margin), y1 = std::min(H, (by + 1) * B + margin);
    size_t n = 0;
    for (int y = y0; y < y1; ++y)
      n += start[static_cast<size_t>(y) * W + x1] - start[static_cast<size_t>(y) * W + x0];
    const size_t stride = std::max<size_t>(1, (n + kMaxBlockEvents - 1) / kMaxBlockEvents);
    local.clear();
    int fired = 0;
    size_t k = 0;
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const size_t p = static_cast<size_t>(y) * W + x;
        const size_t a = start[p], b = start[p + 1];
        if (a == b) continue;
        const float w = 1.0f / static_cast<float>(b - a);
        for (size_t i = a; i < b; ++i, ++k) {
          if (k % stride != 0) continue;
          local.push_back({static_cast<float>(x), static_cast<float>(y), by_pixel[i].first,
                           w * static_cast<float>(by_pixel[i].second)});
        }
        ++fired;
      }
    }
    if (fired < 10) return;  // fewer than 10 pixels fired: no velocity
    const auto v = block_velocity(local, x0, y0, std::max(x1 - x0, y1 - y0), o.max_motion_px);
    if (v.peak < o.min_peak) return;  // no velocity stands out: noise, or no edge that moves
    vx[bi] = v.vx;
    vy[bi] = v.vy;
    has_v[bi] = 1;
  };
  {
    const size_t workers =
        std::clamp<size_t>(static_cast<size_t>(std::max(1, options_.num_threads)), 1, nblocks);
    std::atomic<size_t> next{0};
    std::mutex failed_mutex;
    std::exception_ptr failed;  // the first exception of any thread, rethrown here
    auto work = [&] {
      try {
        std::vector<WarpEvent> local;
        for (size_t bi; (bi = next.fetch_add(1)) < nblocks;) run_block(bi, local);
      } catch (...) {
        next = nblocks;
        const std::lock_guard<std::mutex> lock(failed_mutex);
        if (!failed) failed = std::current_exception();
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (failed) std::rethrow_exception(failed);
  }
  std::vector<double> motions;
  for (size_t bi = 0; bi < nblocks; ++bi)
    if (has_v[bi]) motions.push_back(std::hypot(vx[bi], vy[bi]));

  // 2. The predicted relative change h = v . grad y / y of every pixel with a velocity.
  std::vector<double> h(npix, 0.0);
  std::vector<size_t> candidates;
  std::vector<double> abs_h;
  for (int y = 1; y + 1 < H; ++y) {
    for (int x = 1; x + 1 < W; ++x) {
      const size_t bi = static_cast<size_t>(y / B) * bw + static_cast<size_t>(x / B);
      const double val = grey.at(0, y, x);
      if (!has_v[bi] || !(val > 1e-3)) continue;
      const double gx = 0.5 * (grey.at(0, y, x + 1) - grey.at(0, y, x - 1));
      const double gy = 0.5 * (grey.at(0, y + 1, x) - grey.at(0, y - 1, x));
      const size_t p = static_cast<size_t>(y) * W + x;
      h[p] = (vx[bi] * gx + vy[bi] * gy) / val;
      candidates.push_back(p);
      abs_h.push_back(std::abs(h[p]));
    }
  }
  double cut = 0;
  if (!abs_h.empty()) {
    const size_t q =
        std::min(abs_h.size() - 1,
                 static_cast<size_t>(o.gradient_quantile * static_cast<double>(abs_h.size())));
    std::nth_element(abs_h.begin(), abs_h.begin() + static_cast<std::ptrdiff_t>(q), abs_h.end());
    cut = std::max(abs_h[q], 1e-6);
  }

  // 3. Each chosen pixel's threshold, then their median.
  std::vector<double> values;
  // The same values by the sign of the pixel's change: ON events explain a brightening pixel
  // (the ON threshold), OFF events a darkening one.
  std::vector<double> brightening, darkening;
  std::vector<std::vector<double>> per_block(nblocks);
  std::vector<std::pair<float, int>> ev;
  const double lo = std::log(o.c_min), hi = std::log(o.c_max);
  for (const size_t p : candidates) {
    const double ha = std::abs(h[p]);
    if (ha < cut) continue;
    ev.assign(by_pixel.begin() + static_cast<std::ptrdiff_t>(start[p]),
              by_pixel.begin() + static_cast<std::ptrdiff_t>(start[p + 1]));
    int before = 0, net = 0;
    for (const auto& e : ev) {
      net += e.second;
      if (e.first < 0) before += e.second;
    }
    double c;
    // A pixel without net events says only that its threshold exceeds its change: no value.
    if (net == 0) continue;
    {
      // x(t0) - x(t1) has the sign of -net; events against the blur's gradient are noise.
      if ((h[p] > 0) != (net < 0)) continue;
      const int n_start = -before;
      // With references reset at the start, the change left below one threshold at the end
      // is half a threshold on average; with references at a random phase it averages out.
      const double extra = o.reference_at_start ? 0.5 * (net > 0 ? 1 : -1) : 0.0;
      if (misfit(o.c_max, ev, n_start, extra, ha) < 0) {
        c = o.c_max;
      } else if (misfit(o.c_min, ev, n_start, extra, ha) > 0) {
        c = o.c_min;
      } else {
        double a = lo, b = hi;
        for (int it = 0; it < 40 && b - a > 1e-4; ++it) {
          const double m = 0.5 * (a + b);
          (misfit(std::exp(m), ev, n_start, extra, ha) < 0 ? a : b) = m;
        }
        c = std::exp(0.5 * (a + b));
      }
    }
    values.push_back(c);
    (net > 0 ? brightening : darkening).push_back(c);
    const int y = static_cast<int>(p / static_cast<size_t>(W)), x = static_cast<int>(p % W);
    per_block[static_cast<size_t>(y / B) * bw + static_cast<size_t>(x / B)].push_back(c);
  }
  DIFFEVENT_CHECK(values.size() >= 50, ErrorCode::kInvalidArgument,
                  "sensor threshold: only {} pixels with a velocity and a moving edge (at least "
                  "50 needed; {} events in the exposure, {} of {} blocks with a clear velocity)",
                  values.size(), last - first, motions.size(), nblocks);
  SensorThresholdEstimate est;
  est.c = detail::median(values);
  constexpr size_t kMinPolarity = 25;
  if (brightening.size() >= kMinPolarity) est.c_pos = detail::median(brightening);
  if (darkening.size() >= kMinPolarity) est.c_neg = detail::median(darkening);
  est.pixels_pos = static_cast<int64_t>(brightening.size());
  est.pixels_neg = static_cast<int64_t>(darkening.size());
  est.pixels = static_cast<int64_t>(values.size());
  est.blocks = static_cast<int>(motions.size());
  est.motion_px = detail::median(motions);
  est.at_bound = est.c <= o.c_min * (1 + 1e-9) || est.c >= o.c_max * (1 - 1e-9);
  std::vector<double> medians;
  for (const auto& b : per_block)
    if (b.size() >= 10) medians.push_back(detail::median(b));
  if (medians.size() >= 3) {
    double m = 0, v = 0;
    for (const double x : medians) m += x;
    m /= static_cast<double>(medians.size());
    for (const double x : medians) v += (x - m) * (x - m);
    est.std_error = std::sqrt(v / static_cast<double>(medians.size() - 1) /
                              static_cast<double>(medians.size()));
  }
  return est;
}

}  // namespace v1
}  // namespace diffevent
