// The kernels' CPU side: counter-based noise against Random123's known answers, the guided
// filter kernel against the ATen composition, and inputs with any strides.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kernels/filter/guided_filter.hpp"
#include "kernels/guidance/guidance.hpp"
#include "kernels/noise/noise.hpp"
#include "kernels/noise/philox_math.hpp"
#include "test_util.hpp"

using namespace diffevent;
using kernels::Philox4;

namespace {

// The guided filter as the ATen composition of box means (avg_pool2d over clipped windows).
at::Tensor box_mean(const at::Tensor& x, int r) {
  const at::Tensor xp = x.unsqueeze(0);
  const int64_t k = 2 * r + 1;
  const at::Tensor s = at::avg_pool2d(xp, {k, k}, {1, 1}, {r, r}, false, true);
  const at::Tensor n = at::avg_pool2d(at::ones_like(xp), {k, k}, {1, 1}, {r, r}, false, true);
  return (s / n).squeeze(0);
}
at::Tensor guided_reference(const at::Tensor& p, const at::Tensor& I, int r, double eps) {
  const at::Tensor mI = box_mean(I, r), mp = box_mean(p, r);
  const at::Tensor a = (box_mean(I * p, r) - mI * mp) / (box_mean(I * I, r) - mI * mI + eps);
  const at::Tensor b = mp - a * mI;
  return box_mean(a, r) * I + box_mean(b, r);
}

}  // namespace

TEST(Kernels, PhiloxMatchesRandom123KnownAnswers) {
  // Random123's kat_vectors for philox4x32_10.
  auto eq = [](Philox4 a, std::array<uint32_t, 4> b) {
    return a.v[0] == b[0] && a.v[1] == b[1] && a.v[2] == b[2] && a.v[3] == b[3];
  };
  EXPECT_TRUE(eq(kernels::philox4x32_10(Philox4{{0, 0, 0, 0}}, 0, 0),
                 {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}));
  EXPECT_TRUE(eq(kernels::philox4x32_10(Philox4{{~0u, ~0u, ~0u, ~0u}}, ~0u, ~0u),
                 {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}));
  EXPECT_TRUE(
      eq(kernels::philox4x32_10(Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
                                0xa4093822u, 0x299f31d0u),
         {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}));
}

TEST(Kernels, PhiloxNormalsAreStandardAndAPureFunctionOfSeedStreamAndIndex) {
  const at::Tensor a = kernels::philox_normal({1 << 20}, at::kCPU, 42, 7);
  // Moments of 2^20 samples: mean 0 +- 5 sigma/sqrt(n), variance 1 +- 5 sqrt(2/n).
  EXPECT_NEAR(a.mean().item<double>(), 0.0, 5.0 / 1024);
  EXPECT_NEAR(a.var().item<double>(), 1.0, 5.0 * std::sqrt(2.0) / 1024);
  EXPECT_NEAR((a > 1.96).to(at::kDouble).mean().item<double>(), 0.025, 0.001);
  // Element i does not depend on the shape, the thread count or which elements are drawn.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor b = kernels::philox_normal({4, 1 << 18}, at::kCPU, 42, 7);
  at::set_num_threads(threads);
  EXPECT_TRUE(at::equal(a.view({4, 1 << 18}), b));
  const at::Tensor head = kernels::philox_normal({13}, at::kCPU, 42, 7);
  EXPECT_TRUE(at::equal(head, a.narrow(0, 0, 13)));
  // Another stream or seed gives other numbers (uncorrelated).
  const at::Tensor c = kernels::philox_normal({1 << 20}, at::kCPU, 42, 8),
                   d = kernels::philox_normal({1 << 20}, at::kCPU, 43, 7);
  EXPECT_LT(std::abs((a * c).mean().item<double>()), 5.0 / 1024);
  EXPECT_LT(std::abs((a * d).mean().item<double>()), 5.0 / 1024);
  EXPECT_LE(a.abs().max().item<float>(), 5.8f);  // 24-bit uniforms bound |z| by 5.77
}

TEST(Kernels, GuidedFilterKernelMatchesTheAtenCompositionAtOddSizes) {
  at::manual_seed(5);
  for (auto [h, w] : {std::pair<int64_t, int64_t>{1, 1}, {7, 13}, {257, 513}}) {
    for (int r : {1, 3, 8}) {
      SCOPED_TRACE(fmt::format("{}x{} r={}", h, w, r));
      const at::Tensor I = at::rand({1, h, w}) + 0.5, p = I + 0.1 * at::randn({1, h, w});
      const at::Tensor ref =
          guided_reference(p.to(at::kDouble), I.to(at::kDouble), r, 1e-3).to(at::kFloat);
      EXPECT_LT((kernels::guided_filter(p, I, r, 1e-3f) - ref).abs().max().item<float>(), 2e-4);
    }
  }
  // Non-contiguous inputs (a transposed view) give the filter of their values.
  const at::Tensor I = at::rand({1, 13, 7}) + 0.5;
  const at::Tensor It = I.transpose(1, 2);
  ASSERT_FALSE(It.is_contiguous());
  EXPECT_TRUE(at::allclose(kernels::guided_filter(It, It, 3, 1e-3f),
                           kernels::guided_filter(It.contiguous(), It.contiguous(), 3, 1e-3f)));
  EXPECT_DIFFEVENT_ERROR(kernels::guided_filter(I, I, 0, 1e-3f), ErrorCode::kInvalidArgument,
                         "radius 0 must be >= 1");
  EXPECT_DIFFEVENT_ERROR(kernels::guided_filter(I, It, 3, 1e-3f), ErrorCode::kInvalidArgument,
                         "same shape");
}

TEST(Kernels, FusedStepsAcceptAnyStrides) {
  at::manual_seed(6);
  const int64_t N = 2, C = 3, H = 9, W = 11;
  auto strided = [&](at::IntArrayRef s) {
    return at::randn({s[0], s[1], s[3], s[2]}).transpose(2, 3);
  };  // [.., W, H]^T
  const at::Tensor xt = strided({N, C, H, W}), eps = strided({N, C, H, W}),
                   y = strided({N, C, H, W}).abs(), fe = strided({N, 1, H, W}).abs() + 0.5,
                   R = 0.1 * strided({N, C, H, W}), z = strided({N, C, H, W});
  ASSERT_FALSE(xt.is_contiguous());
  const at::Tensor var = at::full({1}, 0.05f);
  kernels::GuidanceParams p{};
  p.x0_a = 1.2f;
  p.x0_b = 0.6f;
  p.c1 = 0.3f;
  p.c2 = 0.7f;
  p.sigma = 0.1f;
  p.s = 40.f;
  p.lambda_tv = 0.5f;
  p.tv_eps = 1e-3f;
  p.clip = true;
  const at::Tensor a =
      kernels::fused_x_step(xt, eps, y, fe, at::Tensor(), R, var, z, at::Tensor(), p);
  const at::Tensor b =
      kernels::fused_x_step(xt.contiguous(), eps.contiguous(), y.contiguous(), fe.contiguous(),
                            at::Tensor(), R.contiguous(), var, z.contiguous(), at::Tensor(), p);
  EXPECT_TRUE(at::equal(a, b));
  const at::Tensor ra =
      kernels::fused_r_step(xt, R, y, fe, at::Tensor(), y, var, z, at::Tensor(), 30.f, 1e-3f, p);
  const at::Tensor rb = kernels::fused_r_step(xt.contiguous(), R.contiguous(), y.contiguous(),
                                              fe.contiguous(), at::Tensor(), y.contiguous(), var,
                                              z.contiguous(), at::Tensor(), 30.f, 1e-3f, p);
  EXPECT_TRUE(at::equal(ra, rb));
  EXPECT_DIFFEVENT_ERROR(kernels::fused_x_step(xt, eps, y, fe.narrow(3, 0, 5), at::Tensor(), R, var,
                                               z, at::Tensor(), p),
                         ErrorCode::kInternal, "inconsistent inputs");
}
