#pragma once
/// \file edi.hpp
/// Edi: Event-based Double Integral deblurring (Pan et al., CVPR 2019), slides eq. (1)-(3).

#include <optional>
#include <vector>

#include "diffevent/core/export.hpp"
#include "diffevent/events/event_integrator.hpp"
#include "diffevent/events/exposure.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// Options for Edi.
struct EdiOptions {
  Thresholds thresholds;
  /// Reference time of the sharp output; default mid-exposure.
  std::optional<TimestampUs> tau_us;
  /// Guard against division by a tiny double integral: E is replaced by max(E, min_integral).
  /// E is a mean of exponentials, so it is > 0; it only gets tiny when a pixel saw many more
  /// OFF than ON events after tau, where the division would amplify noise without bound.
  double min_integral = 1e-3;
  /// Treat the blurry frame as sRGB-encoded: linearise before dividing and re-encode after.
  /// EDI's model holds in linear intensity; most 8-bit camera files are gamma-encoded.
  bool linearize_srgb = false;
  /// Threads for the integrator.
  int num_threads = 1;

  /// Defaults with a symmetric threshold c.
  static EdiOptions with_threshold(double c) {
    EdiOptions o;
    o.thresholds = Thresholds::symmetric(c);
    return o;
  }
};

/// Options for the automatic threshold search (Edi::estimate_threshold).
struct ThresholdSearchOptions {
  double c_min = 0.05;  ///< Lower end of the search interval (log units).
  /// Upper end of the search interval. Real sensors that drop events (low light, bandwidth
  /// limits) behave as if their threshold were well above the nominal 0.2 (docs/quality.md).
  double c_max = 4.0;
  double tolerance = 1e-3;  ///< Stop when the bracket is narrower than this.
  double lambda_tv = 0.2;   ///< Weight of the TV term (EDI uses 0.2).
  int num_times = 5;        ///< Times across the exposure at which the energy is evaluated.
};

/// Result of the threshold search.
struct ThresholdEstimate {
  double c = 0;         ///< Chosen symmetric threshold.
  double energy = 0;    ///< Energy at c.
  int evaluations = 0;  ///< Energy evaluations spent.
  /// True when c lies within the tolerance of c_min or c_max: the minimum may be outside the
  /// interval (or the energy has none), so treat c with suspicion.
  bool at_bound = false;
  /// Standard error of c: the spread of the minimisers of the energy on each cell of a 3 x 3
  /// grid over the frame alone (standard deviation / 3, as for 9 independent estimates).
  double std_error = 0;
};

/// Options of the sensor-threshold estimate (Edi::estimate_sensor_threshold).
struct SensorThresholdOptions {
  /// Side of the square blocks that each get their own image velocity (pixels, >= 8).
  int block_px = 40;
  /// Largest image motion over the exposure searched for, per axis (pixels, in (0, 256]).
  double max_motion_px = 32;
  /// A block's velocity is used only where its best contrast is at least this many times the
  /// median contrast over the velocities searched (>= 1): a flat landscape means noise events
  /// or no moving edge, whose "velocity" would be arbitrary.
  double min_peak = 1.5;
  /// Pixels used: those whose predicted relative change |v . grad y| / y is at or above this
  /// quantile over the frame's pixels with a velocity (in [0, 1)).
  double gradient_quantile = 0.9;
  /// Range of the per-pixel thresholds (log units): a pixel whose change needs a threshold
  /// outside it counts at the nearer end. 0 < c_min < c_max <= Thresholds::kMax.
  double c_min = 0.01;
  double c_max = 20;
  /// Every pixel's reference level was at its log intensity when the exposure began (a
  /// simulation that starts there, such as EventSimulator's): the change a pixel's events
  /// leave unsaid is then half a threshold on average, not zero. false (the default) for a
  /// sensor that was recording before the exposure, whose references lie at a random phase.
  bool reference_at_start = false;
};

/// What Edi::estimate_sensor_threshold found.
struct SensorThresholdEstimate {
  /// The sensor's median contrast threshold (log units): the median of the per-pixel values.
  double c = 0;
  /// Standard error of c: the spread of the medians of the blocks with at least 10 pixels
  /// (standard deviation / sqrt(count)); 0 when fewer than 3 blocks have them.
  double std_error = 0;
  int64_t pixels = 0;  ///< Pixels in the median.
  /// Per polarity: the median over the pixels that brightened (their ON threshold) and over
  /// those that darkened (OFF); 0 where fewer than 25 pixels changed that way.
  double c_pos = 0, c_neg = 0;
  int64_t pixels_pos = 0, pixels_neg = 0;  ///< Pixels in c_pos and c_neg.
  int blocks = 0;        ///< Blocks whose events gave a clear velocity (min_peak).
  double motion_px = 0;  ///< Median image motion over the exposure of those blocks (pixels).
  /// True when c lies at c_min or c_max: more than half of the pixels lie beyond one end.
  bool at_bound = false;
};

/// EDI deblurring: sharp(tau) = blurry / E (slides eq. 2 solved for x(tau)), frames at other
/// times x(t) = x(tau) * exp(L(t) - L(tau)) (eq. 1), and a search for the contrast threshold.
/// Grey and RGB frames share one E (events are luminance changes).
///
/// \code
///   Edi edi(EdiOptions::with_threshold(0.2));
///   Image sharp = edi.deblur(blurry, events, {0, 20000});
///   auto video = edi.frames(blurry, events, {0, 20000}, 8);
/// \endcode
class DIFFEVENT_API Edi {
 public:
  explicit Edi(EdiOptions options = {});
  const EdiOptions& options() const noexcept { return options_; }

  /// The sharp frame at tau (same channels as `blurry`, which must match the sensor size).
  Image deblur(const Image& blurry, const EventStream& events, const Exposure& exposure) const;

  /// `count` frames at t_k = t0 + (k + 1/2) T / count, k = 0..count-1 (a high-frame-rate video
  /// of the exposure). `times_us`, when given, receives the t_k.
  std::vector<Image> frames(const Image& blurry, const EventStream& events,
                            const Exposure& exposure, int count,
                            std::vector<TimestampUs>* times_us = nullptr) const;

  /// Finds the symmetric threshold c in [c_min, c_max] that minimises (a scan of log-spaced
  /// values at most 1.32 apart, at least 12 of them, then a golden-section search between the
  /// best one's neighbours)
  ///   energy(c) = mean_k [ lambda_tv * TV(x_c(t_k))
  ///                        - (rho(|grad x_c(t_k)|, M_k) + rho(|grad log x_c(t_k)|, M_k)) / 2 ],
  /// where x_c(t_k) is the EDI frame at t_k with threshold c (grey, linear), TV is the mean
  /// isotropic total variation per pixel, M_k is the number of events within T/(8K) of t_k per
  /// pixel (where edges are at t_k), rho is the Pearson correlation, and every map is smoothed
  /// by a 3x3 box first.
  /// A correct c puts sharp edges exactly where events fire; a small c leaves blur, a large one
  /// ghost edges and amplified noise. Frame values are bounded to [0, 16] first (a large c
  /// overflows where a pixel fired many events). See docs/edi.md.
  ThresholdEstimate estimate_threshold(const Image& blurry, const EventStream& events,
                                       const Exposure& exposure,
                                       const ThresholdSearchOptions& search = {}) const;

  /// Estimates the sensor's contrast threshold from how much the frame is blurred where events
  /// fire, a quantity the sharpness search above does not target: under a strong per-pixel
  /// mismatch the sharpest single c lies well below the sensor's mean threshold.
  ///   1. Each block's image velocity v (pixels per exposure) maximises the contrast of its
  ///      events warped to mid-exposure, each event weighted by polarity / (events at its
  ///      pixel), so that pixels firing many events (a small threshold, noise) cannot pin v to 0.
  ///   2. Where the scene moves at v during the exposure, the blurry frame y obeys
  ///      v . grad y = x(t0) - x(t1) (the mean over the exposure of a derivative along the
  ///      motion), and with EDI x(t) = y exp(c n(t)) / E(c), n the signed event count from
  ///      mid-exposure:  v . grad y / y = (exp(c n(t0)) - exp(c n(t1))) / E(c).
  ///      Each pixel's c solves it (bisection in log c), using the pixels where the left side is
  ///      largest: chosen by the image alone, so a pixel's own threshold does not decide
  ///      whether it is used; a pixel without net events (its threshold exceeds its change)
  ///      and one whose events contradict the gradient (noise) give no value.
  ///   3. c is the median over those pixels.
  /// v and c are not confounded: scaling v scales the left side, but the events fix n. Throws
  /// kInvalidArgument when fewer than 50 pixels qualify (no moving edges, no events).
  SensorThresholdEstimate estimate_sensor_threshold(
      const Image& blurry, const EventStream& events, const Exposure& exposure,
      const SensorThresholdOptions& options = {}) const;

  /// The energy above for one c (exposed for plotting and tests).
  double threshold_energy(const Image& blurry, const EventStream& events, const Exposure& exposure,
                          double c, const ThresholdSearchOptions& search = {}) const;

 private:
  void validate(const Image& blurry, const EventStream& events, const Exposure& exposure) const;
  /// blurry / max(E, guard) at tau in linear intensity (before any sRGB re-encoding).
  Image linear_sharp(const Image& blurry, const EventStream& events, const Exposure& exposure,
                     TimestampUs tau) const;
  /// The energy's terms at each of the num_times times, and (when per_block is given) the
  /// energy of each cell of a 3 x 3 grid over the frame, averaged over the times.
  std::vector<double> threshold_energies(const Image& blurry, const EventStream& events,
                                         const Exposure& exposure, double c,
                                         const ThresholdSearchOptions& search,
                                         std::vector<double>* per_block = nullptr) const;
  EdiOptions options_;
};

}  // namespace v1
}  // namespace diffevent
