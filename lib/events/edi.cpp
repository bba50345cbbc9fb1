#include "diffevent/events/edi.hpp"

#include <algorithm>
#include <cmath>

#include "core/check.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (const double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// A rectangle of pixels [y0, y1) x [x0, x1).
struct Cell {
  int y0, y1, x0, x1;
};

// Mean isotropic total variation per pixel over a cell.
double mean_tv(const Image& x, const Cell& r) {
  const int H = x.height(), W = x.width();
  double s = 0;
  for (int y = r.y0; y < r.y1; ++y) {
    for (int xx = r.x0; xx < r.x1; ++xx) {
      const double v = x.at(0, y, xx);
      const double dx = xx + 1 < W ? x.at(0, y, xx + 1) - v : 0.0;
      const double dy = y + 1 < H ? x.at(0, y + 1, xx) - v : 0.0;
      s += std::sqrt(dx * dx + dy * dy);
    }
  }
  return s / std::max(1.0, static_cast<double>(r.y1 - r.y0) * (r.x1 - r.x0));
}

// Central-difference gradient magnitude of x (or of log(x + 1e-3)), then a 3x3 box blur.
std::vector<double> edge_map(const Image& x, bool log_domain) {
  const int H = x.height(), W = x.width();
  auto val = [&](int y, int xx) {
    const double v = x.at(0, y, xx);
    return log_domain ? std::log(std::max(v, 0.0) + 1e-3) : v;
  };
  std::vector<double> g(x.size(), 0.0);
  for (int y = 0; y < H; ++y) {
    for (int xx = 0; xx < W; ++xx) {
      const double dx = 0.5 * (val(y, std::min(xx + 1, W - 1)) - val(y, std::max(xx - 1, 0)));
      const double dy = 0.5 * (val(std::min(y + 1, H - 1), xx) - val(std::max(y - 1, 0), xx));
      g[static_cast<size_t>(y) * static_cast<size_t>(W) + static_cast<size_t>(xx)] =
          std::sqrt(dx * dx + dy * dy);
    }
  }
  return g;
}

std::vector<double> box3(const std::vector<double>& m, int H, int W) {
  std::vector<double> t(m.size()), o(m.size());
  auto at = [&](const std::vector<double>& v, int y, int x) {
    return v[static_cast<size_t>(std::min(std::max(y, 0), H - 1)) * static_cast<size_t>(W) +
             static_cast<size_t>(std::min(std::max(x, 0), W - 1))];
  };
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      t[static_cast<size_t>(y) * static_cast<size_t>(W) + static_cast<size_t>(x)] =
          at(m, y, x - 1) + at(m, y, x) + at(m, y, x + 1);
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x)
      o[static_cast<size_t>(y) * static_cast<size_t>(W) + static_cast<size_t>(x)] =
          at(t, y - 1, x) + at(t, y, x) + at(t, y + 1, x);
  return o;
}

// Pearson correlation of two maps of width W over a cell.
double pearson(const std::vector<double>& a, const std::vector<double>& b, int W, const Cell& r) {
  double ma = 0, mb = 0;
  const double n = std::max(1.0, static_cast<double>(r.y1 - r.y0) * (r.x1 - r.x0));
  auto at = [W](int y, int x) { return static_cast<size_t>(y) * static_cast<size_t>(W) + x; };
  for (int y = r.y0; y < r.y1; ++y)
    for (int x = r.x0; x < r.x1; ++x) {
      ma += a[at(y, x)];
      mb += b[at(y, x)];
    }
  ma /= n;
  mb /= n;
  double ab = 0, aa = 0, bb = 0;
  for (int y = r.y0; y < r.y1; ++y)
    for (int x = r.x0; x < r.x1; ++x) {
      const double da = a[at(y, x)] - ma, db = b[at(y, x)] - mb;
      ab += da * db;
      aa += da * da;
      bb += db * db;
    }
  if (aa <= 0 || bb <= 0) return 0;
  return ab / std::sqrt(aa * bb);
}

}  // namespace

Edi::Edi(EdiOptions options) : options_(std::move(options)) {
  DIFFEVENT_CHECK(options_.min_integral > 0 && std::isfinite(options_.min_integral),
                  ErrorCode::kInvalidArgument, "edi: min_integral = {} must be finite and > 0",
                  options_.min_integral);
  // Validates the thresholds once, here.
  EventIntegrator check(IntegratorOptions::with(options_.thresholds, options_.num_threads));
}

void Edi::validate(const Image& blurry, const EventStream& events, const Exposure& exposure) const {
  DIFFEVENT_CHECK(!blurry.empty(), ErrorCode::kInvalidArgument, "edi: the blurry image is empty");
  DIFFEVENT_CHECK(blurry.channels() == 1 || blurry.channels() == 3, ErrorCode::kInvalidArgument,
                  "edi: the blurry image has {} channels (expected 1 or 3)", blurry.channels());
  DIFFEVENT_CHECK(blurry.width() == events.width() && blurry.height() == events.height(),
                  ErrorCode::kInvalidArgument,
                  "edi: the blurry image is {}x{} but the events come from a {}x{} sensor",
                  blurry.width(), blurry.height(), events.width(), events.height());
  DIFFEVENT_CHECK(blurry.all_finite(), ErrorCode::kInvalidArgument,
                  "edi: the blurry image contains NaN or infinite values");
  DIFFEVENT_CHECK(exposure.valid(), ErrorCode::kInvalidArgument,
                  "edi: exposure [{}, {}] us must have t0 < t1 and last less than 2^63 us",
                  exposure.t0_us, exposure.t1_us);
}

Image Edi::linear_sharp(const Image& blurry, const EventStream& events, const Exposure& exposure,
                        TimestampUs tau) const {
  EventIntegrator integ(IntegratorOptions::with(options_.thresholds, options_.num_threads));
  const Image E = integ.double_integral(events, exposure.t0_us, exposure.t1_us, tau);
  Image out = blurry;
  if (options_.linearize_srgb) srgb_to_linear(out);
  const float guard = static_cast<float>(options_.min_integral);
  for (int c = 0; c < out.channels(); ++c) {
    float* o = out.plane(c);
    for (size_t i = 0; i < out.plane_size(); ++i) o[i] /= std::max(E.data()[i], guard);
  }
  return out;
}

Image Edi::deblur(const Image& blurry, const EventStream& events, const Exposure& exposure) const {
  validate(blurry, events, exposure);
  Image out = linear_sharp(blurry, events, exposure,
                           options_.tau_us ? *options_.tau_us : exposure.mid_us());
  if (options_.linearize_srgb) linear_to_srgb(out);
  return out;
}

std::vector<Image> Edi::frames(const Image& blurry, const EventStream& events,
                               const Exposure& exposure, int count,
                               std::vector<TimestampUs>* times_us) const {
  DIFFEVENT_CHECK(count >= 1 && count <= 100000, ErrorCode::kInvalidArgument,
                  "edi: frame count {} must be in [1, 100000]", count);
  validate(blurry, events, exposure);
  const TimestampUs tau = options_.tau_us ? *options_.tau_us : exposure.mid_us();
  const Image sharp = linear_sharp(blurry, events, exposure, tau);
  std::vector<TimestampUs> times;
  const double T = static_cast<double>(exposure.duration_us());
  for (int k = 0; k < count; ++k) {
    times.push_back(exposure.t0_us + static_cast<TimestampUs>(std::llround((k + 0.5) * T / count)));
  }
  const auto changes =
      EventIntegrator(IntegratorOptions::with(options_.thresholds)).log_changes(events, tau, times);
  std::vector<Image> out;
  for (const Image& dl : changes) {
    Image f = sharp;
    for (int c = 0; c < f.channels(); ++c) {
      float* o = f.plane(c);
      for (size_t i = 0; i < f.plane_size(); ++i) o[i] *= std::exp(dl.data()[i]);
    }
    if (options_.linearize_srgb) linear_to_srgb(f);
    out.push_back(std::move(f));
  }
  if (times_us) *times_us = std::move(times);
  return out;
}

std::vector<double> Edi::threshold_energies(const Image& blurry, const EventStream& events,
                                            const Exposure& exposure, double c,
                                            const ThresholdSearchOptions& search,
                                            std::vector<double>* per_block) const {
  validate(blurry, events, exposure);
  DIFFEVENT_CHECK(search.num_times >= 1, ErrorCode::kInvalidArgument,
                  "edi: num_times = {} must be >= 1", search.num_times);
  EdiOptions o = options_;
  o.thresholds = Thresholds::symmetric(c);
  Image grey = blurry.to_grey();
  if (options_.linearize_srgb) srgb_to_linear(grey);
  o.linearize_srgb = false;
  Edi edi(o);
  std::vector<TimestampUs> times;
  auto fr = edi.frames(grey, events, exposure, search.num_times, &times);
  // Events within T/(8K) of t_k mark where the edges are at t_k.
  const TimestampUs half =
      std::max<TimestampUs>(1, exposure.duration_us() / (8 * search.num_times));
  std::vector<double> energies;
  const int H = events.height(), W = events.width();
  const Cell whole{0, H, 0, W};
  constexpr int kGrid = 3;  // per_block: a 3 x 3 grid of cells
  if (per_block) per_block->assign(kGrid * kGrid, 0.0);
  for (size_t k = 0; k < fr.size(); ++k) {
    // A large c overflows where a pixel fired many events (exp(c N)): such values are bounded
    // (16 times the brightest unclipped intensity), so the energy stays finite and counts them
    // as the artefacts they are.
    for (float& v : fr[k].values()) v = std::isfinite(v) ? std::clamp(v, 0.0f, 16.0f) : 16.0f;
    std::vector<double> m(grey.size(), 0.0);
    const auto [a, b] = events.index_range(times[k] - half, times[k] + half);
    for (size_t i = a; i < b; ++i)
      m[static_cast<size_t>(events.y()[i]) * static_cast<size_t>(W) + events.x()[i]] += 1.0;
    m = box3(m, H, W);
    // See Note [Threshold energy] in docs/edi.md: linear-intensity edges favour small c,
    // log-intensity edges large c; their mean tracks the true threshold on simulated data.
    const std::vector<double> lin = box3(edge_map(fr[k], false), H, W);
    const std::vector<double> lg = box3(edge_map(fr[k], true), H, W);
    auto energy = [&](const Cell& r) {
      const double corr = 0.5 * (pearson(lin, m, W, r) + pearson(lg, m, W, r));
      return search.lambda_tv * mean_tv(fr[k], r) - corr;
    };
    energies.push_back(energy(whole));
    if (per_block)
      for (int i = 0; i < kGrid; ++i)
        for (int j = 0; j < kGrid; ++j)
          (*per_block)[static_cast<size_t>(i * kGrid + j)] +=
              energy(Cell{H * i / kGrid, H * (i + 1) / kGrid, W * j / kGrid, W * (j + 1) / kGrid}) /
              static_cast<double>(fr.size());
  }
  return energies;
}

double Edi::threshold_energy(const Image& blurry, const EventStream& events,
                             const Exposure& exposure, double c,
                             const ThresholdSearchOptions& search) const {
  return mean(threshold_energies(blurry, events, exposure, c, search));
}

ThresholdEstimate Edi::estimate_threshold(const Image& blurry, const EventStream& events,
                                          const Exposure& exposure,
                                          const ThresholdSearchOptions& search) const {
  DIFFEVENT_CHECK(search.c_min > 0 && search.c_max > search.c_min && search.tolerance > 0 &&
                      search.c_max <= Thresholds::kMax,
                  ErrorCode::kInvalidArgument,
                  "edi: threshold search interval [{}, {}] with tolerance {} is invalid (it must "
                  "lie in (0, {}] and the tolerance be > 0)",
                  search.c_min, search.c_max, search.tolerance, Thresholds::kMax);
  ThresholdEstimate est;
  // 1. A scan of log-spaced values: the energy need not be unimodal over the whole interval.
  // Neighbours are at most kScanRatio apart, so a wider interval gets more values, not a
  // coarser scan (12 over [0.05, 1], 17 over the default [0.05, 4]).
  constexpr double kScanRatio = 1.32;
  const double span = std::log(search.c_max / search.c_min);
  const int scan_count =
      std::clamp(1 + static_cast<int>(std::ceil(span / std::log(kScanRatio))), 12, 64);
  std::vector<double> cs(scan_count), f(scan_count);
  std::vector<std::vector<double>> per_block(scan_count);
  for (int g = 0; g < scan_count; ++g) {
    cs[g] = search.c_min * std::pow(search.c_max / search.c_min, g / double(scan_count - 1));
    f[g] = mean(threshold_energies(blurry, events, exposure, cs[g], search, &per_block[g]));
    ++est.evaluations;
  }
  const int best = static_cast<int>(std::min_element(f.begin(), f.end()) - f.begin());
  // 2. Golden-section search between the best value's neighbours.
  auto energy = [&](double c) {
    ++est.evaluations;
    return threshold_energy(blurry, events, exposure, c, search);
  };
  const double invphi = (std::sqrt(5.0) - 1) / 2;
  double a = cs[std::max(best - 1, 0)], b = cs[std::min(best + 1, scan_count - 1)];
  double c = b - invphi * (b - a), d = a + invphi * (b - a);
  double fc = energy(c), fd = energy(d);
  while (b - a > search.tolerance) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - invphi * (b - a);
      fc = energy(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + invphi * (b - a);
      fd = energy(d);
    }
  }
  est.c = fc < fd ? c : d;
  est.energy = std::min(fc, fd);
  if (f[best] < est.energy) {  // the scan's point beats the refinement (a flat or rough energy)
    est.c = cs[best];
    est.energy = f[best];
  }
  est.at_bound =
      est.c - search.c_min < 2 * search.tolerance || search.c_max - est.c < 2 * search.tolerance;
  // 3. The standard error: the spread of the minimisers of the energy on each cell of a 3 x 3
  // grid alone (the scan's best value, refined by a parabola through its neighbours in log c),
  // as of 9 independent estimates. Cells see different edges; times of one cell do not.
  const size_t B = per_block[0].size();
  std::vector<double> minimisers;
  for (size_t k = 0; k < B; ++k) {
    int gk = 0;
    for (int g = 1; g < scan_count; ++g)
      if (per_block[g][k] < per_block[gk][k]) gk = g;
    double lc = std::log(cs[gk]);
    if (gk > 0 && gk + 1 < scan_count) {
      const double y0 = per_block[gk - 1][k], y1 = per_block[gk][k], y2 = per_block[gk + 1][k];
      const double den = y0 - 2 * y1 + y2;
      const double step = std::log(cs[1] / cs[0]);
      if (den > 0) lc += 0.5 * step * (y0 - y2) / den;
    }
    minimisers.push_back(std::exp(lc));
  }
  const double m = mean(minimisers);
  double v = 0;
  for (const double x : minimisers) v += (x - m) * (x - m);
  est.std_error = std::sqrt(v / static_cast<double>(B - 1) / static_cast<double>(B));
  return est;
}

}  // namespace v1
}  // namespace diffevent
