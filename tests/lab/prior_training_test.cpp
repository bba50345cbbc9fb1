#include "lab/prior_training.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <numeric>

#include "diffevent/diffusion/diffusion_prior.hpp"
#include "diffusion/vlb.hpp"
#include "test_util.hpp"

using namespace diffevent;

namespace {

const std::string kTiny = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/tiny_prior.pt";

// Smooth random images (sums of a few sinusoids) in [0, 1].
TrainingData smooth_images(int n, int size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  TrainingData d;
  for (int i = 0; i < n; ++i) {
    Image im(1, size, size);
    const double fx = 0.05 + 0.2 * u(rng), fy = 0.05 + 0.2 * u(rng), ph = 6.28 * u(rng);
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        im.at(0, y, x) = static_cast<float>(0.5 + 0.4 * std::sin(fx * x + fy * y + ph));
    d.images.push_back(std::move(im));
  }
  return d;
}

PriorTrainingOptions small_run(int64_t steps, const std::string& ckpt) {
  PriorTrainingOptions o;
  o.steps = steps;
  o.batch = 4;
  o.patch = 16;
  o.lr = 1e-3;
  o.ema = 0.9;
  o.seed = 7;
  o.log_every = 1;
  o.checkpoint = ckpt;
  o.checkpoint_every = 0;
  return o;
}

}  // namespace

TEST(PriorTraining, ResumingContinuesTheSameLossCurve) {
  // Given the same data and seed, when one run goes 0 -> 10 and another stops at 4 and resumes,
  // then steps 4..9 have the same losses in both (weights, EMA, Adam moments and step restored).
  test::TempDir dir;
  const TrainingData data = smooth_images(3, 40, 1);
  const auto straight =
      train_prior(kTiny, data, dir.file("a.pt"), small_run(10, dir.file("a.ckpt")));
  ASSERT_EQ(straight.losses.size(), 10u);
  const auto first = train_prior(kTiny, data, dir.file("b.pt"), small_run(4, dir.file("b.ckpt")));
  ASSERT_EQ(first.last_step, 4);
  const auto resumed = train_prior(kTiny, data, dir.file("b.pt"),
                                   small_run(10, dir.file("b2.ckpt")), dir.file("b.ckpt"));
  EXPECT_EQ(resumed.first_step, 4);
  ASSERT_EQ(resumed.losses.size(), 6u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_DOUBLE_EQ(first.losses[i], straight.losses[i]) << "step " << i;
  for (size_t i = 0; i < 6; ++i)
    EXPECT_NEAR(resumed.losses[i], straight.losses[i + 4], 1e-6) << "step " << i + 4;
  // And the saved priors (EMA weights) agree.
  auto a = torch::jit::load(dir.file("a.pt")), b = torch::jit::load(dir.file("b.pt"));
  auto pa = a.parameters().begin(), pb = b.parameters().begin();
  for (; pa != a.parameters().end(); ++pa, ++pb) EXPECT_TRUE((*pa).allclose(*pb, 1e-6, 1e-7));
}

TEST(PriorTraining, LossFallsAndTheOutputIsALoadablePrior) {
  test::TempDir dir;
  const TrainingData data = smooth_images(4, 48, 2);
  auto o = small_run(120, "");
  const auto r = train_prior(kTiny, data, dir.file("out.pt"), o);
  ASSERT_EQ(r.losses.size(), 120u);
  const double head = std::accumulate(r.losses.begin(), r.losses.begin() + 20, 0.0) / 20;
  const double tail = std::accumulate(r.losses.end() - 20, r.losses.end(), 0.0) / 20;
  EXPECT_LT(tail, 0.9 * head) << "head " << head << " tail " << tail;
  // The output goes through the normal prior path, keeps the metadata and records the training.
  const auto prior = load_prior(dir.file("out.pt"));
  EXPECT_EQ(prior->metadata().channels, 1);
  EXPECT_EQ(prior->metadata().size_multiple, 4);
  torch::jit::ExtraFilesMap extra{{"metadata.json", ""}};
  torch::jit::load(dir.file("out.pt"), at::kCPU, extra);
  EXPECT_NE(extra["metadata.json"].find("\"training\": {\"steps\": 120"), std::string::npos)
      << extra["metadata.json"];
}

TEST(PriorTraining, ProgressCanStopTheRunWhichThenResumes) {
  test::TempDir dir;
  const TrainingData data = smooth_images(2, 32, 3);
  auto o = small_run(20, dir.file("c.ckpt"));
  o.log_every = 5;
  int calls = 0;
  o.on_progress = [&](const TrainingProgress& p) {
    ++calls;
    EXPECT_EQ(p.total, 20);
    return p.step < 10;  // stop at step 10
  };
  const auto r = train_prior(kTiny, data, dir.file("c.pt"), o);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.last_step, 10);
  EXPECT_EQ(calls, 2);
  o.on_progress = nullptr;
  const auto r2 = train_prior(kTiny, data, dir.file("c.pt"), o, dir.file("c.ckpt"));
  EXPECT_EQ(r2.first_step, 10);
  EXPECT_EQ(r2.last_step, 20);
  EXPECT_FALSE(r2.stopped);
}

TEST(PriorTraining, CancelStopsAfterTheCurrentStepWithPriorAndCheckpointSaved) {
  // Given a cancel flag already set (as a SIGINT handler sets it) and progress reports only
  // every 50 steps: the run stops after its first step, not at a report, and saves the prior
  // and a checkpoint that the next run resumes from.
  test::TempDir dir;
  const TrainingData data = smooth_images(2, 32, 3);
  auto o = small_run(100, dir.file("k.ckpt"));
  o.log_every = 50;
  std::atomic<bool> cancel{true};
  o.cancel = &cancel;
  const auto r = train_prior(kTiny, data, dir.file("k.pt"), o);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.last_step, 1);
  EXPECT_EQ(r.losses.size(), 1u);
  EXPECT_TRUE(std::ifstream(dir.file("k.pt")).good());
  cancel.store(false);
  const auto r2 = train_prior(kTiny, data, dir.file("k.pt"), o, dir.file("k.ckpt"));
  EXPECT_EQ(r2.first_step, 1);
  EXPECT_EQ(r2.last_step, 100);
  EXPECT_FALSE(r2.stopped);
}

TEST(PriorTraining, BadInputsGiveClearErrors) {
  test::TempDir dir;
  const TrainingData data = smooth_images(1, 32, 4);
  auto o = small_run(2, "");
  o.patch = 30;
  EXPECT_DIFFEVENT_ERROR(train_prior(kTiny, data, dir.file("x.pt"), o), ErrorCode::kInvalidArgument,
                         "patch 30 is not a multiple of the prior's size_multiple 4");
  o.patch = 64;
  EXPECT_DIFFEVENT_ERROR(train_prior(kTiny, data, dir.file("x.pt"), o), ErrorCode::kInvalidArgument,
                         "image 0 (32x32) is smaller than the 64-pixel patch");
  EXPECT_DIFFEVENT_ERROR(train_prior(kTiny, data, dir.file("no/x.pt"), small_run(2, "")),
                         ErrorCode::kIoError, "does not exist");
  EXPECT_DIFFEVENT_ERROR(
      train_prior(kTiny, data, dir.file("x.pt"), small_run(2, ""), dir.file("none.ckpt")),
      ErrorCode::kIoError, "none.ckpt': no such file");
  std::ofstream(dir.file("junk.ckpt")) << "not an archive";
  EXPECT_DIFFEVENT_ERROR(
      train_prior(kTiny, data, dir.file("x.pt"), small_run(2, ""), dir.file("junk.ckpt")),
      ErrorCode::kFormatError, "is not readable");
  auto on = small_run(2, "");
  on.device = "gpu7";
  EXPECT_DIFFEVENT_ERROR(train_prior(kTiny, data, dir.file("x.pt"), on),
                         ErrorCode::kInvalidArgument, "'gpu7' is not a device");
  if (!at::hasCUDA()) {
    on.device = "cuda:0";
    EXPECT_DIFFEVENT_ERROR(train_prior(kTiny, data, dir.file("x.pt"), on), ErrorCode::kUnsupported,
                           "has no CUDA");
  }
  EXPECT_DIFFEVENT_ERROR(load_training_images(dir.file("nowhere"), 1), ErrorCode::kIoError,
                         "is not a folder");
  EXPECT_DIFFEVENT_ERROR(load_training_images(dir.path().string(), 1), ErrorCode::kInvalidArgument,
                         "no PNG or PFM file");
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.pt")));  // nothing half-written
}

TEST(PriorTraining, DownscaledCopiesAreAreaMeansAndSkipSmallOnes) {
  // Given a 2x2-pixel checkerboard of 0 and 1 (48 x 36) and a 20 x 20 ramp.
  TrainingData d;
  Image board(1, 36, 48), ramp(1, 20, 20);
  for (int y = 0; y < 36; ++y)
    for (int x = 0; x < 48; ++x) board.at(0, y, x) = static_cast<float>(((y / 2) + (x / 2)) % 2);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x) ramp.at(0, y, x) = static_cast<float>(x) / 19.0f;
  d.images = {board, ramp};
  // When copies at 1/2, 1/4 and 1/3 are added with a 10-pixel minimum side.
  const int added = add_downscaled_copies(d, {1, 2, 4, 3}, 10);
  // Then: the board at 1/2 (24 x 18) is still a checkerboard of single pixels; at 1/4 (12 x 9:
  // smaller side 9 < 10) it is skipped; at 1/3 (16 x 12) every 3x3 block averages a 2x2 board.
  // The ramp at 1/2 (10 x 10) is kept, at 1/3 and 1/4 skipped. Originals come first, unchanged.
  ASSERT_EQ(added, 3);
  ASSERT_EQ(d.images.size(), 5u);
  EXPECT_EQ(d.images[0].width(), 48);
  const Image& half = d.images[2];
  ASSERT_EQ(half.width(), 24);
  ASSERT_EQ(half.height(), 18);
  for (int y = 0; y < 18; ++y)
    for (int x = 0; x < 24; ++x)
      ASSERT_NEAR(half.at(0, y, x), static_cast<float>((y + x) % 2), 1e-6);
  const Image& ramp_half = d.images[3];
  ASSERT_EQ(ramp_half.width(), 10);
  EXPECT_NEAR(ramp_half.at(0, 5, 0), 0.5f / 19.0f, 1e-6);  // mean of columns 0 and 1
  const Image& third = d.images[4];
  ASSERT_EQ(third.width(), 16);
  ASSERT_EQ(third.height(), 12);
  double total = 0;
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 16; ++x) total += third.at(0, y, x);
  EXPECT_NEAR(total / (12 * 16), 0.5, 1e-6);  // area averaging keeps the mean
  EXPECT_NEAR(third.at(0, 0, 0), 4.0 / 9.0,
              1e-6);  // block rows 0-2, cols 0-2: ones at (0|1, 2) and (2, 0|1)
  // Bad factors and sides are named.
  EXPECT_DIFFEVENT_ERROR(add_downscaled_copies(d, {2, 0}, 10), ErrorCode::kInvalidArgument,
                         "scale factor 0 must be >= 1");
  EXPECT_DIFFEVENT_ERROR(add_downscaled_copies(d, {2}, 0), ErrorCode::kInvalidArgument,
                         "min_side = 0 must be >= 1");
}

TEST(PriorTraining, LowNoiseEmphasisDrawsThatFractionBelowTheCap) {
  // Given 4000 batches of 8 with half of each batch capped at t < 50 (T = 1000).
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  int64_t low_total = 0, high_below_cap = 0, high_total = 0;
  double high_sum = 0;
  for (int i = 0; i < 4000; ++i) {
    const at::Tensor t = diffevent::detail::draw_timesteps(8, 1000, 0.5, 50, gen);
    ASSERT_EQ(t.numel(), 8);
    // Then the first 4 lie in [0, 50), the rest are uniform on [0, 1000) (mean 499.5, 5% below 50).
    ASSERT_LT(t.narrow(0, 0, 4).max().item<int64_t>(), 50);
    low_total += 4;
    const at::Tensor hi = t.narrow(0, 4, 4);
    high_below_cap += (hi < 50).sum().item<int64_t>();
    high_sum += hi.sum().item<double>();
    high_total += 4;
  }
  EXPECT_EQ(low_total, 16000);
  EXPECT_NEAR(high_sum / static_cast<double>(high_total), 499.5, 9.0);  // 5 sigma of the mean
  EXPECT_NEAR(static_cast<double>(high_below_cap) / static_cast<double>(high_total), 0.05, 0.01);
  // Fraction 0 is plain uniform sampling, draw for draw.
  auto g1 = at::make_generator<at::CPUGeneratorImpl>(5),
       g2 = at::make_generator<at::CPUGeneratorImpl>(5);
  EXPECT_TRUE(at::equal(diffevent::detail::draw_timesteps(16, 1000, 0.0, 200, g1),
                        at::randint(0, 1000, {16}, g2, at::TensorOptions().dtype(at::kLong))));
  // Bad settings are named.
  test::TempDir dir;
  auto o = small_run(2, "");
  o.low_noise_fraction = 1.5;
  EXPECT_DIFFEVENT_ERROR(train_prior(kTiny, smooth_images(1, 32, 4), dir.file("x.pt"), o),
                         ErrorCode::kInvalidArgument, "low_noise_fraction = 1.5 must be in [0, 1]");
}

TEST(PriorTraining, ResidualSamplesFollowTheEbrdModel) {
  // Given photos and ideal events (no mismatch, no noise) with the identity enhancer, the
  // residual y - E x is what thresholding loses: small next to y. Realistic noise makes it larger.
  const TrainingData photos = smooth_images(2, 48, 5);
  ResidualDataOptions o;
  o.samples = 4;
  o.crop = 32;
  o.threshold_sigma = 0.0;
  o.noise_hz = 0.0;
  o.enhancer = EbrdOptions{};
  const TrainingData ideal = make_residual_training_data(photos, o);
  ASSERT_EQ(ideal.images.size(), 4u);
  EXPECT_EQ(ideal.scale, 2.0);
  EXPECT_EQ(ideal.offset, 0.0);
  auto mean_abs = [](const TrainingData& d) {
    double s = 0;
    size_t n = 0;
    for (const auto& im : d.images)
      for (float v : im.values()) s += std::fabs(v), ++n;
    return s / static_cast<double>(n);
  };
  EXPECT_EQ(ideal.images[0].width(), 32);
  EXPECT_LT(mean_abs(ideal), 0.03);  // y is about 0.5
  o.threshold_sigma = 0.1;
  o.noise_hz = 50.0;
  EXPECT_GT(mean_abs(make_residual_training_data(photos, o)), mean_abs(ideal));
  // Deterministic for a seed.
  EXPECT_EQ(make_residual_training_data(photos, o).images[1].values(),
            make_residual_training_data(photos, o).images[1].values());
  // A range of sensors: each sample draws its mismatch and noise between the two ends, so the
  // set lies between the ideal one and the worst sensor's; a wrong nominal threshold adds more.
  ResidualDataOptions r = o;
  r.samples = 8;
  r.threshold_sigma = 0.0;
  r.noise_hz = 0.0;
  const double ideal8 = mean_abs(make_residual_training_data(photos, r));
  r.threshold_sigma = r.threshold_sigma_max = 0.1;
  r.noise_hz = r.noise_hz_max = 50.0;
  const double worst8 = mean_abs(make_residual_training_data(photos, r));
  r.threshold_sigma = 0.0;
  r.noise_hz = 0.0;
  const double range8 = mean_abs(make_residual_training_data(photos, r));
  EXPECT_GT(range8, ideal8);
  EXPECT_LT(range8, worst8);
  r.threshold_error = 0.3;
  EXPECT_GT(mean_abs(make_residual_training_data(photos, r)), range8);
  r.threshold_error = 1.0;
  EXPECT_DIFFEVENT_ERROR(make_residual_training_data(photos, r), ErrorCode::kInvalidArgument,
                         "threshold_error (1) must be in [0, 1)");
  r.threshold_error = 0.0;
  r.threshold_sigma = 0.2;  // above its upper end 0.1
  EXPECT_DIFFEVENT_ERROR(make_residual_training_data(photos, r), ErrorCode::kInvalidArgument,
                         "threshold_sigma 0.2 to 0.1");
  o.crop = 64;
  EXPECT_DIFFEVENT_ERROR(make_residual_training_data(photos, o), ErrorCode::kInvalidArgument,
                         "photo 0 (48x48) is smaller than the 64-pixel crop");
}

TEST(PriorTraining, VariationalBoundTermsMatchTheirClosedForms) {
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor zero = at::zeros({1}, opts), two = at::full({1}, 2.0, opts),
                   one = at::ones({1}, opts);
  // KL of a Gaussian to itself is 0; N(0,1) to N(1,1) is 1/2; N(0,1) to N(0,e^2) is
  // (-1 + 2 + e^-2) / 2.
  EXPECT_NEAR(diffevent::detail::normal_kl(one, two, one, two).item<double>(), 0.0, 1e-15);
  EXPECT_NEAR(diffevent::detail::normal_kl(zero, zero, one, zero).item<double>(), 0.5, 1e-15);
  EXPECT_NEAR(diffevent::detail::normal_kl(zero, zero, zero, two).item<double>(),
              0.5 * (1.0 + std::exp(-2.0)), 1e-15);
  // The discretised likelihood is a distribution over the 256 bins of [-1, 1]: the bin
  // probabilities sum to 1 for any mean and scale (to the CDF approximation's error).
  const at::Tensor bins = at::linspace(-1.0, 1.0, 256, opts);
  for (double mean : {-0.9, 0.0, 0.37}) {
    for (double log_scale : {-5.0, -2.0, 0.0}) {
      const at::Tensor lp = diffevent::detail::discretized_gaussian_log_likelihood(
          bins, at::full({256}, mean, opts), at::full({256}, log_scale, opts));
      EXPECT_NEAR(lp.exp().sum().item<double>(), 1.0, 2e-3) << mean << " " << log_scale;
    }
  }
  // A sharp Gaussian on a bin centre puts (almost) all mass in that bin.
  const at::Tensor x = at::full({1}, bins[100].item<double>(), opts);
  EXPECT_NEAR(
      diffevent::detail::discretized_gaussian_log_likelihood(x, x, at::full({1}, -8.0, opts))
          .item<double>(),
      0.0, 1e-6);
}

TEST(PriorTraining, LearnedVarianceTrainsWithTheHybridLoss) {
  // Given the test network with a learned variance (2C outputs: eps and v).
  test::TempDir dir;
  const std::string sigma = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/tiny_prior_sigma.pt";
  const TrainingData data = smooth_images(3, 32, 5);
  auto o = small_run(40, "");
  const auto r = train_prior(sigma, data, dir.file("s.pt"), o);
  ASSERT_EQ(r.losses.size(), 40u);
  for (double l : r.losses) EXPECT_TRUE(std::isfinite(l));
  // Then every loss is finite, the saved prior still has a learned variance, and its variance
  // output changed (the bound terms themselves are checked against closed forms above).
  const auto before = load_prior(sigma), after = load_prior(dir.file("s.pt"));
  EXPECT_TRUE(after->metadata().learned_sigma);
  at::manual_seed(1);
  const at::Tensor xt = at::randn({2, 1, 16, 16}), t = at::full({2}, 10, at::kLong);
  const at::Tensor v0 = before->predict(xt, t).v, v1 = after->predict(xt, t).v;
  EXPECT_GT((v1 - v0).abs().max().item<float>(), 1e-3);
}
