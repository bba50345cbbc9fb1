#pragma once
/// \file alternating_sampler.hpp
/// AlternatingSampler: DiffEvent's Algorithm 1, alternating guided DDPM/DDIM updates of the
/// sharp image x and the residual r under y = f(E) x + r.

#include <ATen/ATen.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "diffevent/core/export.hpp"
#include "diffevent/diffusion/diffusion_prior.hpp"
#include "diffevent/diffusion/ebrd_model.hpp"
#include "diffevent/diffusion/options.hpp"

namespace diffevent {
inline namespace v1 {

/// The tiling a prior gets: SamplerOptions' tile fields with their automatic (0) values
/// resolved for that prior's metadata.
struct TileGeometry {
  int64_t above_pixels = 0;  ///< Frames with more pixels than this are tiled.
  int size = 0;
  int stride = 0;
};
DIFFEVENT_API TileGeometry resolve_tiles(const SamplerOptions& options, const PriorMetadata& prior);

/// Result: linear-intensity images [C,H,W] and the network evaluation count.
struct SampleResult {
  at::Tensor x;
  at::Tensor r;
  int64_t network_calls = 0;
  int64_t fused_steps = 0;  ///< Steps whose guidance ran in the fused one-pass kernels (else ATen).
};

/// Algorithm 1 (DiffEvent slides): at every step, the x update uses the clean predictions of x
/// and r at step t (eq. 13); the r update uses the clean x predicted from x_{t-1} (eq. 16),
/// which is also the next step's x prediction, so a step costs two network evaluations.
/// Without a residual prior, r stays 0 and a step costs one evaluation.
///
/// \code
///   auto prior = std::make_shared<GaussianPrior>(at::zeros({1,1,1}), at::ones({1,1,1}));
///   AlternatingSampler sampler(prior, nullptr, SamplerOptions{});
///   SampleResult out = sampler.sample(EbrdModel(y, E));
/// \endcode
class DIFFEVENT_API AlternatingSampler {
 public:
  AlternatingSampler(std::shared_ptr<DiffusionPrior> x_prior,
                     std::shared_ptr<DiffusionPrior> r_prior, SamplerOptions options = {});
  /// Samples x (and r) for the model's y, any image size (padded by reflection to the priors'
  /// size multiple and cropped back). Throws ErrorCode::kCancelled when cancelled.
  SampleResult sample(const EbrdModel& model) const;
  /// Samples N frames of the same size together: every network call takes the whole batch
  /// [N,C,H,W], so a step still costs two calls. Results are in the models' order.
  std::vector<SampleResult> sample_batch(const std::vector<EbrdModel>& models) const;

 private:
  SampleResult sample_unpadded(const at::Tensor& y, const at::Tensor& fe,
                               const at::Tensor& w) const;
  std::shared_ptr<DiffusionPrior> x_prior_, r_prior_;
  SamplerOptions options_;
};

}  // namespace v1
}  // namespace diffevent
