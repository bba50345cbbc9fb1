#pragma once
// diffevent deblur-recording: every frame of a recording deblurred, with a manifest, resumable.
// The driver (deblur_recording.cpp) runs EDI itself; the diffusion method comes from
// diffevent-diffusion (deblur.cpp), which links LibTorch.
#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "deblur_flags.hpp"

namespace diffevent_cli {

struct RecordingArgs {
  std::string input, out_dir;
  std::string method = "diffevent";
  int frames_per_exposure = 0;
  int jobs = 0;
  double memory_budget_mb = 4096;
  double threshold = 0;  ///< --threshold when given (else the file's statement or an estimate)
  bool auto_threshold = false;
  std::string threshold_range;  ///< --threshold-range MIN:MAX ("" = the library's interval)
  long long exposure_us = 0;
  int bit_depth = 16;
  bool no_video = false;
  double fps = 10;
  SensorFlags sensor;  ///< --sensor-threshold: each frame's, and their median in the manifest
  // diffevent only
  DeblurFlags flags;
  std::string prior, residual_prior, device = "cpu";
  int threads = 0;
};

/// One frame's result.
struct FrameOutput {
  diffevent::Image sharp;
  std::vector<diffevent::Image> frames;  ///< --frames-per-exposure frames across the exposure.
  double threshold = 0;                  ///< The contrast threshold used (ON; OFF alike).
  json extra = json::object();           ///< Method-specific fields for the manifest.
};

/// A deblurring method, set up once per run (priors loaded) and called per frame, possibly
/// from several threads at once.
struct RecordingMethod {
  std::function<FrameOutput(const diffevent::Image& blurry, const diffevent::EventStream& events,
                            const diffevent::Exposure& exposure, int frames_per_exposure)>
      run;
  json settings;  ///< What decides the outputs (a rerun with other settings redoes frames).
  double bytes_per_pixel = 64;  ///< Working memory per pixel and channel, for --memory-budget-mb.
  int default_jobs = 1;         ///< Frames in parallel when --jobs is 0.
};

/// The thresholds of a run (resolve_thresholds against the recording's statement): the flags,
/// else what the file states; kEstimated (also with --auto-threshold): each frame's estimate.
ThresholdSource recording_thresholds(const RecordingArgs& a, const diffevent::Recording& recording,
                                     diffevent::Thresholds& thresholds);

using DiffusionMethodFactory =
    std::function<RecordingMethod(const RecordingArgs&, const diffevent::Recording&)>;

/// Frames at t_k = t0 + (k + 1/2) T / n from a sharp frame at mid-exposure and the events
/// (x(t) = x(tau) exp(L(t) - L(tau)), eq. 1).
std::vector<diffevent::Image> frames_from_sharp(const diffevent::Image& sharp,
                                                const diffevent::EventStream& events,
                                                const diffevent::Exposure& exposure,
                                                const diffevent::Thresholds& thresholds, int n);

/// Adds `deblur-recording`. `diffusion` is empty in the program without LibTorch, where
/// only --method edi runs (`diffevent` execs diffevent-diffusion for the other).
Command add_deblur_recording(CLI::App& app, const Common& c, DiffusionMethodFactory diffusion);

#ifdef DIFFEVENT_HAVE_TORCH
/// The diffusion method (deblur.cpp).
RecordingMethod diffusion_recording_method(const RecordingArgs& a,
                                           const diffevent::Recording& recording);
#endif

}  // namespace diffevent_cli
