#pragma once
// The variational-bound terms of the hybrid loss that trains learned variances (Nichol &
// Dhariwal 2021, "Improved DDPM", eq. 16; guided-diffusion's _vb_terms_bpd), in ATen so that
// autograd reaches the variance output. Private to the library; exposed for tests.
#include <ATen/ATen.h>

namespace diffevent {
inline namespace v1 {
namespace detail {

/// KL(N(mean1, e^logvar1) || N(mean2, e^logvar2)) per element, in nats.
at::Tensor normal_kl(const at::Tensor& mean1, const at::Tensor& logvar1, const at::Tensor& mean2,
                     const at::Tensor& logvar2);

/// log P(x) per element under N(mean, e^(2 log_scale)) discretised to 256 bins over [-1, 1]
/// (the outermost bins extend to infinity), in nats. x must lie in [-1, 1].
at::Tensor discretized_gaussian_log_likelihood(const at::Tensor& x, const at::Tensor& mean,
                                               const at::Tensor& log_scale);

/// Training timesteps of one batch: the first round(low_fraction * batch) drawn uniformly from
/// [0, min(low_max_t, T)), the rest from [0, T). With low_fraction 0 the draws are exactly
/// those of plain uniform sampling (the same generator calls), so earlier runs resume unchanged.
at::Tensor draw_timesteps(int64_t batch, int64_t num_timesteps, double low_fraction,
                          int64_t low_max_t, at::Generator& gen);

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
