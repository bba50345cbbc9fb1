#include "diffevent/events/event_simulator.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

#include "core/check.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

float bilinear_clamped(const float* plane, int H, int W, double sx, double sy) {
  sx = std::min(std::max(sx, 0.0), double(W - 1));
  sy = std::min(std::max(sy, 0.0), double(H - 1));
  const int x0 = std::min(static_cast<int>(sx), W - 1), y0 = std::min(static_cast<int>(sy), H - 1);
  const int x1 = std::min(x0 + 1, W - 1), y1 = std::min(y0 + 1, H - 1);
  const double fx = sx - x0, fy = sy - y0;
  auto at = [&](int y, int x) {
    return double(plane[static_cast<size_t>(y) * static_cast<size_t>(W) + static_cast<size_t>(x)]);
  };
  return static_cast<float>((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                            fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1)));
}

struct RawEvent {
  TimestampUs t;
  uint32_t pixel;
  int8_t p;
  uint64_t seq;
};

// The shared ESIM core: `render(k, out)` fills sample k (linear intensity, C channels) at
// times[k]. Produces events, the per-pixel thresholds and, for each exposure window (whose
// ends are sample times), the blurry frame (trapezoidal mean over the window's samples).
void run_esim(const SimulatorOptions& o, int C, int H, int W, const std::vector<double>& times,
              const std::vector<std::pair<double, double>>& windows,
              const std::function<void(size_t, Image&)>& render, SimulationResult& res,
              std::vector<Image>& blurs) {
  const size_t npix = static_cast<size_t>(H) * static_cast<size_t>(W);
  std::mt19937_64 rng(o.seed);
  std::vector<double> cp(npix, o.c_pos), cn(npix, o.c_neg);
  if (o.threshold_sigma > 0) {
    std::normal_distribution<double> nd(0.0, o.threshold_sigma);
    for (size_t i = 0; i < npix; ++i) {
      cp[i] = std::max(0.01, o.c_pos + nd(rng));
      cn[i] = std::max(0.01, o.c_neg + nd(rng));
    }
    res.thresholds.c_pos_map.assign(cp.begin(), cp.end());
    res.thresholds.c_neg_map.assign(cn.begin(), cn.end());
  }
  res.thresholds.c_pos = o.c_pos;
  res.thresholds.c_neg = o.c_neg;

  Image cur(C, H, W);
  blurs.assign(windows.size(), Image(C, H, W));
  std::vector<double> Lprev(npix), ref(npix);
  std::vector<TimestampUs> last_t(npix, std::numeric_limits<TimestampUs>::min() / 2);
  std::vector<RawEvent> raw;
  uint64_t seq = 0;
  auto luminance = [&](size_t i) {
    return C == 3 ? 0.299 * cur.plane(0)[i] + 0.587 * cur.plane(1)[i] + 0.114 * cur.plane(2)[i]
                  : double(cur.plane(0)[i]);
  };
  const double T = times.back() - times.front();
  std::vector<double> prev_vals(cur.size());
  for (size_t k = 0; k < times.size(); ++k) {
    render(k, cur);
    // Trapezoidal mean of linear intensity over each exposure holding this interval.
    for (size_t w = 0; k > 0 && w < windows.size(); ++w) {
      if (times[k - 1] < windows[w].first || times[k] > windows[w].second) continue;
      const double w_prev =
          (times[k] - times[k - 1]) / (2 * (windows[w].second - windows[w].first));
      float* blur = blurs[w].data();
      for (size_t i = 0; i < cur.size(); ++i) {
        blur[i] += static_cast<float>(w_prev * (prev_vals[i] + cur.data()[i]));
      }
    }
    std::copy(cur.data(), cur.data() + cur.size(), prev_vals.begin());
    if (k == 0) {
      for (size_t i = 0; i < npix; ++i) ref[i] = Lprev[i] = std::log(luminance(i) + o.log_eps);
      continue;
    }
    const double t_a = times[k - 1], dt = times[k] - times[k - 1];
    for (size_t i = 0; i < npix; ++i) {
      const double L = std::log(luminance(i) + o.log_eps);
      if (o.leak_hz > 0) ref[i] -= o.leak_hz * cp[i] * dt * 1e-6;
      const double L0 = Lprev[i];
      auto emit = [&](double level, int8_t p) {
        // Linear interpolation of L in time between the two samples (ESIM).
        const double frac = (L != L0) ? (level - L0) / (L - L0) : 1.0;
        const double tf = t_a + std::min(std::max(frac, 0.0), 1.0) * dt;
        const auto t = static_cast<TimestampUs>(std::llround(tf));
        if (t - last_t[i] >= o.refractory_us || o.refractory_us <= 0) {
          raw.push_back({t, static_cast<uint32_t>(i), p, seq++});
          last_t[i] = t;
        }
      };
      // The crossings this sample adds are known before they are emitted (an upper bound: the
      // refractory period may drop some), so max_events holds for every emit below.
      const double crossings = std::max(L - ref[i], ref[i] - L) / std::min(cp[i], cn[i]);
      DIFFEVENT_CHECK(
          crossings + static_cast<double>(raw.size()) <= static_cast<double>(o.max_events),
          ErrorCode::kOutOfRange,
          "simulator: more than max_events = {} events (thresholds {} / {} are small for this "
          "scene); "
          "raise the thresholds or SimulatorOptions::max_events",
          o.max_events, o.c_pos, o.c_neg);
      while (L - ref[i] >= cp[i]) {
        ref[i] += cp[i];
        emit(ref[i], 1);
      }
      while (ref[i] - L >= cn[i]) {
        ref[i] -= cn[i];
        emit(ref[i], -1);
      }
      Lprev[i] = L;
    }
  }
  if (o.shot_noise_hz > 0) {
    // The expected count is known before drawing: refuse a rate whose events would not fit.
    const double expected =
        o.shot_noise_hz * T * 1e-6 * static_cast<double>(npix) + static_cast<double>(raw.size());
    DIFFEVENT_CHECK(expected <= static_cast<double>(o.max_events), ErrorCode::kOutOfRange,
                    "simulator: shot noise of {} Hz per pixel over {} us on {} pixels is about "
                    "{:.3g} events, more "
                    "than max_events = {}",
                    o.shot_noise_hz, T, npix, expected, o.max_events);
    std::poisson_distribution<int> pd(o.shot_noise_hz * T * 1e-6);
    std::uniform_real_distribution<double> ut(times.front(), times.back());
    std::bernoulli_distribution coin(0.5);
    for (size_t i = 0; i < npix; ++i) {
      const int n = pd(rng);
      for (int j = 0; j < n; ++j) {
        raw.push_back({static_cast<TimestampUs>(std::llround(ut(rng))), static_cast<uint32_t>(i),
                       static_cast<int8_t>(coin(rng) ? 1 : -1), seq++});
      }
    }
  }
  std::sort(raw.begin(), raw.end(), [](const RawEvent& a, const RawEvent& b) {
    return a.t != b.t ? a.t < b.t : a.seq < b.seq;
  });
  std::vector<TimestampUs> ts(raw.size());
  std::vector<uint16_t> xs(raw.size()), ys(raw.size());
  std::vector<int8_t> ps(raw.size());
  for (size_t j = 0; j < raw.size(); ++j) {
    ts[j] = raw[j].t;
    xs[j] = static_cast<uint16_t>(raw[j].pixel % static_cast<uint32_t>(W));
    ys[j] = static_cast<uint16_t>(raw[j].pixel / static_cast<uint32_t>(W));
    ps[j] = raw[j].p;
  }
  IngestOptions io;
  io.polarity = PolarityEncoding::kMinusPlusOne;
  res.events = EventStream::from_arrays(W, H, std::move(ts), std::move(xs), std::move(ys),
                                        std::move(ps), io);
  res.samples = static_cast<int>(times.size());
}

}  // namespace

Image resize(const Image& image, int height, int width) {
  DIFFEVENT_CHECK(!image.empty() && height >= 1 && width >= 1, ErrorCode::kInvalidArgument,
                  "resize: cannot resize a {}x{} image to {}x{}", image.width(), image.height(),
                  width, height);
  Image out(image.channels(), height, width);
  const double sy = double(image.height()) / height, sx = double(image.width()) / width;
  for (int c = 0; c < image.channels(); ++c) {
    const float* src = image.plane(c);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        if (sx > 1 || sy > 1) {
          // Area average over the source footprint of the output pixel.
          const double y0 = y * sy, y1 = (y + 1) * sy, x0 = x * sx, x1 = (x + 1) * sx;
          double acc = 0, wsum = 0;
          for (int yy = static_cast<int>(y0);
               yy < std::min(image.height(), static_cast<int>(std::ceil(y1))); ++yy) {
            const double wy = std::min(y1, yy + 1.0) - std::max(y0, double(yy));
            for (int xx = static_cast<int>(x0);
                 xx < std::min(image.width(), static_cast<int>(std::ceil(x1))); ++xx) {
              const double wx = std::min(x1, xx + 1.0) - std::max(x0, double(xx));
              acc += wy * wx *
                     src[static_cast<size_t>(yy) * static_cast<size_t>(image.width()) +
                         static_cast<size_t>(xx)];
              wsum += wy * wx;
            }
          }
          out.at(c, y, x) = static_cast<float>(acc / wsum);
        } else {
          out.at(c, y, x) = bilinear_clamped(src, image.height(), image.width(),
                                             (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5);
        }
      }
    }
  }
  return out;
}

Image crop(const Image& image, int top, int left, int height, int width) {
  DIFFEVENT_CHECK(top >= 0 && left >= 0 && height >= 1 && width >= 1 &&
                      top + height <= image.height() && left + width <= image.width(),
                  ErrorCode::kOutOfRange,
                  "crop: window {}x{} at ({}, {}) does not fit a {}x{} image", width, height, left,
                  top, image.width(), image.height());
  Image out(image.channels(), height, width);
  for (int c = 0; c < image.channels(); ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) out.at(c, y, x) = image.at(c, top + y, left + x);
  return out;
}

EventSimulator::EventSimulator(SimulatorOptions options) : options_(options) {
  const auto& o = options_;
  DIFFEVENT_CHECK(o.exposure_us > 0, ErrorCode::kInvalidArgument,
                  "simulator: exposure_us = {} must be > 0", o.exposure_us);
  DIFFEVENT_CHECK(o.c_pos > 0 && o.c_neg > 0 && std::isfinite(o.c_pos) && std::isfinite(o.c_neg),
                  ErrorCode::kInvalidArgument, "simulator: thresholds ({}, {}) must be > 0",
                  o.c_pos, o.c_neg);
  DIFFEVENT_CHECK(o.threshold_sigma >= 0 && o.shot_noise_hz >= 0 && o.leak_hz >= 0 &&
                      o.refractory_us >= 0 && std::isfinite(o.threshold_sigma) &&
                      std::isfinite(o.shot_noise_hz) && std::isfinite(o.leak_hz),
                  ErrorCode::kInvalidArgument,
                  "simulator: threshold_sigma ({}), shot_noise_hz ({}), leak_hz ({}) and "
                  "refractory_us ({}) must be "
                  "finite and >= 0",
                  o.threshold_sigma, o.shot_noise_hz, o.leak_hz, o.refractory_us);
  DIFFEVENT_CHECK(o.max_events >= 1 && o.max_samples >= 2, ErrorCode::kInvalidArgument,
                  "simulator: max_events ({}) must be >= 1 and max_samples ({}) >= 2", o.max_events,
                  o.max_samples);
  DIFFEVENT_CHECK(o.log_eps > 0, ErrorCode::kInvalidArgument, "simulator: log_eps = {} must be > 0",
                  o.log_eps);
  DIFFEVENT_CHECK(o.max_step_px > 0 && o.min_samples >= 2 && o.frame_upsample >= 1,
                  ErrorCode::kInvalidArgument,
                  "simulator: max_step_px must be > 0, min_samples >= 2 and frame_upsample >= 1");
  DIFFEVENT_CHECK(o.width >= 0 && o.height >= 0 && o.width <= 65535 && o.height <= 65535,
                  ErrorCode::kInvalidArgument, "simulator: size {}x{} is invalid", o.width,
                  o.height);
}

namespace {

void check_motion_input(const Image& source, const CameraMotion& m) {
  DIFFEVENT_CHECK(!source.empty() && (source.channels() == 1 || source.channels() == 3),
                  ErrorCode::kInvalidArgument, "simulator: the source image must be grey or RGB");
  DIFFEVENT_CHECK(source.all_finite(), ErrorCode::kInvalidArgument,
                  "simulator: the source image contains NaN or infinite values");
  DIFFEVENT_CHECK(m.zoom > 0 && std::isfinite(m.dx_px) && std::isfinite(m.dy_px) &&
                      std::isfinite(m.rotation_rad),
                  ErrorCode::kInvalidArgument,
                  "simulator: camera motion must be finite with zoom > 0");
}

// The camera over a still image: the view `u` exposures after the reference pose (u = 0 is
// the source itself; the pose moves by the motion's path per exposure).
class MotionWarp {
 public:
  MotionWarp(const Image& source, const CameraMotion& m, int W, int H)
      : src_(source), m_(m), W_(W), H_(H) {}
  // Image motion (px) over one exposure, at the far corner.
  double path_px() const {
    const double rmax = std::hypot(W_ / 2.0, H_ / 2.0);
    return std::hypot(m_.dx_px, m_.dy_px) + std::abs(m_.rotation_rad) * rmax +
           std::abs(std::log(m_.zoom)) * rmax;
  }
  void render(double u, Image& out) const {
    const double cxo = (W_ - 1) / 2.0, cyo = (H_ - 1) / 2.0;
    const double cxs = (src_.width() - 1) / 2.0, cys = (src_.height() - 1) / 2.0;
    const double a = u * m_.rotation_rad, z = std::pow(m_.zoom, u);
    const double ca = std::cos(a) / z, sa = std::sin(a) / z;
    const double tx = u * m_.dx_px, ty = u * m_.dy_px;
    for (int y = 0; y < H_; ++y) {
      for (int x = 0; x < W_; ++x) {
        // Inverse warp: where in the source does output pixel (x, y) look at time u?
        const double du = x - cxo - tx, dv = y - cyo - ty;
        const double sx = cxs + ca * du + sa * dv, sy = cys - sa * du + ca * dv;
        for (int c = 0; c < src_.channels(); ++c)
          out.at(c, y, x) = bilinear_clamped(src_.plane(c), src_.height(), src_.width(), sx, sy);
      }
    }
  }

 private:
  const Image& src_;
  CameraMotion m_;
  int W_, H_;
};

}  // namespace

SimulationResult EventSimulator::simulate_motion(const Image& source, const CameraMotion& m) const {
  const auto& o = options_;
  check_motion_input(source, m);
  const int W = o.width ? o.width : source.width();
  const int H = o.height ? o.height : source.height();
  const int C = source.channels();
  const MotionWarp warp(source, m, W, H);
  const double path = warp.path_px();
  const double needed = std::max<double>(o.min_samples, std::ceil(path / o.max_step_px));
  DIFFEVENT_CHECK(needed <= static_cast<double>(o.max_samples), ErrorCode::kOutOfRange,
                  "simulator: a motion of {:.3g} px at max_step_px = {} needs {:.3g} rendered "
                  "samples, more than "
                  "max_samples = {}",
                  path, o.max_step_px, needed, o.max_samples);
  const int n = static_cast<int>(needed);
  std::vector<double> times(static_cast<size_t>(n) + 1);
  for (int k = 0; k <= n; ++k) times[static_cast<size_t>(k)] = double(o.exposure_us) * k / n;
  SimulationResult res;
  std::vector<Image> blurs;
  run_esim(
      o, C, H, W, times, {{times.front(), times.back()}},
      [&](size_t k, Image& out) { warp.render(double(k) / n - 0.5, out); }, res, blurs);
  res.blurry = std::move(blurs.front());
  res.sharp = Image(C, H, W);
  warp.render(0.0, res.sharp);
  res.exposure = {0, o.exposure_us};
  return res;
}

VideoSimulation EventSimulator::simulate_video(const Image& source, const CameraMotion& m,
                                               const VideoOptions& v) const {
  const auto& o = options_;
  check_motion_input(source, m);
  DIFFEVENT_CHECK(v.frames >= 1 && v.frames <= 100000, ErrorCode::kInvalidArgument,
                  "simulator: a video of {} frames (1 to 100000)", v.frames);
  DIFFEVENT_CHECK(v.frame_interval_us >= o.exposure_us && v.frame_interval_us <= (int64_t{1} << 40),
                  ErrorCode::kInvalidArgument,
                  "simulator: frame_interval_us = {} must be at least the exposure ({} us) and "
                  "below 2^40",
                  v.frame_interval_us, o.exposure_us);
  const int W = o.width ? o.width : source.width();
  const int H = o.height ? o.height : source.height();
  const int C = source.channels();
  const MotionWarp warp(source, m, W, H);
  const double T = double(o.exposure_us);
  const double total = double(v.frames - 1) * double(v.frame_interval_us) + T;
  const double centre = total / 2;
  // Sample times: every exposure's ends, and between them as densely as within an exposure.
  std::vector<double> bounds;
  for (int k = 0; k < v.frames; ++k) {
    bounds.push_back(double(k) * double(v.frame_interval_us));
    bounds.push_back(double(k) * double(v.frame_interval_us) + T);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  const double per_exposure =
      std::max<double>(o.min_samples, std::ceil(warp.path_px() / o.max_step_px));
  const double needed = per_exposure * total / T + 1;
  DIFFEVENT_CHECK(needed <= static_cast<double>(o.max_samples), ErrorCode::kOutOfRange,
                  "simulator: {} frames need about {:.3g} rendered samples, more than "
                  "max_samples = {}",
                  v.frames, needed, o.max_samples);
  std::vector<double> times{bounds.front()};
  for (size_t j = 0; j + 1 < bounds.size(); ++j) {
    const double len = bounds[j + 1] - bounds[j];
    const int n = std::max(2, static_cast<int>(std::ceil(per_exposure * len / T)));
    for (int i = 1; i <= n; ++i) times.push_back(i == n ? bounds[j + 1] : bounds[j] + len * i / n);
  }
  std::vector<std::pair<double, double>> windows;
  VideoSimulation out;
  for (int k = 0; k < v.frames; ++k) {
    const TimestampUs t0 = int64_t{k} * v.frame_interval_us;
    out.exposures.push_back({t0, t0 + o.exposure_us});
    windows.emplace_back(double(t0), double(t0) + T);
  }
  SimulationResult res;
  run_esim(
      o, C, H, W, times, windows,
      [&](size_t k, Image& img) { warp.render((times[k] - centre) / T, img); }, res, out.blurry);
  for (const Exposure& e : out.exposures) {
    Image sharp(C, H, W);
    warp.render((double(e.mid_us()) - centre) / T, sharp);
    out.sharp.push_back(std::move(sharp));
  }
  out.events = std::move(res.events);
  out.thresholds = std::move(res.thresholds);
  out.samples = res.samples;
  return out;
}

SimulationResult EventSimulator::simulate_frames(const std::vector<Image>& frames,
                                                 const std::vector<TimestampUs>& times_us) const {
  DIFFEVENT_CHECK(frames.size() >= 2 && frames.size() == times_us.size(),
                  ErrorCode::kInvalidArgument,
                  "simulator: need at least 2 frames with one time each (got {} frames, {} times)",
                  frames.size(), times_us.size());
  const int C = frames[0].channels(), H = frames[0].height(), W = frames[0].width();
  for (size_t j = 0; j < frames.size(); ++j) {
    DIFFEVENT_CHECK(frames[j].channels() == C && frames[j].height() == H && frames[j].width() == W,
                    ErrorCode::kInvalidArgument,
                    "simulator: frame {} is [{}, {}, {}] but frame 0 is [{}, {}, {}]", j,
                    frames[j].channels(), frames[j].height(), frames[j].width(), C, H, W);
    DIFFEVENT_CHECK(frames[j].all_finite(), ErrorCode::kInvalidArgument,
                    "simulator: frame {} contains NaN or infinite values", j);
    DIFFEVENT_CHECK(
        j == 0 || times_us[j] > times_us[j - 1], ErrorCode::kInvalidArgument,
        "simulator: frame time at index {} ({} us) is not after the one before it ({} us)", j,
        times_us[j], times_us[j - 1]);
  }
  const int up = options_.frame_upsample;
  DIFFEVENT_CHECK(
      static_cast<double>(frames.size() - 1) * up + 1 <= static_cast<double>(options_.max_samples),
      ErrorCode::kOutOfRange,
      "simulator: {} frames at frame_upsample = {} are more than max_samples = {}", frames.size(),
      up, options_.max_samples);
  std::vector<double> times;
  for (size_t j = 0; j + 1 < frames.size(); ++j)
    for (int u = 0; u < up; ++u)
      times.push_back(times_us[j] + double(times_us[j + 1] - times_us[j]) * u / up);
  times.push_back(double(times_us.back()));
  auto interp = [&](double t, Image& out) {
    size_t j = static_cast<size_t>(std::upper_bound(times_us.begin(), times_us.end(),
                                                    static_cast<TimestampUs>(std::floor(t))) -
                                   times_us.begin());
    j = std::min(std::max<size_t>(j, 1), frames.size() - 1);
    const double a = double(times_us[j - 1]), b = double(times_us[j]);
    const double f = std::min(std::max((t - a) / (b - a), 0.0), 1.0);
    for (size_t i = 0; i < out.size(); ++i)
      out.data()[i] =
          static_cast<float>((1 - f) * frames[j - 1].data()[i] + f * frames[j].data()[i]);
  };
  SimulationResult res;
  std::vector<Image> blurs;
  run_esim(
      options_, C, H, W, times, {{times.front(), times.back()}},
      [&](size_t k, Image& out) { interp(times[k], out); }, res, blurs);
  res.blurry = std::move(blurs.front());
  res.exposure = {times_us.front(), times_us.back()};
  res.sharp = Image(C, H, W);
  interp(double(res.exposure.mid_us()), res.sharp);
  return res;
}

}  // namespace v1
}  // namespace diffevent
