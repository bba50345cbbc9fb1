#pragma once
/// \file event_simulator.hpp
/// EventSimulator: ESIM-style event generation with ground truth for tests and benchmarks.

#include <cstdint>
#include <vector>

#include "diffevent/core/export.hpp"
#include "diffevent/events/edi.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// Camera motion over the exposure, centred on mid-exposure: at fraction s in [0,1] of the
/// exposure the pose is translation (s - 1/2) * (dx_px, dy_px), rotation (s - 1/2) *
/// rotation_rad about the image centre, and zoom factor zoom^(s - 1/2). So the sharp frame at
/// tau (s = 1/2) is the source image itself, and the total blur path is (dx, dy, rotation, zoom).
struct CameraMotion {
  double dx_px = 0;
  double dy_px = 0;
  double rotation_rad = 0;
  double zoom = 1.0;
};

/// Options for EventSimulator. Intensities are linear in [0, 1].
struct SimulatorOptions {
  /// Output sensor size; 0 means the source image's size.
  int width = 0;
  int height = 0;
  TimestampUs exposure_us = 20000;
  double c_pos = Thresholds::kDefault;  ///< Nominal ON threshold (log units).
  double c_neg = Thresholds::kDefault;  ///< Nominal OFF threshold.
  double threshold_sigma =
      0.0;  ///< Per-pixel mismatch: c ~ N(c_nominal, sigma^2), clamped >= 0.01, fixed per pixel.
  TimestampUs refractory_us = 0;  ///< Events closer than this to the pixel's previous event are
                                  ///< dropped (the reference still moves).
  double shot_noise_hz = 0;       ///< Per-pixel rate of spurious events of random polarity.
  double leak_hz = 0;  ///< Per-pixel rate of ON leak events (the reference drifts down by leak_hz *
                       ///< c_pos per second).
  double log_eps = 1e-3;      ///< L = log(I + log_eps) (ESIM's default).
  double max_step_px = 0.05;  ///< Motion rendering: at most this image motion between samples.
  int min_samples = 64;       ///< Motion rendering: at least this many samples.
  int frame_upsample =
      1;  ///< Frame sequences: samples per input frame interval (linear interpolation).
  uint64_t seed = 0;
  /// Bounds on the work a simulation may take (kOutOfRange beyond them, before the memory is
  /// spent): events produced (signal and noise; about 40 bytes each while simulating, 400 MB
  /// at the default) and rendered samples (each renders the whole frame).
  int64_t max_events = 10000000;
  int64_t max_samples = int64_t{1} << 20;
};

/// What a simulation produces.
struct SimulationResult {
  EventStream events;     ///< Time-sorted events, t in [0, exposure] us (frames: input times).
  Image blurry;           ///< Mean linear intensity over the exposure (same channels as input).
  Image sharp;            ///< Ground-truth frame at tau (mid-exposure).
  Exposure exposure;      ///< The exposure window.
  Thresholds thresholds;  ///< The per-pixel thresholds actually used (maps when sigma > 0).
  int samples = 0;        ///< Number of rendered intensity samples.
};

/// A simulated recording (EventSimulator::simulate_video).
struct VideoOptions {
  int frames = 10;                        ///< Number of frames (exposures).
  TimestampUs frame_interval_us = 40000;  ///< Start to start; at least the exposure.
};

/// What a video simulation produces: one event stream over all exposures, and per frame its
/// exposure, blurry frame and ground truth at mid-exposure.
struct VideoSimulation {
  EventStream events;  ///< t in [0, (frames - 1) * interval + exposure] us.
  std::vector<Exposure> exposures;
  std::vector<Image> blurry;
  std::vector<Image> sharp;
  Thresholds thresholds;
  int samples = 0;
};

/// ESIM event model: per pixel, an event fires each time the log intensity L = log(I + eps)
/// moves one threshold away from the level of the pixel's last event; its time is found by
/// linear interpolation of L between rendered samples (exact for piecewise-linear L). Adds
/// threshold mismatch, refractory period, shot noise and leak events as options. Seeded and
/// deterministic.
///
/// \code
///   SimulatorOptions opt;
///   opt.exposure_us = 20000;
///   CameraMotion motion;
///   motion.dx_px = 12;
///   SimulationResult r = EventSimulator(opt).simulate_motion(photo, motion);
///   // r.blurry, r.events, r.sharp
/// \endcode
class DIFFEVENT_API EventSimulator {
 public:
  explicit EventSimulator(SimulatorOptions options = {});
  const SimulatorOptions& options() const noexcept { return options_; }

  /// Moves a camera over a still image (grey or RGB; events from its luminance).
  SimulationResult simulate_motion(const Image& source, const CameraMotion& motion) const;

  /// A recording: the camera keeps moving over the still image at the motion's rate per
  /// exposure (the path is centred on the middle of the video), exposures of exposure_us start
  /// every frame_interval_us, events cover the whole time.
  VideoSimulation simulate_video(const Image& source, const CameraMotion& motion,
                                 const VideoOptions& video) const;
  /// Uses timed frames (strictly increasing times, all the same shape); the exposure is
  /// [times.front(), times.back()] and tau its midpoint (ground truth interpolated there).
  SimulationResult simulate_frames(const std::vector<Image>& frames,
                                   const std::vector<TimestampUs>& times_us) const;

 private:
  SimulatorOptions options_;
};

/// Resizes by area averaging (down) or bilinear interpolation (up).
DIFFEVENT_API Image resize(const Image& image, int height, int width);
/// Cuts out a [height, width] window whose top-left corner is (top, left).
DIFFEVENT_API Image crop(const Image& image, int top, int left, int height, int width);

}  // namespace v1
}  // namespace diffevent
