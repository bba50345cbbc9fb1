#pragma once
// Training and fine-tuning of diffusion priors: the parameters of a TorchScript noise-prediction
// network are trained with Adam (LibTorch autograd) on random patches, with EMA weights,
// checkpoints and exact resumption.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "diffevent/core/export.hpp"
#include "diffevent/diffusion/ebrd_model.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// Where the training images come from.
struct TrainingData {
  /// Images in the prior's data space before scaling: linear intensity in [0, 1] for an x
  /// prior; residuals (zero-centred, about [-1/2, 1/2]) for an r prior. Channels must match the
  /// prior's (grey images are given to grey priors, RGB to RGB ones).
  std::vector<Image> images;
  /// How a value maps into the network's [-1, 1]: net = scale * value + offset. x priors:
  /// 2 and -1 (the sampler's x = 2 x_lin - 1); r priors: 2 and 0 (r = 2 r_lin).
  double scale = 2.0;
  double offset = -1.0;
};

/// Reads every PNG/PFM file in a folder (sorted by name) as training images for a prior with
/// `channels` channels: RGB files become grey for grey priors (Rec. 601); sRGB-encoded files
/// are linearised when `linearize_srgb`. Throws kIoError for a missing folder and
/// kInvalidArgument when it holds no usable image (naming the folder) or a grey image is given
/// to an RGB prior.
DIFFEVENT_API TrainingData load_training_images(const std::string& folder, int channels,
                                                bool linearize_srgb = true);

/// Adds area-averaged copies of every image at 1/factor of its size for each factor > 1 in
/// `factors` (factor 1 is the original and is always kept), skipping copies whose smaller side
/// would fall below `min_side` (the training patch). A prior trained on full-resolution photos
/// sees sparse detail per pixel; deblurring works on frames downscaled from larger sensors or
/// scenes whose detail is dense, so the copies widen the scales the prior has seen. Throws
/// kInvalidArgument for a factor < 1 or min_side < 1. Returns the number of copies added.
DIFFEVENT_API int add_downscaled_copies(TrainingData& data, const std::vector<int>& factors,
                                        int min_side);

/// How residual training samples are simulated (make_residual_training_data): each sample is a
/// random crop of a photo moved by a random camera motion during the exposure, seen by the
/// simulator with threshold mismatch and noise; its residual is r = y - f(E) x, with E the
/// double integral at the nominal threshold, f the enhancer and x the ground-truth sharp frame.
/// Defaults: the "realistic" event-noise level of the quality benchmark.
struct ResidualDataOptions {
  int samples = 64;                 ///< Residual images to make (photos are cycled).
  int crop = 96;                    ///< Side of the square crop each sample simulates.
  double c = Thresholds::kDefault;  ///< Nominal threshold (simulated and assumed).
  double threshold_sigma = 0.05;    ///< Per-pixel threshold mismatch of the simulated sensor.
  double noise_hz = 5.0;            ///< Shot-noise events per pixel per second.
  /// Ranges: above the values just given, each sample draws its mismatch uniformly from
  /// [threshold_sigma, threshold_sigma_max] and its noise rate from [noise_hz, noise_hz_max],
  /// so the prior sees residuals of many sensors, not one.
  double threshold_sigma_max = 0;
  double noise_hz_max = 0;
  /// Above 0: the threshold the residual is computed with is off from the simulated one by a
  /// factor drawn from [1 - threshold_error, 1 + threshold_error] (a nominal threshold that is
  /// wrong, as real sensors' data sheets are).
  double threshold_error = 0;
  double max_shift_px = 12.0;      ///< Translation drawn from [-max, max] per axis.
  double max_rotation_rad = 0.02;  ///< Rotation drawn from [-max, max].
  double max_zoom = 0.02;          ///< Zoom drawn from 1 + [-max, max].
  TimestampUs exposure_us = 20000;
  EbrdOptions enhancer = [] {
    EbrdOptions e;
    e.enhancer = Enhancer::kGuided;
    return e;
  }();
  uint64_t seed = 0;
};

/// Residual images for an r prior (TrainingData with scale 2, offset 0: the network sees
/// 2 r) from photos in linear intensity (load_training_images). Residuals are clamped to the
/// prior's domain [-1/2, 1/2]: pixels whose simulated threshold is far from the nominal one
/// get an E off by orders of magnitude. Deterministic for a seed.
DIFFEVENT_API TrainingData make_residual_training_data(const TrainingData& photos,
                                                       const ResidualDataOptions& options);

/// Progress of a training run, reported every `log_every` steps and at the end.
struct TrainingProgress {
  int64_t step = 0;      ///< Steps done (including those before a resume).
  int64_t total = 0;     ///< Steps the run is to reach.
  double loss = 0.0;     ///< Mean loss over the steps since the last report.
  double seconds = 0.0;  ///< Wall time of this run so far (not counting earlier runs).
  double steps_per_second = 0.0;
};

struct PriorTrainingOptions {
  int64_t steps = 10000;  ///< Total steps to reach (a resumed run continues to this).
  int batch = 16;         ///< Patches per step.
  int patch = 64;         ///< Patch side in pixels (a multiple of the prior's size_multiple).
  double lr = 1e-4;       ///< Adam learning rate.
  double ema = 0.999;     ///< EMA decay of the weights that are saved (0: no EMA).
  double weight_decay = 0.0;
  uint64_t seed = 0;  ///< Patches, flips, timesteps and noise of step k depend only on (seed, k).
  /// Emphasis on low noise: this fraction of every batch draws its timestep from
  /// [0, low_noise_max_t) instead of [0, T). Deblurring guides the clean prediction mostly at
  /// low noise (late steps, warm starts), where the data leave the least to the prior's detail;
  /// the rest of the batch keeps the prior valid over the whole schedule. 0: uniform (DDPM).
  double low_noise_fraction = 0.0;
  int low_noise_max_t = 200;
  int log_every = 50;          ///< Steps between progress reports.
  int checkpoint_every = 500;  ///< Steps between checkpoints (0: only at the end).
  std::string checkpoint;      ///< Checkpoint file (model, EMA, optimiser state, step); "" = none.
  std::string device = "cpu";  ///< "cpu" or "cuda:N".
  /// Called every log_every steps; return false to stop (a checkpoint is written first).
  std::function<bool(const TrainingProgress&)> on_progress;
  /// Read after every step: once it holds true the run stops as on_progress would stop it
  /// (a signal handler may set it; may be null).
  const std::atomic<bool>* cancel = nullptr;
};

/// What a run did.
struct PriorTrainingResult {
  int64_t first_step = 0;      ///< 0, or the step the run resumed from.
  int64_t last_step = 0;       ///< Steps done when it stopped.
  bool stopped = false;        ///< Stopped early by on_progress or cancel.
  std::vector<double> losses;  ///< The loss of every step of this run, in order.
};

/// Trains the prior in `init_path` (a TorchScript module with diffevent's metadata) on `data`
/// and writes the EMA weights as a TorchScript prior to `out_path` (atomically, metadata kept
/// and a "training" record added). With `resume` set, the run continues from that checkpoint:
/// same weights, EMA, optimiser moments and step, so the loss curve continues exactly where it
/// stopped. Loss: the simple DDPM objective, the mean squared error of the predicted noise at
/// uniformly sampled timesteps; for priors with a learned variance (learned_sigma, guided-
/// diffusion's learned range) the hybrid loss of improved DDPM, L_simple + (T/1000) L_vlb(t),
/// whose bound term (in bits per dimension: the KL to the true posterior, the discretised
/// decoder likelihood at t = 0) trains the variance with the mean held fixed.
DIFFEVENT_API PriorTrainingResult train_prior(const std::string& init_path,
                                              const TrainingData& data, const std::string& out_path,
                                              const PriorTrainingOptions& options,
                                              const std::string& resume = "");

}  // namespace v1
}  // namespace diffevent
