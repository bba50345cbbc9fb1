#pragma once
/// \file event_integrator.hpp
/// EventIntegrator: the exact EDI double integral and log-intensity changes from events.

#include <optional>
#include <vector>

#include "diffevent/core/export.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// Contrast thresholds in log-intensity units (natural log). An ON event means the log
/// intensity rose by c_pos; an OFF event means it fell by c_neg. Per-pixel maps (row-major,
/// width*height values) override the scalars when non-empty.
struct Thresholds {
  /// The largest threshold accepted, in log units: one event may not span more than a factor
  /// e^20 (5e8) of intensity, beyond the dynamic range of any event sensor (about 120 dB, a
  /// factor 1e6). Larger values would only overflow the integral.
  static constexpr double kMax = 20.0;
  /// The threshold assumed where none is given: a common DVS/DAVIS bias setting (log units).
  static constexpr double kDefault = 0.2;

  double c_pos = kDefault;
  double c_neg = kDefault;
  std::vector<float> c_pos_map;
  std::vector<float> c_neg_map;

  /// The same scalar threshold for both polarities.
  static Thresholds symmetric(double c) { return Thresholds{c, c, {}, {}}; }
};

/// Checks that both thresholds and every map value are finite and in (0, Thresholds::kMax];
/// kInvalidArgument naming the first that is not. (Map sizes are checked against a sensor by
/// EventIntegrator::validate.)
DIFFEVENT_API void validate(const Thresholds& thresholds);

/// How the log intensity of a pixel moves between its events (double_integral).
enum class Interpolation {
  /// EDI's model (slides eq. 1): L jumps by the threshold at each event and holds between.
  kStep,
  /// L reaches each event's level along a ramp instead of a jump. An event marks the time L
  /// crossed a level, so L rose (or fell) towards it over the time before: linearly from the
  /// previous event's level when both have the same polarity and lie less than
  /// run_gap_fraction * T apart (a run of events from one moving edge), else over the last
  /// min(gap, ramp_fraction * T) before the event (L held its level until then). See
  /// docs/edi.md, "Ramp interpolation".
  kRamp,
};

/// Options for EventIntegrator.
struct IntegratorOptions {
  Thresholds thresholds;
  /// Worker threads (>= 1). The event range is split into chunks whose partial integrals
  /// combine exactly (see docs/edi.md, "Parallel integration"). kRamp runs on one thread.
  int num_threads = 1;
  Interpolation interpolation = Interpolation::kStep;
  double ramp_fraction = 0.04;  ///< kRamp: longest ramp before an isolated event, in units of T.
  double run_gap_fraction =
      0.15;  ///< kRamp: longest gap within a run of same-polarity events, in T.

  /// Options with the given thresholds and thread count.
  static IntegratorOptions with(Thresholds thresholds, int num_threads = 1) {
    IntegratorOptions o;
    o.thresholds = std::move(thresholds);
    o.num_threads = num_threads;
    return o;
  }
};

/// Computes, per pixel, the EDI double integral (slides eq. 3)
///
///   E(x,y) = (1/T) * integral_{t0}^{t1} exp( L(x,y,t) - L(x,y,tau) ) dt,  T = t1 - t0,
///
/// where L(t) - L(tau) = c_pos * (#ON) - c_neg * (#OFF) counted over events in (tau, t] for
/// t > tau (and the negative of the count over (t, tau] for t < tau) with Interpolation::kStep
/// (the default; kRamp replaces each jump by a ramp, integrated exactly too). The integrand is
/// piecewise constant in t, so the integral is evaluated exactly in one pass over the events,
/// with O(1) state per pixel and no exp() per event: O(events + pixels).
///
/// An event at time t_e changes the level for t > t_e. Events with t in [t0, t1) are used.
///
/// \code
///   EventIntegrator integ(IntegratorOptions::with(Thresholds::symmetric(0.2)));
///   Image E = integ.double_integral(events, 0, 20000);      // tau = 10000 us
///   // sharp = blurry / E  (see edi.hpp)
/// \endcode
class DIFFEVENT_API EventIntegrator {
 public:
  explicit EventIntegrator(IntegratorOptions options = {});

  const IntegratorOptions& options() const noexcept { return options_; }

  /// The double integral E as a [1,H,W] image, over [t0_us, t1_us] (t0 < t1 required) with
  /// reference time tau_us (default: mid-exposure; must lie in [t0, t1]).
  Image double_integral(const EventStream& events, TimestampUs t0_us, TimestampUs t1_us,
                        std::optional<TimestampUs> tau_us = std::nullopt) const;

  /// How strongly each pixel's double integral depends on its thresholds: the [1,H,W] image
  ///   S = sqrt( (d ln E / d c_pos)^2 + (d ln E / d c_neg)^2 ),
  /// by central differences of the exact double_integral (step 5% of the smallest threshold).
  /// A pixel whose true thresholds differ from the assumed ones by independent errors of std
  /// sigma_c has E, and so EDI's sharp frame y / E, off by a relative std of about sigma_c * S:
  /// the per-pixel reliability of the data that deblur()'s threshold noise model uses. S = 0
  /// where no event fell; it grows with the events and how long their level lasts.
  Image threshold_sensitivity(const EventStream& events, TimestampUs t0_us, TimestampUs t1_us,
                              std::optional<TimestampUs> tau_us = std::nullopt) const;
  /// Signed log-intensity change L(t_to) - L(t_from) per pixel as a [1,H,W] image, so that
  /// x(t_to) = x(t_from) * exp(change). Either order of times is allowed.
  Image log_change(const EventStream& events, TimestampUs t_from_us, TimestampUs t_to_us) const;

  /// log_change from t_from to each of `times_us` (any order), in one pass over the events
  /// between t_from and the farthest time: O(events + times * pixels), not O(events * times).
  std::vector<Image> log_changes(const EventStream& events, TimestampUs t_from_us,
                                 const std::vector<TimestampUs>& times_us) const;

 private:
  void validate(const EventStream& events) const;
  Image ramp_double_integral(const EventStream& events, TimestampUs t0_us, TimestampUs t1_us,
                             TimestampUs tau) const;
  // Recomputes E for `pixels` (whose one-pass product overflowed) in the log domain.
  void integrate_in_log_domain(const EventStream& events, size_t first, size_t last,
                               TimestampUs t0_us, TimestampUs t1_us, TimestampUs tau,
                               const std::vector<size_t>& pixels, float* e) const;
  IntegratorOptions options_;
};

}  // namespace v1
}  // namespace diffevent
