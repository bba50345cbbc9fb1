#include <cmath>

#include "test_util.hpp"

using namespace diffevent;

TEST(Metrics, PsnrMatchesClosedForm) {
  Image a(1, 16, 16, 0.5f), b(1, 16, 16, 0.6f);
  EXPECT_NEAR(psnr(a, b), 10 * std::log10(1.0 / 0.01), 1e-4);
  EXPECT_TRUE(std::isinf(psnr(a, a)));
  EXPECT_NEAR(psnr(a, b, 255.0), 10 * std::log10(255.0 * 255.0 / 0.01), 1e-3);
}

TEST(Metrics, SsimOfIdenticalIsOneAndOfConstantShiftIsLuminanceTerm) {
  const Image img = test::synthetic_photo(3, 32, 40, 1);
  EXPECT_NEAR(ssim(img, img), 1.0, 1e-9);
  // Two constant images: sigma terms vanish, SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1).
  Image a(1, 20, 20, 0.4f), b(1, 20, 20, 0.7f);
  const double c1 = 1e-4;
  EXPECT_NEAR(ssim(a, b), (2 * 0.4 * 0.7 + c1) / (0.16 + 0.49 + c1), 1e-6);
}

TEST(Metrics, SsimDropsWithNoiseAndValidatesShapes) {
  const Image img = test::synthetic_photo(1, 32, 32, 2);
  Image noisy = img;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 0.1f);
  for (auto& v : noisy.values()) v += nd(rng);
  EXPECT_LT(ssim(img, noisy), 0.9);
  EXPECT_DIFFEVENT_ERROR(psnr(img, Image(1, 31, 32)), ErrorCode::kInvalidArgument, "shapes differ");
  EXPECT_DIFFEVENT_ERROR(ssim(Image(1, 8, 8), Image(1, 8, 8)), ErrorCode::kInvalidArgument,
                         "at least 11x11");
}
