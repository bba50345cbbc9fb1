#pragma once
/// \file diffusion_prior.hpp
/// DiffusionPrior: the narrow interface through which the sampler reaches a noise-prediction
/// network, with an analytic Gaussian prior and a TorchScript loader.

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "diffevent/core/export.hpp"
#include "diffevent/diffusion/noise_schedule.hpp"

namespace diffevent {
inline namespace v1 {

/// What a prior was trained with. Stored as metadata.json inside TorchScript archives.
struct PriorMetadata {
  int channels = 3;
  BetaSchedule schedule = BetaSchedule::kLinear;
  int num_timesteps = 1000;
  bool learned_sigma = false;  ///< The network outputs 2C channels: eps and v (kLearnedRange).
  int size_multiple = 1;       ///< Inputs must be padded to a multiple of this.
  double data_min = -1.0;  ///< Data range the network was trained on ("data_range": [min, max]).
  double data_max = 1.0;
  /// Side of the frames the network was built and trained for (the metadata's
  /// "config": {"image_size": N}); 0 when unknown. The sampler's automatic tiling reads it.
  int native_size = 0;
  /// The network attends over the whole frame, so its cost per pixel grows with the frame
  /// (guided-diffusion's UNet; the default when the metadata does not say). false for
  /// "attention": "window" or "none": a whole frame costs what its tiles would, so the sampler
  /// tiles only frames too large for memory.
  bool global_attention = true;
};

/// One prediction: eps [N,C,H,W], and v [N,C,H,W] in [-1, 1] when learned_sigma.
struct PriorOutput {
  at::Tensor eps;
  at::Tensor v;
};

/// Predicts the noise in x_t [N,C,H,W] (data range [-1, 1]) at original timesteps t [N]
/// (int64). Implementations must be safe to call from one thread at a time per instance.
class DIFFEVENT_API DiffusionPrior {
 public:
  virtual ~DiffusionPrior() = default;
  virtual const PriorMetadata& metadata() const = 0;
  virtual PriorOutput predict(const at::Tensor& x_t, const at::Tensor& t) = 0;
  /// Var[x0 | x_t] at original timestep t, in prior units, when the prior knows it (broadcast
  /// to [C,H,W]); undefined otherwise, and the sampler then assumes an uninformative prior,
  /// (1 - abar_t) / abar_t. Used by the proximal guidance step (docs/sampler.md).
  virtual at::Tensor x0_variance(int64_t /*t*/) const { return at::Tensor(); }
  /// Where the network runs: the sampler keeps every tensor of a run on this device (noise,
  /// guidance kernels, tiles) and copies only the result back. Closed-form priors follow
  /// their input (CPU unless overridden).
  virtual at::Device device() const { return at::Device(at::kCPU); }
};

/// Data ~ N(mean, stddev^2) independently per element (mean/stddev broadcast to [C,H,W]).
/// Its noise prediction is closed form: E[eps | x_t] = sqrt(1 - abar) (x_t - sqrt(abar) mean)
/// / (abar stddev^2 + 1 - abar). A test oracle and a cheap fallback when no network is given.
class DIFFEVENT_API GaussianPrior : public DiffusionPrior {
 public:
  GaussianPrior(at::Tensor mean, at::Tensor stddev, PriorMetadata metadata = {});
  const PriorMetadata& metadata() const override { return meta_; }
  PriorOutput predict(const at::Tensor& x_t, const at::Tensor& t) override;
  /// 1 / (1/stddev^2 + abar/(1 - abar)): exact for Gaussian data.
  at::Tensor x0_variance(int64_t t) const override;
  /// Number of predict() calls so far (tests count network evaluations).
  int64_t calls() const noexcept { return calls_; }

 private:
  at::Tensor mean_, stddev_;
  PriorMetadata meta_;
  NoiseSchedule schedule_;
  int64_t calls_ = 0;
};

/// Options for loading a TorchScript prior.
struct TorchScriptPriorOptions {
  std::string device = "cpu";   ///< "cpu" or "cuda:N".
  bool half_precision = false;  ///< Run the network in float16 (CUDA only).
  int intra_op_threads = 0;     ///< 0: leave LibTorch's setting.
  /// Freeze the module (weights folded in as constants) and apply LibTorch's inference
  /// optimisations (operator fusion, pre-packed convolution weights) once at load. A module that
  /// cannot be frozen runs as loaded.
  bool optimize = true;
  /// CPU: keep the network's freed activations in the heap for the next call instead of
  /// returning them to the system and faulting them in again (glibc's malloc thresholds,
  /// process-wide; deblur() releases the memory when it returns). 3.5x faster on a 2-core CPU
  /// (docs/performance.md). false leaves malloc as the host set it.
  bool retain_heap = true;
  /// Overrides for metadata.json fields (applied when the pointer is non-null).
  std::shared_ptr<PriorMetadata> metadata_override;
};

/// Loads forward(x [N,C,H,W], t [N] int64) -> eps [N,C,H,W] or [N,2C,H,W] from a TorchScript
/// archive; metadata from the archive's extra file "metadata.json" (flat JSON object with keys
/// channels, schedule ("linear"|"cosine"), num_timesteps, learned_sigma, size_multiple and
/// data_range [min, max]).
/// Loading goes through a backend-neutral factory (load_prior) so an AOTInductor .pt2 backend
/// can be added without touching the sampler.
DIFFEVENT_API std::unique_ptr<DiffusionPrior> load_prior(
    const std::string& path, const TorchScriptPriorOptions& options = {});

/// Parses the metadata JSON (exposed for tests); throws kFormatError on malformed input.
DIFFEVENT_API PriorMetadata parse_prior_metadata(const std::string& json);

}  // namespace v1
}  // namespace diffevent
