#pragma once
/// \file noise_schedule.hpp
/// NoiseSchedule: DDPM noise schedules, timestep respacing and posterior coefficients.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "diffevent/core/export.hpp"

namespace diffevent {
inline namespace v1 {

/// Beta schedule of the base (training) process.
enum class BetaSchedule {
  kLinear,  ///< beta_t = linspace(1e-4 * 1000/T, 0.02 * 1000/T, T) (Ho et al.; guided-diffusion).
  kCosine   ///< beta_i = min(1 - abar(t_{i+1}) / abar(t_i), 0.999), abar(t) = cos^2((t+0.008)/1.008
            ///< pi/2).
};

/// Which variance the reverse step uses.
enum class VarianceType {
  kFixedSmall,   ///< sigma_t^2 = posterior variance beta~_t.
  kFixedLarge,   ///< sigma_t^2 = beta_t, with beta~_1 at t = 0 (guided-diffusion's FIXED_LARGE).
  kLearnedRange  ///< log sigma_t^2 = f log beta_t + (1 - f) log beta~_t(clipped), f = (v + 1)/2
                 ///< from the network.
};

/// Options for NoiseSchedule.
struct NoiseScheduleOptions {
  BetaSchedule schedule = BetaSchedule::kLinear;
  int num_timesteps = 1000;  ///< T of the base process.
  /// Respacing: "" (all steps), "N" or "a,b,c" (equal sections, N picks each, ends included),
  /// or "ddimN" (an integer stride giving exactly N steps, as guided-diffusion's space_timesteps).
  std::string respacing;
};

/// A (possibly respaced) diffusion process. Everything is computed in double once; the step
/// index k runs over the K kept steps (k = K-1 is the noisiest); timestep(k) is the original
/// index that the network must receive.
///
/// \code
///   NoiseSchedule s({BetaSchedule::kLinear, 1000, "100"});
///   for (int k = s.num_steps() - 1; k >= 0; --k) { int64_t t_net = s.timestep(k); ... }
/// \endcode
class DIFFEVENT_API NoiseSchedule {
 public:
  explicit NoiseSchedule(const NoiseScheduleOptions& options = {});

  int num_steps() const noexcept { return static_cast<int>(betas_.size()); }
  int64_t timestep(int k) const { return map_.at(static_cast<size_t>(k)); }
  const std::vector<int64_t>& timesteps() const noexcept { return map_; }

  double beta(int k) const { return betas_.at(static_cast<size_t>(k)); }
  double alpha_bar(int k) const { return abar_.at(static_cast<size_t>(k)); }
  /// alpha_bar of the previous (less noisy) step; 1 at k = 0.
  double alpha_bar_prev(int k) const { return k == 0 ? 1.0 : abar_.at(static_cast<size_t>(k - 1)); }
  /// Posterior q(x_{k-1} | x_k, x0) = N(c1 x0 + c2 x_k, beta~_k).
  double posterior_c1(int k) const;
  double posterior_c2(int k) const;
  double posterior_variance(int k) const;
  /// log beta~ with the k = 0 entry (which is 0) replaced by beta~_1, as guided-diffusion does.
  double posterior_log_variance_clipped(int k) const;
  /// sigma_k^2 of the reverse step for a fixed variance type (kLearnedRange: pass v).
  double sigma2(int k, VarianceType type, double v = 0.0) const;
  /// x0 = sqrt(1/abar) x_t - sqrt(1/abar - 1) eps, written as coefficients (a, b).
  double x0_from_eps_a(int k) const { return std::sqrt(1.0 / alpha_bar(k)); }
  double x0_from_eps_b(int k) const { return std::sqrt(1.0 / alpha_bar(k) - 1.0); }
  /// DDIM(eta) noise scale at step k.
  double ddim_sigma(int k, double eta) const;

  /// The kept original indices for a respacing spec (exposed for tests and tools).
  static std::vector<int64_t> space_timesteps(int num_timesteps, const std::string& spec);

 private:
  std::vector<double> betas_, abar_;
  std::vector<int64_t> map_;
};

}  // namespace v1
}  // namespace diffevent
