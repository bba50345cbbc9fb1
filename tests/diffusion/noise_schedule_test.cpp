#include "diffevent/diffusion/noise_schedule.hpp"

#include <cmath>

#include "test_util.hpp"

using namespace diffevent;

TEST(NoiseSchedule, LinearMatchesClosedFormValues) {
  NoiseSchedule s;
  ASSERT_EQ(s.num_steps(), 1000);
  EXPECT_DOUBLE_EQ(s.beta(0), 1e-4);
  EXPECT_NEAR(s.beta(999), 0.02, 1e-15);
  // abar_999 = prod(1 - beta) ~ 4.04e-5 (guided-diffusion's linear schedule).
  EXPECT_NEAR(s.alpha_bar(999), 4.04e-5, 0.01e-5);
  EXPECT_NEAR(std::sqrt(s.alpha_bar(500)), 0.279, 1e-3);
  EXPECT_NEAR(s.posterior_variance(1), 5.45e-5, 0.01e-5);
  EXPECT_EQ(s.posterior_variance(0), 0.0);
  EXPECT_DOUBLE_EQ(s.posterior_log_variance_clipped(0), std::log(s.posterior_variance(1)));
}

TEST(NoiseSchedule, PosteriorCoefficientsReproduceTheForwardProcess) {
  // For x_k = sqrt(abar_k) x0 (no noise), the posterior mean must be sqrt(abar_{k-1}) x0.
  NoiseSchedule s({BetaSchedule::kCosine, 1000, "50"});
  for (int k : {1, 10, 25, 49}) {
    const double x0 = 0.7, xk = std::sqrt(s.alpha_bar(k)) * x0;
    EXPECT_NEAR(s.posterior_c1(k) * x0 + s.posterior_c2(k) * xk,
                std::sqrt(s.alpha_bar_prev(k)) * x0, 1e-12);
    // And eps -> x0 inverts x_t = sqrt(abar) x0 + sqrt(1-abar) eps.
    const double eps = -0.3,
                 xt = std::sqrt(s.alpha_bar(k)) * x0 + std::sqrt(1 - s.alpha_bar(k)) * eps;
    EXPECT_NEAR(s.x0_from_eps_a(k) * xt - s.x0_from_eps_b(k) * eps, x0, 1e-12);
  }
  EXPECT_NEAR(NoiseSchedule({BetaSchedule::kCosine, 1000, ""}).beta(999), 0.999, 1e-12);
}

TEST(NoiseSchedule, RespacingFollowsGuidedDiffusionRules) {
  const auto a = NoiseSchedule::space_timesteps(1000, "100");
  ASSERT_EQ(a.size(), 100u);
  EXPECT_EQ(a.front(), 0);
  EXPECT_EQ(a[1], 10);
  EXPECT_EQ(a.back(), 999);
  const auto d = NoiseSchedule::space_timesteps(1000, "ddim25");
  ASSERT_EQ(d.size(), 25u);
  EXPECT_EQ(d[1], 40);
  EXPECT_EQ(d.back(), 960);
  EXPECT_EQ(NoiseSchedule::space_timesteps(1000, "ddim100").back(), 990);
  // ddim30 exists (stride 34 gives 30 steps); no stride gives 999.
  EXPECT_EQ(NoiseSchedule::space_timesteps(1000, "ddim30").size(), 30u);
  EXPECT_DIFFEVENT_ERROR(NoiseSchedule::space_timesteps(1000, "ddim999"),
                         ErrorCode::kInvalidArgument, "no integer stride");
  EXPECT_DIFFEVENT_ERROR(NoiseSchedule::space_timesteps(1000, "10,x"), ErrorCode::kInvalidArgument,
                         "not a step count");
  const auto sec = NoiseSchedule::space_timesteps(10, "2,3");
  EXPECT_EQ(sec, (std::vector<int64_t>{0, 4, 5, 7, 9}));
  // Respaced alpha_bar equals the base alpha_bar at the kept index; betas recomputed.
  NoiseSchedule base, spaced({BetaSchedule::kLinear, 1000, "100"});
  for (int k = 0; k < 100; ++k)
    EXPECT_DOUBLE_EQ(spaced.alpha_bar(k), base.alpha_bar(static_cast<int>(spaced.timestep(k))));
  EXPECT_NEAR(spaced.beta(99), 0.182, 1e-3);
}

TEST(NoiseSchedule, VarianceTypesAndDdim) {
  NoiseSchedule s({BetaSchedule::kLinear, 1000, "50"});
  EXPECT_DOUBLE_EQ(s.sigma2(10, VarianceType::kFixedSmall), s.posterior_variance(10));
  EXPECT_DOUBLE_EQ(s.sigma2(10, VarianceType::kFixedLarge), s.beta(10));
  EXPECT_DOUBLE_EQ(s.sigma2(0, VarianceType::kFixedLarge), s.posterior_variance(1));
  EXPECT_NEAR(s.sigma2(10, VarianceType::kLearnedRange, 1.0), s.beta(10), 1e-15);
  EXPECT_NEAR(s.sigma2(10, VarianceType::kLearnedRange, -1.0), s.posterior_variance(10), 1e-15);
  // DDIM with eta = 1 has the DDPM posterior variance.
  EXPECT_NEAR(s.ddim_sigma(10, 1.0) * s.ddim_sigma(10, 1.0), s.posterior_variance(10), 1e-12);
  EXPECT_EQ(s.ddim_sigma(10, 0.0), 0.0);
}
