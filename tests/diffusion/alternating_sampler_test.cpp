#include "diffevent/diffusion/alternating_sampler.hpp"

#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/diffusion/tensor_interop.hpp"
#include "diffevent/events/event_simulator.hpp"
#include "diffusion/tiling.hpp"
#include "test_util.hpp"

using namespace diffevent;

namespace {
std::shared_ptr<GaussianPrior> weak_prior(int c) {
  PriorMetadata m;
  m.channels = c;
  return std::make_shared<GaussianPrior>(at::zeros({c, 1, 1}), at::full({c, 1, 1}, 3.0), m);
}
// A grey Gaussian prior x0 ~ N(mu, sd^2) in [-1, 1] units.
std::shared_ptr<GaussianPrior> gaussian_prior(double mu, double sd) {
  PriorMetadata m;
  m.channels = 1;
  return std::make_shared<GaussianPrior>(at::full({1, 1, 1}, mu), at::full({1, 1, 1}, sd), m);
}
}  // namespace

TEST(AlternatingSampler, WeakPriorAndLargeDataWeightReproduceEdi) {
  // Research §3.8 oracle: uninformative prior, no residual, large s => y / f(E), clipped.
  at::manual_seed(0);
  const at::Tensor y = at::rand({1, 12, 17}) * 0.8f, E = at::rand({1, 12, 17}) + 0.6f;
  SamplerOptions o;
  o.steps = 20;
  o.s = 1e7;
  const SampleResult r = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E));
  const at::Tensor edi = (y / E).clamp(0, 1);
  EXPECT_LT((r.x - edi).abs().max().item<float>(), 2e-3);
  EXPECT_EQ(r.network_calls, 20);  // one x evaluation per step without a residual prior
}

TEST(AlternatingSampler, TwoNetworkCallsPerStepWithResidualPrior) {
  const at::Tensor y = at::rand({3, 8, 8}), E = at::ones({1, 8, 8});
  auto xp = weak_prior(3);
  auto rp = std::make_shared<GaussianPrior>(at::zeros({3, 1, 1}), at::full({3, 1, 1}, 0.1),
                                            xp->metadata());
  SamplerOptions o;
  o.steps = 25;
  const SampleResult r = AlternatingSampler(xp, rp, o).sample(EbrdModel(y, E));
  EXPECT_EQ(r.network_calls, 50);
  EXPECT_EQ(xp->calls() + rp->calls(), 50);
  EXPECT_EQ(rp->calls(), 25);
  // The data residual of the result is far below that of the initial noise.
  EbrdModel m(y, E);
  const double noise_res = m.data_term((at::randn({3, 8, 8}) + 1) / 2, at::zeros({3, 8, 8}));
  EXPECT_LT(m.data_term(r.x, r.r), 1e-3 * noise_res);
}

TEST(AlternatingSampler, SameSeedSameOutputDifferentSeedDifferentOutput) {
  const at::Tensor y = at::rand({1, 9, 11}), E = at::ones({1, 9, 11});
  SamplerOptions o;
  o.steps = 10;
  o.s = 1.0;  // weak data term: the sample keeps visible randomness
  const auto a = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E)).x;
  const auto b = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E)).x;
  EXPECT_TRUE(at::equal(a, b));
  o.seed = 1;
  const auto c = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E)).x;
  EXPECT_FALSE(at::equal(a, c));
}

TEST(AlternatingSampler, CancelsWithinOneStep) {
  const at::Tensor y = at::rand({1, 8, 8}), E = at::ones({1, 8, 8});
  SamplerOptions o;
  o.steps = 30;
  int seen = 0;
  o.progress = [&](int done, int total) {
    EXPECT_EQ(total, 30);
    seen = done;
    return done < 3;
  };
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E)),
                         ErrorCode::kCancelled, "cancelled at step 3 of 30");
  EXPECT_EQ(seen, 3);
  std::atomic<bool> stop{true};
  SamplerOptions o2;
  o2.cancel = &stop;
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o2).sample(EbrdModel(y, E)),
                         ErrorCode::kCancelled, "cancelled at step 1");
}

TEST(AlternatingSampler, GaussianPosteriorMeanMatchesClosedForm) {
  // Prior x0 ~ N(mu, sd^2) (X = (x0 + 1)/2 ~ N((mu+1)/2, sd^2/4)); data y = X + n with
  // likelihood exp(-s (y - X)^2) = N(y; X, 1/(2s)). Posterior mean of X is the precision-
  // weighted average; over many pixels and seeds the sampler's mean must match it.
  const double mu = 0.2, sd = 0.3, s = 8.0;
  auto prior = gaussian_prior(mu, sd);
  const at::Tensor y = at::full({1, 32, 32}, 0.9f);
  const double vX = sd * sd / 4, mX = (mu + 1) / 2, vy = 1 / (2 * s);
  const double post_mean = (mX / vX + 0.9 / vy) / (1 / vX + 1 / vy);
  const double post_var = 1 / (1 / vX + 1 / vy);
  SamplerOptions o;
  o.steps = 100;
  o.s = s;
  o.lambda_tv = 0;  // the closed form is the Gaussian posterior: no TV term
  o.clip = false;
  auto moments = [&](const SamplerOptions& opt) {
    double sum = 0, sum2 = 0;
    int64_t n = 0;
    for (uint64_t seed = 0; seed < 4; ++seed) {
      SamplerOptions so = opt;
      so.seed = seed;
      const at::Tensor x = AlternatingSampler(prior, nullptr, so)
                               .sample(EbrdModel(y, at::ones({1, 32, 32})))
                               .x.to(at::kDouble);
      sum += x.sum().item<double>();
      sum2 += x.pow(2).sum().item<double>();
      n += x.numel();
    }
    const double mean = sum / n;
    return std::pair<double, double>{mean, sum2 / n - mean * mean};
  };
  // Fixed-small variance: the mean matches; the spread under-disperses (ancestral sampling
  // with beta~ ignores the clean prediction's own uncertainty).
  const auto [mean, var] = moments(o);
  EXPECT_NEAR(mean, post_mean, 0.02) << "posterior mean " << post_mean;
  EXPECT_GT(var, 0.5 * post_var);
  EXPECT_LT(var, 1.0 * post_var);
  // Analytic variance (beta~ + c1^2 Var[x0 | x_t, y]) samples the Gaussian posterior exactly:
  // mean and variance match over 4096 samples.
  o.analytic_variance = true;
  o.min_prior_variance = 1e-9;
  for (bool fused : {true, false}) {
    o.fused_kernel = fused;
    const auto [m2, v2] = moments(o);
    RecordProperty(fused ? "analytic_var_fused" : "analytic_var_aten", std::to_string(v2));
    EXPECT_NEAR(m2, post_mean, 0.01) << "posterior mean " << post_mean;
    EXPECT_NEAR(v2, post_var, 0.1 * post_var) << "posterior variance " << post_var;
  }
  RecordProperty("posterior_var", std::to_string(post_var));
  RecordProperty("sample_var_fixed_small", std::to_string(var));
}

TEST(AlternatingSampler, DataWeightsSetEachPixelsPosterior) {
  // Given the Gaussian prior and data of the test above, with data weights 1 on the left half
  // and 6 on the right: the likelihood there is exp(-s w (y - X)^2) = N(y; X, 1/(2 s w)).
  const double mu = 0.2, sd = 0.3, s = 8.0;
  auto prior = gaussian_prior(mu, sd);
  const at::Tensor y = at::full({1, 32, 32}, 0.9f);
  at::Tensor w = at::ones({1, 32, 32});
  w.narrow(2, 16, 16).fill_(6.0);
  const double vX = sd * sd / 4, mX = (mu + 1) / 2;
  auto post_mean = [&](double wi) { return (mX / vX + 0.9 * 2 * s * wi) / (1 / vX + 2 * s * wi); };
  SamplerOptions o;
  o.steps = 100;
  o.s = s;
  o.lambda_tv = 0;
  o.clip = false;
  o.analytic_variance = true;
  o.min_prior_variance = 1e-9;
  EbrdModel model(y, at::ones({1, 32, 32}));
  model.set_data_weight(w);
  // When sampled with 4 seeds, then each half's mean is its own posterior mean (0.5 and 0.04
  // apart from the unweighted one), and the weighted model's data term counts w.
  double left = 0, right = 0;
  for (uint64_t seed = 0; seed < 4; ++seed) {
    o.seed = seed;
    const at::Tensor x = AlternatingSampler(prior, nullptr, o).sample(model).x.to(at::kDouble);
    left += x.narrow(2, 0, 16).mean().item<double>() / 4;
    right += x.narrow(2, 16, 16).mean().item<double>() / 4;
  }
  EXPECT_NEAR(left, post_mean(1), 0.01);
  EXPECT_NEAR(right, post_mean(6), 0.01);
  EXPECT_GT(post_mean(6) - post_mean(1), 0.04);
  const at::Tensor x0 = at::zeros({1, 32, 32});
  EXPECT_NEAR(model.data_term(x0, x0), 0.81 * (16 * 32 * 1 + 16 * 32 * 6), 1e-2);
}

TEST(AlternatingSampler, GradientGuidanceModesPullTowardTheData) {
  // The slides' sigma_t^2 weighting and GDP's constant weighting: with a moderate s both end
  // closer to the data than the same run with s = 0 (and stay finite).
  at::manual_seed(2);
  const at::Tensor y = at::rand({1, 16, 16}) * 0.6f + 0.2f, E = at::ones({1, 16, 16});
  EbrdModel m(y, E);
  for (GuidanceMode g : {GuidanceMode::kGradientSigma2, GuidanceMode::kGradientConstant}) {
    SamplerOptions o;
    o.steps = 50;
    o.guidance = g;
    o.lambda_tv = 0;  // the data term alone
    o.s = g == GuidanceMode::kGradientConstant
              ? 1.0
              : 100.0;  // constant weight: GDP scale; sigma^2 weight: larger
    const SampleResult guided = AlternatingSampler(weak_prior(1), nullptr, o).sample(m);
    o.s = 0;
    const SampleResult free = AlternatingSampler(weak_prior(1), nullptr, o).sample(m);
    EXPECT_TRUE(at::isfinite(guided.x).all().item<bool>());
    EXPECT_LT(m.data_term(guided.x, guided.r), 0.5 * m.data_term(free.x, free.r))
        << static_cast<int>(g);
  }
}

TEST(AlternatingSampler, RespacingSpecSetsTheSteps) {
  auto prior = weak_prior(1);
  SamplerOptions o;
  o.respacing = "ddim25";
  const SampleResult r = AlternatingSampler(prior, nullptr, o)
                             .sample(EbrdModel(at::rand({1, 5, 5}), at::ones({1, 5, 5})));
  EXPECT_EQ(r.network_calls, 25);
  o.respacing = "ddim999";
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(prior, nullptr, o), ErrorCode::kInvalidArgument,
                         "no integer stride");
}

TEST(AlternatingSampler, WarmStartBeginsAtTheForwardDiffusedEdiEstimate) {
  // Given y and E, no data term (s = 0) and an uninformative prior: where sampling starts
  // decides what comes out.
  at::manual_seed(3);
  const at::Tensor y = at::rand({1, 16, 16}) * 0.5f + 0.2f, E = at::rand({1, 16, 16}) * 0.5f + 0.8f;
  const at::Tensor edi = (y / E).clamp(0, 1);
  SamplerOptions o;
  o.steps = 1000;
  o.s = 0;
  o.lambda_tv = 0;
  // When it starts at 0.002 of the schedule: only timesteps 1 and 0 run (2 network calls), from
  // x_1 = sqrt(abar_1) (2 edi - 1) + sqrt(1 - abar_1) z, so the result stays within the
  // forward noise of timestep 1 (std 0.017 in [-1, 1], 0.009 in [0, 1]) of the EDI estimate.
  o.start = 0.002;
  const SampleResult warm = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E));
  EXPECT_EQ(warm.network_calls, 2);
  EXPECT_LT((warm.x - edi).abs().mean().item<float>(), 0.02);
  // From pure noise (start 1) the same settings give a sample of the prior, unrelated to y.
  o.start = 1.0;
  o.steps = 20;
  const SampleResult cold = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E));
  EXPECT_GT((cold.x - edi).abs().mean().item<float>(), 0.2);
  // With the data term back (s large) a warm start of 100 spaced steps from 0.1 runs 10 steps
  // (timesteps 0, 10, ..., 90), one call each, and still solves the data (EDI, as from noise).
  o.s = 1e7;
  o.steps = 100;
  o.start = 0.1;
  const SampleResult data = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E));
  EXPECT_EQ(data.network_calls, 10);
  EXPECT_LT((data.x - edi).abs().max().item<float>(), 2e-3);
}

TEST(Deblur, ThresholdNoiseWeightsFollowTheModel) {
  // Given sensitivities 0, 0.5, 2 and 100 at y = 0.5 (and y = 0.001 at the last pixel),
  // c = 0.2 and threshold_sigma = 0.05: rel = min(sqrt((c/4)^2 + (0.4 c min(S,1))^2 +
  // (0.05 S)^2), 0.5), sigma = max(y, 0.01) rel, w = (0.01 / sigma)^2.
  Image S(1, 1, 5);
  const float sv[5] = {0.0f, 0.5f, 2.0f, 100.0f, 0.0f};
  for (int i = 0; i < 5; ++i) S.at(0, 0, i) = sv[i];
  at::Tensor y = at::full({1, 1, 5}, 0.5f);
  y[0][0][4] = 0.001f;
  const at::Tensor w = threshold_noise_weights(y, S, 0.2, 0.05);
  auto expected = [](double Si, double yi) {
    const double q = 0.05, q2 = 0.08 * std::min(Si, 1.0), m = 0.05 * Si;
    const double rel = std::min(std::sqrt(q * q + q2 * q2 + m * m), 0.5);
    return std::pow(0.01 / (std::max(yi, 0.01) * rel), 2);
  };
  for (int i = 0; i < 4; ++i)
    EXPECT_NEAR(w[0][0][i].item<double>(), expected(sv[i], 0.5), 1e-5 * expected(sv[i], 0.5)) << i;
  EXPECT_NEAR(w[0][0][4].item<double>(), expected(0.0, 0.001), 1e-5 * expected(0.0, 0.001));
  EXPECT_NEAR(w[0][0][3].item<double>(), std::pow(0.01 / (0.5 * 0.5), 2),
              1e-8);  // clamped at rel = 1/2
  // RGB y: the channel mean sets sigma. Bad inputs are named.
  const at::Tensor w3 =
      threshold_noise_weights(at::stack({y[0], y[0] * 0, y[0] * 2}), S, 0.2, 0.05);
  EXPECT_TRUE(at::allclose(w3, w));
  EXPECT_DIFFEVENT_ERROR(threshold_noise_weights(at::ones({1, 2, 5}), S, 0.2, 0.05),
                         ErrorCode::kInvalidArgument, "the sensitivity is 1x1x5");
  EXPECT_DIFFEVENT_ERROR(threshold_noise_weights(y, S, 0.0, 0.05), ErrorCode::kInvalidArgument,
                         "c = 0 must be > 0");
  EXPECT_DIFFEVENT_ERROR(threshold_noise_weights(y, S, 0.2, -1), ErrorCode::kInvalidArgument,
                         "threshold_sigma = -1 >= 0");
}

TEST(Deblur, DefaultConfigurationRunsTheFusedKernels) {
  // Given the default options (threshold noise model on: per-pixel data weights), a frame with
  // events and a residual prior: every sampler step is guided by the fused kernels, never by
  // the ATen composition.
  Image blurry(1, 16, 20);
  for (int64_t i = 0; i < 16; ++i)
    for (int64_t j = 0; j < 20; ++j) blurry.at(0, i, j) = 0.2f + 0.03f * static_cast<float>(j);
  EventStream ev(20, 16);
  for (int k = 0; k < 40; ++k) ev.push_back(25 * k, k % 20, k % 16, k % 3 != 0 ? 1 : -1);
  DeblurOptions o;
  ASSERT_GT(o.threshold_sigma, 0.0);
  auto rp = std::make_shared<GaussianPrior>(at::zeros({1, 1, 1}), at::full({1, 1, 1}, 0.2),
                                            PriorMetadata{});
  const DeblurResult r = deblur(blurry, ev, {0, 1000}, nullptr, rp, o);
  EXPECT_GT(r.network_calls, 0);
  EXPECT_EQ(r.fused_steps, r.network_calls);  // the default preset runs no r prior: one call a step
  o.residual_prior = true;
  const DeblurResult with_r = deblur(blurry, ev, {0, 1000}, nullptr, rp, o);
  EXPECT_EQ(with_r.network_calls, 2 * r.network_calls);
  EXPECT_EQ(with_r.fused_steps, r.fused_steps);  // x and r: two calls a step, every step fused
}

TEST(Deblur, WarmStartScalesWithTheThreshold) {
  // Linear schedule, T = 1000: the start fraction maps to a timestep whose noise-to-signal
  // ratio sqrt((1 - abar) / abar) is c / start_threshold times the reference one.
  const PriorMetadata meta;
  const NoiseSchedule base({meta.schedule, meta.num_timesteps, ""});
  const auto ratio = [&](double start) {
    const int t = static_cast<int>(std::floor(start * 999));
    return std::sqrt((1 - base.alpha_bar(t)) / base.alpha_bar(t));
  };
  DeblurOptions o;
  o.sampler.start = 0.02;
  o.start_threshold = 0.2;
  o.start_threshold_max = 0;                              // no limit
  EXPECT_EQ(threshold_scaled_start(o, 0.2, meta), 0.02);  // the reference, bit for bit
  for (double c : {0.1, 0.3, 0.6, 1.0}) {
    const double start = threshold_scaled_start(o, c, meta);
    const double want = ratio(0.02) * c / 0.2;
    EXPECT_LE(ratio(start), want) << c;
    EXPECT_GT(ratio(start + 1.0 / 999), want) << c;  // the last timestep below the target
    EXPECT_EQ(start > 0.02, c > 0.2) << c;
  }
  // Three times the threshold: the ratio at the start is about three times the reference one.
  EXPECT_NEAR(ratio(threshold_scaled_start(o, 0.6, meta)) / ratio(0.02), 3.0, 0.1);
  o.start_threshold = 0;  // off: start as given
  EXPECT_EQ(threshold_scaled_start(o, 0.6, meta), 0.02);
  o.start_threshold = 0.2;
  o.sampler.start = 1;  // pure noise stays pure noise
  EXPECT_EQ(threshold_scaled_start(o, 0.6, meta), 1.0);
  EXPECT_THROW(threshold_scaled_start(o, 0.0, meta), Error);
  o.sampler.start = 0.02;
  // start_threshold_max: thresholds above it start where it does; below it nothing changes,
  // and a limit below start_threshold acts as start_threshold.
  DeblurOptions capped = o;
  capped.start_threshold_max = 0.6;
  EXPECT_EQ(threshold_scaled_start(capped, 2.5, meta), threshold_scaled_start(o, 0.6, meta));
  EXPECT_EQ(threshold_scaled_start(capped, 0.4, meta), threshold_scaled_start(o, 0.4, meta));
  EXPECT_GT(threshold_scaled_start(o, 2.5, meta), threshold_scaled_start(capped, 2.5, meta));
  capped.start_threshold_max = 0.1;
  EXPECT_EQ(threshold_scaled_start(capped, 0.6, meta), 0.02);
  EXPECT_EQ(threshold_scaled_start(capped, 0.1, meta), threshold_scaled_start(o, 0.1, meta));
  EXPECT_EQ(DeblurOptions().start_threshold_max, 1.0);  // the balanced preset's limit

  // deblur() runs the scaled start: steps 0, 10, 20, ... of 100; at c = 0.6 more of them.
  Image blurry(1, 8, 8, 0.4f);
  EventStream ev(8, 8);
  ev.push_back(100, 1, 1, 1);
  DeblurOptions d;
  d.thresholds = Thresholds::symmetric(0.2);
  const DeblurResult at_ref = deblur(blurry, ev, {0, 1000}, nullptr, nullptr, d);
  d.thresholds = Thresholds::symmetric(0.6);
  const DeblurResult at_06 = deblur(blurry, ev, {0, 1000}, nullptr, nullptr, d);
  EXPECT_EQ(at_ref.start, d.sampler.start);
  EXPECT_EQ(at_ref.network_calls, 2);
  EXPECT_EQ(at_06.start, threshold_scaled_start(d, 0.6, PriorMetadata{}));
  EXPECT_GT(at_06.network_calls, at_ref.network_calls);
  d.thresholds = Thresholds::symmetric(1.0);  // the default limit
  const int64_t at_limit = deblur(blurry, ev, {0, 1000}, nullptr, nullptr, d).network_calls;
  EXPECT_GT(at_limit, at_06.network_calls);
  d.thresholds = Thresholds::symmetric(2.5);  // beyond it: the limit's calls
  EXPECT_EQ(deblur(blurry, ev, {0, 1000}, nullptr, nullptr, d).network_calls, at_limit);
  d.start_threshold_max = 0;
  EXPECT_GT(deblur(blurry, ev, {0, 1000}, nullptr, nullptr, d).network_calls, at_limit);
  d.start_threshold = 0;
  EXPECT_EQ(deblur(blurry, ev, {0, 1000}, nullptr, nullptr, d).network_calls, 2);
}

TEST(Deblur, AveragingPosteriorSamplesShrinksTheirSpreadAtTheSameCalls) {
  // Given a flat frame without events and no data term (s = 0): each sample is a draw of the
  // analytic prior; the average of N draws has about 1/sqrt(N) of one draw's spread.
  const Image blurry = [] {
    Image im(1, 24, 24);
    for (float& v : im.values()) v = 0.5f;
    return im;
  }();
  const EventStream none(24, 24);
  DeblurOptions o;
  o.sampler.steps = 10;
  o.sampler.start = 1.0;  // from noise: a warm start would begin at the flat frame itself
  o.threshold_sigma = 0;
  o.sampler.s = 0;
  o.sampler.lambda_tv = 0;
  o.sampler.antithetic = false;  // independent draws
  auto spread = [&](int n, int64_t* calls) {
    o.samples = n;
    const DeblurResult r = deblur(blurry, none, {0, 1000}, nullptr, nullptr, o);
    *calls = r.network_calls;
    const at::Tensor x = image_to_tensor(r.sharp).to(at::kDouble);
    return (x - x.mean()).pow(2).mean().sqrt().item<double>();
  };
  int64_t c1 = 0, c16 = 0;
  const double one = spread(1, &c1), sixteen = spread(16, &c16);
  EXPECT_EQ(c1, c16);  // one batch: the same network calls
  EXPECT_GT(one, 0.1);
  EXPECT_NEAR(sixteen / one, 0.25, 0.08);
  // Antithetic pairs: with the analytic prior and no data term the sampler is linear in its
  // noise (up to the clamp), so each pair's average is the noise-free path and the spread of
  // the mean nearly vanishes.
  o.sampler.antithetic = true;
  int64_t c16a = 0;
  const double sixteen_antithetic = spread(16, &c16a);
  EXPECT_LT(sixteen_antithetic, 0.1 * sixteen);
  // Bad counts and sigmas are named.
  o.samples = 0;
  EXPECT_DIFFEVENT_ERROR(deblur(blurry, none, {0, 1000}, nullptr, nullptr, o),
                         ErrorCode::kInvalidArgument, "samples must be in [1, 64], got 0");
  o.samples = 1;
  o.threshold_sigma = std::nan("");
  EXPECT_DIFFEVENT_ERROR(deblur(blurry, none, {0, 1000}, nullptr, nullptr, o),
                         ErrorCode::kInvalidArgument, "threshold_sigma must be finite and >= 0");
  o.threshold_sigma = 0.01;
  o.start_threshold = -0.2;
  EXPECT_DIFFEVENT_ERROR(deblur(blurry, none, {0, 1000}, nullptr, nullptr, o),
                         ErrorCode::kInvalidArgument,
                         "start_threshold must be finite and >= 0, got -0.2");
  o.start_threshold = 0.2;
  o.start_threshold_max = std::numeric_limits<double>::infinity();
  EXPECT_DIFFEVENT_ERROR(deblur(blurry, none, {0, 1000}, nullptr, nullptr, o),
                         ErrorCode::kInvalidArgument,
                         "start_threshold_max must be finite and >= 0, got inf");
}

TEST(Deblur, ReferenceTimeGivesTheSharpFrameAtThatTime) {
  // Given a textured frame blurred by 6 px of motion, and the data term dominating (s = 1e7,
  // uniform weights, no enhancer): deblur at tau agrees with EDI at the same tau, for the
  // default (mid-exposure) and for a quarter of the exposure, and the two frames differ.
  Image photo(1, 24, 24);
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 24; ++x)
      photo.at(0, y, x) = 0.3f + 0.2f * std::sin(0.7f * x) * std::cos(0.4f * y);
  SimulatorOptions so;
  so.exposure_us = 8000;
  CameraMotion m;
  m.dx_px = 6;
  const SimulationResult sim = EventSimulator(so).simulate_motion(photo, m);
  ASSERT_GT(sim.events.size(), 100u);
  DeblurOptions o;
  o.threshold_sigma = 0;
  o.enhancer.enhancer = Enhancer::kIdentity;
  o.interpolation = Interpolation::kStep;  // EDI's E
  o.sampler.s = 1e7;
  o.sampler.steps = 20;
  o.samples = 1;
  for (const std::optional<TimestampUs> tau :
       {std::optional<TimestampUs>{}, std::optional<TimestampUs>{2000}}) {
    o.tau_us = tau;
    EdiOptions eo;
    eo.tau_us = tau;
    const at::Tensor edi = image_to_tensor(Edi(eo).deblur(sim.blurry, sim.events, sim.exposure));
    const at::Tensor got =
        image_to_tensor(deblur(sim.blurry, sim.events, sim.exposure, nullptr, nullptr, o).sharp);
    EXPECT_LT((got - edi).abs().max().item<float>(), 5e-3) << (tau ? *tau : -1);
  }
  // The ramp integral (the default): the same, against y / E with E from Interpolation::kRamp.
  o.interpolation = Interpolation::kRamp;
  o.tau_us.reset();
  IntegratorOptions io = IntegratorOptions::with(o.thresholds);
  io.interpolation = Interpolation::kRamp;
  const at::Tensor ramp_edi =
      image_to_tensor(sim.blurry) /
      image_to_tensor(EventIntegrator(io).double_integral(sim.events, 0, 8000)).clamp_min(1e-3);
  const at::Tensor ramp =
      image_to_tensor(deblur(sim.blurry, sim.events, sim.exposure, nullptr, nullptr, o).sharp);
  EXPECT_LT((ramp - ramp_edi.clamp(0, 1)).abs().max().item<float>(), 5e-3);
  EdiOptions mid, quarter;
  quarter.tau_us = 2000;
  const at::Tensor a = image_to_tensor(Edi(mid).deblur(sim.blurry, sim.events, sim.exposure));
  const at::Tensor b = image_to_tensor(Edi(quarter).deblur(sim.blurry, sim.events, sim.exposure));
  EXPECT_GT((a - b).abs().max().item<float>(), 0.05);
  // A reference time outside the exposure is named.
  o.tau_us = 9000;
  EXPECT_DIFFEVENT_ERROR(deblur(sim.blurry, sim.events, sim.exposure, nullptr, nullptr, o),
                         ErrorCode::kOutOfRange,
                         "reference time tau = 9000 us lies outside the exposure [0, 8000] us");
}

TEST(AlternatingSampler, ValidatesOptions) {
  SamplerOptions o;
  o.steps = 0;
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o), ErrorCode::kInvalidArgument,
                         "steps = 0");
  o.steps = 10;
  for (double bad : {0.0, -0.5, 1.5, std::nan("")}) {
    o.start = bad;
    EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o),
                           ErrorCode::kInvalidArgument, "must be in (0, 1]");
  }
  o.start = 1.0;
  // Weights that would overflow the guidance (s = 2.7e307 once gave NaN with success: found by
  // fuzz_deblur_params), a DDIM eta beyond 1 and a vanishing variance floor are named.
  o.s = 2.7e307;
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o), ErrorCode::kInvalidArgument,
                         "the weights s = 2.7e+307");
  o.s = 7500;
  o.lambda_l1 = std::numeric_limits<double>::infinity();
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o), ErrorCode::kInvalidArgument,
                         "must be in [0, 1e+09]");
  o.lambda_l1 = 3000;
  o.eta = 1.5;
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o), ErrorCode::kInvalidArgument,
                         "eta = 1.5 must be in [0, 1]");
  o.eta = 0;
  o.min_prior_variance = 1e-300;
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o), ErrorCode::kInvalidArgument,
                         "min_prior_variance = 1e-300 must be in [1e-12, 1000]");
  o.min_prior_variance = 1e-4;
  o.tile_size = 983788726;
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o), ErrorCode::kInvalidArgument,
                         "[8, 65536]");
  o.tile_size = 0;
  EXPECT_NO_THROW(AlternatingSampler(weak_prior(1), nullptr, o));
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(nullptr, nullptr), ErrorCode::kInvalidArgument,
                         "x prior is missing");
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr)
                             .sample(EbrdModel(at::rand({3, 4, 4}), at::ones({1, 4, 4}))),
                         ErrorCode::kInvalidArgument, "1 channels, the image 3");
}

TEST(DiffusionPrior, MetadataParsingAndMissingFiles) {
  const auto m = parse_prior_metadata(
      R"({"channels": 1, "schedule": "cosine", "num_timesteps": 500, "learned_sigma": true, "size_multiple": 8})");
  EXPECT_EQ(m.channels, 1);
  EXPECT_EQ(m.schedule, BetaSchedule::kCosine);
  EXPECT_EQ(m.num_timesteps, 500);
  EXPECT_TRUE(m.learned_sigma);
  EXPECT_EQ(m.size_multiple, 8);
  EXPECT_EQ(m.native_size, 0);  // no "image_size": unknown
  EXPECT_EQ(
      parse_prior_metadata(R"({"channels": 1, "config": {"image_size": 64, "in_channels": 1}})")
          .native_size,
      64);
  // "attention": where the network attends; without the field, over the whole frame.
  EXPECT_TRUE(parse_prior_metadata(R"({"channels": 1})").global_attention);
  EXPECT_TRUE(parse_prior_metadata(R"({"channels": 1, "attention": "global"})").global_attention);
  EXPECT_FALSE(parse_prior_metadata(R"({"channels": 1, "attention": "window"})").global_attention);
  EXPECT_FALSE(parse_prior_metadata(R"({"channels": 1, "attention": "none"})").global_attention);
  EXPECT_DIFFEVENT_ERROR(parse_prior_metadata(R"({"channels": 1, "attention": "local"})"),
                         ErrorCode::kFormatError,
                         "attention 'local' (expected global, window or none)");
  EXPECT_DIFFEVENT_ERROR(parse_prior_metadata(R"({"config": {"image_size": -3}})"),
                         ErrorCode::kFormatError, "image_size -3");
  EXPECT_DIFFEVENT_ERROR(parse_prior_metadata(R"({"schedule": "quadratic"})"),
                         ErrorCode::kFormatError, "quadratic");
  const auto r = parse_prior_metadata(R"({"channels": 3, "data_range": [0, 1]})");
  EXPECT_EQ(r.data_min, 0.0);
  EXPECT_EQ(r.data_max, 1.0);
  auto unit = std::make_shared<GaussianPrior>(at::zeros({3, 1, 1}), at::ones({3, 1, 1}), r);
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(unit, nullptr), ErrorCode::kUnsupported,
                         "expects [-1, 1]");
  EXPECT_DIFFEVENT_ERROR(load_prior("/nonexistent/model.pt"), ErrorCode::kIoError, "no such file");
  EXPECT_DIFFEVENT_ERROR(load_prior("/nonexistent/model.pt2"), ErrorCode::kUnsupported,
                         "AOTInductor");
  test::TempDir dir;
  std::FILE* f = std::fopen(dir.file("junk.pt").c_str(), "wb");
  std::fputs("not a zip", f);
  std::fclose(f);
  EXPECT_DIFFEVENT_ERROR(load_prior(dir.file("junk.pt")), ErrorCode::kFormatError,
                         "not a loadable TorchScript archive");
}

TEST(AlternatingSampler, PadsToTheSizeMultipleAndCropsBack) {
  // A prior that insists on multiples of 8 sees 16x24 inputs for a 13x17 image.
  struct Multiple8 : GaussianPrior {
    using GaussianPrior::GaussianPrior;
    PriorOutput predict(const at::Tensor& x, const at::Tensor& t) override {
      EXPECT_EQ(x.size(2) % 8, 0);
      EXPECT_EQ(x.size(3) % 8, 0);
      return GaussianPrior::predict(x, t);
    }
  };
  PriorMetadata m;
  m.channels = 1;
  m.size_multiple = 8;
  auto prior = std::make_shared<Multiple8>(at::zeros({1, 1, 1}), at::full({1, 1, 1}, 3.0), m);
  const at::Tensor y = at::rand({1, 13, 17}) * 0.8f, E = at::rand({1, 13, 17}) + 0.6f;
  SamplerOptions o;
  o.steps = 10;
  o.s = 1e7;
  const SampleResult r = AlternatingSampler(prior, nullptr, o).sample(EbrdModel(y, E));
  ASSERT_EQ(r.x.sizes(), y.sizes());
  EXPECT_LT((r.x - (y / E).clamp(0, 1)).abs().max().item<float>(), 2e-3);
}

TEST(DiffusionPrior, LoadsTorchScriptNetworksWithMetadata) {
  const std::string dir = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/";
  auto plain = load_prior(dir + "tiny_prior.pt");
  EXPECT_EQ(plain->metadata().channels, 1);
  EXPECT_EQ(plain->metadata().size_multiple, 4);
  EXPECT_FALSE(plain->metadata().learned_sigma);
  const at::Tensor x = at::randn({2, 1, 8, 12});
  const PriorOutput a = plain->predict(x, at::full({2}, 500, at::kLong));
  EXPECT_EQ(a.eps.sizes(), x.sizes());
  EXPECT_FALSE(a.v.defined());
  auto sigma = load_prior(dir + "tiny_prior_sigma.pt");
  EXPECT_TRUE(sigma->metadata().learned_sigma);
  const PriorOutput b = sigma->predict(x, at::full({2}, 10, at::kLong));
  EXPECT_EQ(b.v.sizes(), x.sizes());
  EXPECT_LE(b.v.abs().max().item<float>(), 1.0f);
  // Caller overrides win over the archive's metadata.
  TorchScriptPriorOptions o;
  o.metadata_override = std::make_shared<PriorMetadata>(plain->metadata());
  o.metadata_override->size_multiple = 2;
  EXPECT_EQ(load_prior(dir + "tiny_prior.pt", o)->metadata().size_multiple, 2);
  if (!at::globalContext().hasCUDA()) {
    o.device = "cuda:0";
    EXPECT_DIFFEVENT_ERROR(load_prior(dir + "tiny_prior.pt", o), ErrorCode::kUnsupported,
                           "no CUDA");
  }
}

TEST(DiffusionPrior, NonFiniteNetworkOutputIsAnErrorNamingThePrior) {
  // Given a TorchScript prior whose prediction is NaN (written here, with its metadata)
  const std::string path = testing::TempDir() + "nan_prior.pt";
  torch::jit::Module m("NanPrior");
  m.define(R"(
def forward(self, x, t):
    return x * float('nan')
)");
  m.save(path, {{"metadata.json", R"({"channels": 1, "size_multiple": 1})"}});
  for (bool optimize : {true, false}) {
    TorchScriptPriorOptions o;
    o.optimize = optimize;
    auto prior = load_prior(path, o);
    // When it is asked for a prediction, then the error names the prior and the timestep
    EXPECT_DIFFEVENT_ERROR(prior->predict(at::randn({1, 1, 4, 4}), at::full({1}, 17, at::kLong)),
                           ErrorCode::kFormatError,
                           "nan_prior.pt' returned NaN or infinite values (at timestep 17)");
  }
  std::remove(path.c_str());
}

TEST(AlternatingSampler, RunsWithTorchScriptPriorsAtAnySize) {
  const std::string dir = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/";
  std::shared_ptr<DiffusionPrior> xp = load_prior(dir + "tiny_prior_sigma.pt");
  std::shared_ptr<DiffusionPrior> rp = load_prior(dir + "tiny_prior.pt");
  const at::Tensor y = at::rand({1, 10, 13}) * 0.8f, E = at::rand({1, 10, 13}) + 0.6f;
  SamplerOptions o;
  o.steps = 8;
  o.s_r = 1e4;         // data weights large against the weak L1 term: r follows the data too
  o.lambda_l1 = 1e-3;  // (the defaults hold r near zero instead, docs/priors.md)
  const SampleResult r = AlternatingSampler(xp, rp, o).sample(EbrdModel(y, E));
  EXPECT_EQ(r.x.sizes(), y.sizes());
  EXPECT_EQ(r.network_calls, 16);
  EXPECT_TRUE(at::isfinite(r.x).all().item<bool>());
  // With a large data weight the result is data-consistent whatever the (random) network says.
  EbrdModel m(y, E);
  EXPECT_LT(m.residual(r.x, r.r).abs().max().item<float>(), 0.05f);
}

TEST(AlternatingSampler, FusedKernelMatchesAtenCompositionAtOddSizes) {
  // The one-pass CPU kernel against the ATen composition of the same formulas, with and
  // without TV, a residual prior, learned sigma and per-pixel data weights, at 1x1, 7x13 and
  // RGB sizes.
  const std::string dir = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/";
  for (auto hw : {std::pair<int, int>{1, 1}, std::pair<int, int>{7, 13}}) {
    for (int c : {1, 3}) {
      for (double tv : {0.0, 100.0}) {
        for (int variant = 0; variant < 3;
             ++variant) {  // uniform, learned sigma, per-pixel weights
          const bool learned = variant == 1, weighted = variant == 2;
          if (learned && c != 1) continue;  // the test network is single-channel
          SCOPED_TRACE(
              fmt::format("{}x{} C={} tv={} variant={}", hw.first, hw.second, c, tv, variant));
          std::shared_ptr<DiffusionPrior> xp;
          if (learned) {
            TorchScriptPriorOptions po;
            po.metadata_override = std::make_shared<PriorMetadata>();
            po.metadata_override->channels = 1;
            po.metadata_override->learned_sigma = true;
            xp = load_prior(dir + "tiny_prior_sigma.pt", po);
          } else {
            xp = weak_prior(c);
          }
          PriorMetadata rm = xp->metadata();
          rm.learned_sigma = false;
          auto rp =
              std::make_shared<GaussianPrior>(at::zeros({c, 1, 1}), at::full({c, 1, 1}, 0.2), rm);
          at::manual_seed(7);
          const at::Tensor y = at::rand({c, hw.first, hw.second}),
                           E = at::rand({1, hw.first, hw.second}) + 0.5f;
          SamplerOptions o;
          o.steps = 12;
          o.s = 50;
          o.lambda_tv = tv;
          EbrdModel model(y, E);
          if (weighted) model.set_data_weight(at::rand({1, hw.first, hw.second}) * 3);
          o.fused_kernel = true;
          const SampleResult a = AlternatingSampler(xp, rp, o).sample(model);
          o.fused_kernel = false;
          const SampleResult b = AlternatingSampler(xp, rp, o).sample(model);
          EXPECT_EQ(a.fused_steps, 12);
          EXPECT_EQ(b.fused_steps, 0);
          EXPECT_LT((a.x - b.x).abs().max().item<float>(), 1e-4);
          EXPECT_LT((a.r - b.r).abs().max().item<float>(), 1e-4);
        }
      }
    }
  }
}

TEST(AlternatingSampler, TiledEvaluationIsExactForPixelwisePriors) {
  at::manual_seed(3);
  const at::Tensor y = at::rand({1, 40, 52}) * 0.8f, E = at::rand({1, 40, 52}) + 0.6f;
  SamplerOptions o;
  o.steps = 6;
  o.s = 20;
  // A pixelwise prior (Gaussian): tiled evaluation must equal whole-image evaluation.
  const SampleResult whole = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E));
  o.tile_above_pixels = 100;
  o.tile_size = 16;
  o.tile_stride = 10;
  const SampleResult tiled = AlternatingSampler(weak_prior(1), nullptr, o).sample(EbrdModel(y, E));
  EXPECT_LT((whole.x - tiled.x).abs().max().item<float>(), 1e-5);
}

TEST(AlternatingSampler, AutomaticTilesFollowThePriorsTrainingSize) {
  // Given priors trained at 64 and 256 pixels, one of unknown size and one with an odd size
  PriorMetadata m;
  m.size_multiple = 4;
  const SamplerOptions automatic;
  auto geometry = [&](int native, int multiple) {
    m.native_size = native;
    m.size_multiple = multiple;
    return resolve_tiles(automatic, m);
  };
  // Then tiles are twice the training size (64 to 256), stride 5/8, tiling above 4 tiles
  TileGeometry g = geometry(64, 4);
  EXPECT_EQ(g.size, 128);
  EXPECT_EQ(g.stride, 80);
  EXPECT_EQ(g.above_pixels, 4 * 128 * 128);
  g = geometry(256, 8);  // guided-diffusion's 256 x 256 models: GDP's 256-pixel tiles
  EXPECT_EQ(g.size, 256);
  EXPECT_EQ(g.stride, 160);
  EXPECT_EQ(g.above_pixels, 512 * 512);
  EXPECT_EQ(geometry(0, 1).size, 256);                                // unknown: 256
  EXPECT_EQ(geometry(std::numeric_limits<int>::max(), 1).size, 256);  // at most 256, no overflow
  EXPECT_EQ(geometry(16, 1).size, 64);                                // at least 64
  EXPECT_EQ(geometry(50, 8).size, 104);  // 100 rounded up to the size multiple
  // A prior whose attention runs in windows (or that has none): frames up to 1 MP whole (a
  // 1280 x 720 frame), larger ones on 512-pixel tiles, stride 320.
  m.global_attention = false;
  g = geometry(64, 4);
  EXPECT_EQ(g.size, 512);
  EXPECT_EQ(g.stride, 320);
  EXPECT_EQ(g.above_pixels, 1 << 20);
  EXPECT_GE(g.above_pixels, 1280 * 720);
  m.global_attention = true;
  // And explicit values are kept (a stride above the tile is cut to the tile)
  SamplerOptions o;
  o.tile_size = 40;
  o.tile_stride = 50;
  o.tile_above_pixels = 7;
  m.native_size = 64;
  g = resolve_tiles(o, m);
  EXPECT_EQ(g.size, 40);
  EXPECT_EQ(g.stride, 40);
  EXPECT_EQ(g.above_pixels, 7);
  o.tile_size = 4;
  EXPECT_DIFFEVENT_ERROR(AlternatingSampler(weak_prior(1), nullptr, o), ErrorCode::kInvalidArgument,
                         "got size 4");
}

namespace {
// A pixelwise prior that records the largest frame it was given.
class ShapeRecordingPrior : public DiffusionPrior {
 public:
  explicit ShapeRecordingPrior(int native) {
    meta_.channels = 1;
    meta_.native_size = native;
  }
  const PriorMetadata& metadata() const override { return meta_; }
  PriorOutput predict(const at::Tensor& x_t, const at::Tensor& t) override {
    max_h = std::max<int64_t>(max_h, x_t.size(2));
    max_w = std::max<int64_t>(max_w, x_t.size(3));
    (void)t;
    return {x_t * 0.1, at::Tensor()};
  }
  int64_t max_h = 0, max_w = 0;

 private:
  PriorMetadata meta_;
};
}  // namespace

TEST(AlternatingSampler, FramesAboveFourTilesRunTiledByDefault) {
  // Given a prior trained at 32 pixels (automatic tiles of 64, above 16384 pixels)
  SamplerOptions o;
  o.steps = 2;
  auto run = [&](int64_t h, int64_t w) {
    auto prior = std::make_shared<ShapeRecordingPrior>(32);
    AlternatingSampler(prior, nullptr, o)
        .sample(EbrdModel(at::full({1, h, w}, 0.5f), at::ones({1, h, w})));
    return std::make_pair(prior->max_h, prior->max_w);
  };
  // Then a 100 x 150 frame (15000 pixels) is one call, a 100 x 200 frame (20000) runs on 64-pixel
  // tiles
  using Shape = std::pair<int64_t, int64_t>;
  EXPECT_EQ(run(100, 150), Shape(100, 150));
  EXPECT_EQ(run(100, 200), Shape(64, 64));
}

TEST(AlternatingSampler, BlendedTilesLeaveNoSeams) {
  // A prior whose prediction depends on a 31x31 neighbourhood: 128-pixel tiles cut that
  // context, so hard tiles put steps in the prediction at their borders. Blended, the difference
  // across a tile border is no larger than inside a tile; hard, it is (which shows the test can
  // fail).
  const std::string dir = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/";
  std::shared_ptr<DiffusionPrior> wide = load_prior(dir + "wide_prior.pt");
  const int64_t H = 64, W = 384;
  at::manual_seed(5);
  const at::Tensor ramp = (at::arange(W, at::kFloat) / float(W) * 1.2f - 0.6f)
                              .view({1, 1, 1, W})
                              .expand({1, 1, H, W})
                              .contiguous();
  const at::Tensor t = at::full({1}, 500, at::kLong);
  auto seam_ratio = [&](int64_t stride, bool blend) {
    const at::Tensor e =
        diffevent::detail::predict_tiles(*wide, ramp, t, 128, stride, blend).eps[0][0];
    const at::Tensor dx = (e.narrow(1, 1, W - 1) - e.narrow(1, 0, W - 1)).abs().mean(0);
    std::vector<bool> edge(W + 1, false);  // columns where a tile starts or ends
    for (int64_t s = 0;; s += stride) {
      const int64_t s0 = std::min(s, W - 128);
      edge[s0] = edge[s0 + 128] = true;
      if (s0 == W - 128) break;
    }
    double border = 0, inside = 0;
    int nb = 0, ni = 0;
    for (int64_t j = 0; j < W - 1; ++j) {
      const bool at_border = edge[j + 1];  // the step between columns j and j + 1
      (at_border ? border : inside) += dx[j].item<double>();
      (at_border ? nb : ni) += 1;
    }
    return (border / nb) / (inside / ni);
  };
  // Stride 64 (GDP's half tile) and 80 (the automatic 5/8 tile; 96 measured 1.22 blended)
  for (const int64_t stride : {64, 80}) {
    const double blended = seam_ratio(stride, true), hard = seam_ratio(stride, false);
    RecordProperty("blended_ratio_" + std::to_string(stride), std::to_string(blended));
    RecordProperty("hard_ratio_" + std::to_string(stride), std::to_string(hard));
    EXPECT_LE(blended, 1.2) << "stride " << stride;
    EXPECT_GT(hard, 2.0) << "stride " << stride;
  }
}

TEST(AlternatingSampler, BatchesShareNetworkCallsAndSolveEachFrame) {
  at::manual_seed(11);
  std::vector<EbrdModel> frames;
  std::vector<at::Tensor> edi;
  for (int i = 0; i < 3; ++i) {
    const at::Tensor y = at::rand({1, 9, 14}) * 0.8f, E = at::rand({1, 9, 14}) + 0.6f;
    frames.emplace_back(y, E);
    edi.push_back((y / E).clamp(0, 1));
  }
  auto prior = weak_prior(1);
  SamplerOptions o;
  o.steps = 15;
  o.s = 1e7;
  o.lambda_tv = 0;
  const auto out = AlternatingSampler(prior, nullptr, o).sample_batch(frames);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(prior->calls(), 15);  // one batched evaluation per step for all three frames
  for (int i = 0; i < 3; ++i)
    EXPECT_LT(
        (out[static_cast<size_t>(i)].x - edi[static_cast<size_t>(i)]).abs().max().item<float>(),
        2e-3);
  // The fused kernel and the ATen composition agree on batches too (with TV).
  o.s = 30;
  o.lambda_tv = 100;
  o.fused_kernel = true;
  const auto a = AlternatingSampler(prior, nullptr, o).sample_batch(frames);
  o.fused_kernel = false;
  const auto b = AlternatingSampler(prior, nullptr, o).sample_batch(frames);
  for (size_t i = 0; i < 3; ++i) EXPECT_LT((a[i].x - b[i].x).abs().max().item<float>(), 1e-4);
  EXPECT_DIFFEVENT_ERROR(
      AlternatingSampler(prior, nullptr, o)
          .sample_batch({frames[0], EbrdModel(at::rand({1, 4, 4}), at::ones({1, 4, 4}))}),
      ErrorCode::kInvalidArgument, "frame 1 of the batch");
}

TEST(AlternatingSampler, RobustResidualLetsThePriorOverruleOutlyingPixelsOnly) {
  // y = 0.5 everywhere (the prior's mean) but at two pixels whose data say 0.1: outliers far
  // beyond the data's deviation (0.01 at unit weight). The prior is per pixel, so every other
  // pixel follows the same path with or without the robust residual, bit for bit.
  at::Tensor y = at::full({1, 6, 7}, 0.5f);
  y.index_put_({0, 2, 3}, 0.1f);
  y.index_put_({0, 4, 1}, 0.1f);
  const at::Tensor E = at::ones({1, 6, 7});
  const at::Tensor inlier = (y - 0.5f).abs() < 1e-6f;
  SamplerOptions o;
  o.start = 0.05;  // a warm start from y / f(E)
  const auto prior = gaussian_prior(0.0, 0.05);
  const SampleResult plain = AlternatingSampler(prior, nullptr, o).sample(EbrdModel(y, E));
  o.robust_residual = 5;
  const SampleResult robust = AlternatingSampler(prior, nullptr, o).sample(EbrdModel(y, E));
  EXPECT_TRUE(at::equal(plain.r, at::zeros_like(y)));
  // Inliers: r = 0 and x as before.
  EXPECT_TRUE(at::equal(robust.r.masked_select(inlier), at::zeros({40})));
  EXPECT_TRUE(at::equal(robust.x.masked_select(inlier), plain.x.masked_select(inlier)));
  // Outliers: r takes part of the misfit (negative: the data lie below), and x moves towards
  // the prior's 0.5 by more than the data's deviation.
  const at::Tensor out = inlier.logical_not();
  EXPECT_LT(robust.r.masked_select(out).max().item<float>(), -0.01f);
  EXPECT_GT((robust.x - plain.x).masked_select(out).min().item<float>(), 0.01f);
  // The first step has its own residual, from the warm start's prediction: a run of a single
  // step (the timestep-0 one) is robust too. (A prior tight enough that its prediction at
  // timestep 0 still differs from the data.)
  o.start = 0.005;
  o.robust_residual = 0;
  const auto tight = gaussian_prior(0.0, 0.005);
  const SampleResult one_plain = AlternatingSampler(tight, nullptr, o).sample(EbrdModel(y, E));
  o.robust_residual = 5;
  const SampleResult one_robust = AlternatingSampler(tight, nullptr, o).sample(EbrdModel(y, E));
  EXPECT_EQ(one_robust.network_calls, 1);
  EXPECT_TRUE(at::equal(one_robust.x.masked_select(inlier), one_plain.x.masked_select(inlier)));
  EXPECT_GT((one_robust.x - one_plain.x).masked_select(out).min().item<float>(), 0.01f);
  EXPECT_LT(one_robust.r.masked_select(out).max().item<float>(), -0.01f);
  // From pure noise the early predictions are vague: the robust residual is off there.
  o.start = 1.0;
  o.steps = 10;
  const SampleResult noise_robust = AlternatingSampler(prior, nullptr, o).sample(EbrdModel(y, E));
  o.robust_residual = 0;
  const SampleResult noise_plain = AlternatingSampler(prior, nullptr, o).sample(EbrdModel(y, E));
  EXPECT_TRUE(at::equal(noise_robust.x, noise_plain.x));
  EXPECT_TRUE(at::equal(noise_robust.r, at::zeros_like(y)));
  // The option is checked.
  o.robust_residual = -1;
  EXPECT_DIFFEVENT_ERROR(validate(o), ErrorCode::kInvalidArgument,
                         "sampler: robust_residual = -1 must be in [0, 1000]");
}
