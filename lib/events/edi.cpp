#include "diffevent/edi.hpp"

#include <algorithm>
#include <cmath>

namespace diffevent {
inline namespace v1 {
namespace {

double mean_tv(const Image& x) {
  const int H = x.height(), W = x.width();
  double s = 0;
  for (int y = 0; y < H; ++y) {
    for (int xx = 0; xx < W; ++xx) {
      const double v = x.at(0, y, xx);
      const double dx = xx + 1 < W ? x.at(0, y, xx + 1) - v : 0.0;
      const double dy = y + 1 < H ? x.at(0, y + 1, xx) - v : 0.0;
      s += std::sqrt(dx * dx + dy * dy);
    }
  }
  return s / static_cast<double>(x.size());
}

Image grad_magnitude(const Image& x) {
  const int H = x.height(), W = x.width();
  Image g(1, H, W);
  for (int y = 0; y < H; ++y) {
    for (int xx = 0; xx < W; ++xx) {
      // Central differences so edges line up with event locations without a half-pixel shift.
      const double dx = 0.5 * (x.at(0, y, std::min(xx + 1, W - 1)) - x.at(0, y, std::max(xx - 1, 0)));
      const double dy = 0.5 * (x.at(0, std::min(y + 1, H - 1), xx) - x.at(0, std::max(y - 1, 0), xx));
      g.at(0, y, xx) = static_cast<float>(std::sqrt(dx * dx + dy * dy));
    }
  }
  return g;
}

double cosine(const Image& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += a.data()[i] * b[i];
    aa += double(a.data()[i]) * a.data()[i];
    bb += b[i] * b[i];
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
  DIFFEVENT_CHECK(exposure.t0_us < exposure.t1_us, ErrorCode::kInvalidArgument,
                  "edi: exposure [{}, {}] us must have t0 < t1", exposure.t0_us, exposure.t1_us);
}

Image Edi::deblur(const Image& blurry, const EventStream& events, const Exposure& exposure) const {
  validate(blurry, events, exposure);
  EventIntegrator integ(IntegratorOptions::with(options_.thresholds, options_.num_threads));
  const Image E = integ.double_integral(events, exposure.t0_us, exposure.t1_us, options_.tau_us);
  Image out = blurry;
  if (options_.linearize_srgb) srgb_to_linear(out);
  const float guard = static_cast<float>(options_.min_integral);
  for (int c = 0; c < out.channels(); ++c) {
    float* o = out.plane(c);
    for (size_t i = 0; i < out.plane_size(); ++i) o[i] /= std::max(E.data()[i], guard);
  }
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
  EventIntegrator integ(IntegratorOptions::with(options_.thresholds, options_.num_threads));
  Image sharp = blurry;
  {
    const Image E = integ.double_integral(events, exposure.t0_us, exposure.t1_us, tau);
    if (options_.linearize_srgb) srgb_to_linear(sharp);
    const float guard = static_cast<float>(options_.min_integral);
    for (int c = 0; c < sharp.channels(); ++c) {
      float* o = sharp.plane(c);
      for (size_t i = 0; i < sharp.plane_size(); ++i) o[i] /= std::max(E.data()[i], guard);
    }
  }
  std::vector<Image> out;
  if (times_us) times_us->clear();
  const double T = static_cast<double>(exposure.duration_us());
  for (int k = 0; k < count; ++k) {
    const auto t = exposure.t0_us + static_cast<TimestampUs>(std::llround((k + 0.5) * T / count));
    const Image dl = integ.log_change(events, tau, t);
    Image f = sharp;
    for (int c = 0; c < f.channels(); ++c) {
      float* o = f.plane(c);
      for (size_t i = 0; i < f.plane_size(); ++i) o[i] *= std::exp(dl.data()[i]);
    }
    if (options_.linearize_srgb) linear_to_srgb(f);
    out.push_back(std::move(f));
    if (times_us) times_us->push_back(t);
  }
  return out;
}

double Edi::threshold_energy(const Image& blurry, const EventStream& events,
                             const Exposure& exposure, double c,
                             const ThresholdSearchOptions& search) const {
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
  const auto fr = edi.frames(grey, events, exposure, search.num_times, &times);
  const TimestampUs half = std::max<TimestampUs>(1, exposure.duration_us() / (2 * search.num_times));
  double energy = 0;
  const size_t w = static_cast<size_t>(events.width());
  for (size_t k = 0; k < fr.size(); ++k) {
    std::vector<double> m(grey.size(), 0.0);
    const auto [a, b] = events.index_range(times[k] - half, times[k] + half);
    for (size_t i = a; i < b; ++i) m[static_cast<size_t>(events.y()[i]) * w + events.x()[i]] += 1.0;
    energy += search.lambda_tv * mean_tv(fr[k]) - cosine(grad_magnitude(fr[k]), m);
  }
  return energy / static_cast<double>(fr.size());
}

ThresholdEstimate Edi::estimate_threshold(const Image& blurry, const EventStream& events,
                                          const Exposure& exposure,
                                          const ThresholdSearchOptions& search) const {
  DIFFEVENT_CHECK(search.c_min > 0 && search.c_max > search.c_min && search.tolerance > 0,
                  ErrorCode::kInvalidArgument,
                  "edi: threshold search interval [{}, {}] with tolerance {} is invalid",
                  search.c_min, search.c_max, search.tolerance);
  ThresholdEstimate est;
  auto f = [&](double c) {
    ++est.evaluations;
    return threshold_energy(blurry, events, exposure, c, search);
  };
  // Golden-section search; assumes the energy is unimodal on the interval (as EDI does).
  const double invphi = (std::sqrt(5.0) - 1) / 2;
  double a = search.c_min, b = search.c_max;
  double c = b - invphi * (b - a), d = a + invphi * (b - a);
  double fc = f(c), fd = f(d);
  while (b - a > search.tolerance) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - invphi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + invphi * (b - a);
      fd = f(d);
    }
  }
  est.c = fc < fd ? c : d;
  est.energy = std::min(fc, fd);
  return est;
}

}  // namespace v1
}  // namespace diffevent
