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

#include "diffevent/deblur_defaults.hpp"
#include "diffevent/diffusion_prior.hpp"
#include "diffevent/ebrd_model.hpp"
#include "diffevent/export.hpp"

namespace diffevent {
inline namespace v1 {

/// How the data term guides the clean predictions (docs/sampler.md).
enum class GuidanceMode {
  /// Default. The data term is diagonal in x, so its proximal step around the prior's clean
  /// prediction is closed form per pixel ("pseudo-inverse guidance"); stable for any s, and
  /// with a weak prior and large s it reproduces EDI exactly (research §3.8).
  kProximal,
  /// The slides' eq. (13) literally: x_{t-1} = mu - sigma_t^2 * grad (vanishes late, explodes
  /// early).
  kGradientSigma2,
  /// GDP's code: x_{t-1} = mu - grad (constant weight).
  kGradientConstant,
};

/// Options for AlternatingSampler. Defaults are written here.
struct SamplerOptions {
  int steps = deblur_defaults::kSteps;  ///< Respaced steps K (guided-diffusion "K" spacing).
  /// Overrides `steps` with any guided-diffusion respacing spec ("100", "10,20,30", "ddim25").
  std::string respacing;
  bool ddim = false;                                  ///< DDIM(eta) instead of DDPM steps.
  double eta = 0.0;                                   ///< DDIM noise.
  VarianceType variance = VarianceType::kFixedSmall;  ///< For priors without learned sigma.
  GuidanceMode guidance = GuidanceMode::kProximal;
  double s = deblur_defaults::kS;     ///< Data weight for the x step, s ||y - f(E)x - r||^2.
  double s_r = deblur_defaults::kSR;  ///< Data weight for the r step.
  double lambda_tv =
      deblur_defaults::kLambdaTv;  ///< TV weight on x (isotropic, eps 1e-3), relative to s.
  double lambda_l1 = deblur_defaults::kLambdaL1;  ///< L1 weight on r.
  double min_prior_variance =
      deblur_defaults::kMinPriorVariance;  ///< Floor of the clean prediction's variance (proximal
                                           ///< mode), in [0,1]^2 units: keeps late steps
                                           ///< data-consistent.
  bool clip = true;                        ///< Clamp clean predictions to [-1, 1].
  /// Proximal mode: reverse variance beta~_k + c1_k^2 Var[x0 | x_k, y] (the guided clean
  /// prediction's own variance), noise on the last step too. Exact ancestral sampling of the
  /// posterior when the prior is Gaussian (the test oracle); off: the variance type above.
  bool analytic_variance = false;
  /// Use the fused one-pass kernels (CPU, or CUDA when the x prior runs there) for the proximal
  /// DDPM x and r steps (else the ATen composition of the same formulas, kept as the reference
  /// the kernels are tested against).
  bool fused_kernel = true;
  /// Above this many pixels per frame the networks are evaluated on overlapping tiles whose
  /// noise predictions are blended with smooth weights at every step, so all tiles share one
  /// x_t and no seams form. 0 (the default) picks each from the prior (`resolve_tiles`). A
  /// prior whose cost per pixel is flat (PriorMetadata::global_attention false: attention in
  /// windows, as the shipped priors', or none) runs frames up to 1 MP whole and larger ones on
  /// 512-pixel tiles, which only bound memory. A prior with global attention, whose cost per
  /// pixel grows with the frame, gets tiles twice its training size (native_size), at least 64
  /// and at most 256 pixels (GDP's 256 when unknown), tiling above 4 tiles' pixels. Stride 5/8
  /// of a tile.
  int64_t tile_above_pixels = 0;
  int tile_size = 0;
  int tile_stride = 0;
  /// Tile-frames per network call: each call takes tile_batch / N tiles (at least one) of all
  /// N frames of a batch, so posterior averaging does not multiply the memory.
  int tile_batch = 16;
  /// Where sampling starts, as a fraction of the diffusion schedule. 1 (default): from pure
  /// noise at the last timestep, as Algorithm 1 does. Below 1 (a warm start, as in SDEdit and
  /// Chung et al.'s "come closer, diffuse faster"): only the respaced steps whose timestep is at
  /// most start * (T - 1) run, and x starts as the forward-diffused EDI estimate y / f(E)
  /// (clamped to [0, 1]) at the first of them, r as the forward-diffused 0. `steps` still
  /// spaces the whole schedule, so about start * steps steps (and network calls) run.
  /// deblur() starts at deblur_defaults::kStart (DeblurOptions); the sampler alone is
  /// Algorithm 1 as written unless told otherwise.
  double start = 1.0;
  /// Antithetic noise: in a batch of N frames, frame N/2 + i draws the negated noise of frame i
  /// at every draw (each frame's noise is still a standard normal draw). For copies of one frame
  /// (deblur()'s posterior samples) the pair's average cancels the noise's first-order effect,
  /// so a few samples estimate the posterior mean as well as many independent ones.
  bool antithetic = false;
  uint64_t seed = 0;
  /// Called after each step with (step done, total); return false to cancel.
  std::function<bool(int, int)> progress;
  /// Set from any thread to cancel; checked every step.
  const std::atomic<bool>* cancel = nullptr;
};

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
