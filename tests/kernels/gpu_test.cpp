// CPU/CUDA parity (label gpu): every kernel at odd sizes and with non-contiguous inputs, the
// counter-based noise, the whole sampler for a fixed seed and deblur() with the defaults.
// Skipped without a CUDA device.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "diffevent/diffusion/alternating_sampler.hpp"
#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/events/event_stream.hpp"
#include "kernels/filter/guided_filter.hpp"
#include "kernels/guidance/guidance.hpp"
#include "kernels/noise/noise.hpp"
#include "test_util.hpp"

using namespace diffevent;

namespace {

#define REQUIRE_CUDA() \
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device (or LibTorch without CUDA)"

const std::vector<std::pair<int64_t, int64_t>> kSizes = {{1, 1}, {7, 13}, {257, 513}};

// A CUDA copy of t as a non-contiguous view with the same values (stored transposed).
at::Tensor cuda_strided(const at::Tensor& t) {
  const at::Tensor stored = t.transpose(-1, -2).contiguous().to(at::kCUDA);
  at::Tensor v = stored.transpose(-1, -2);
  if (t.size(-1) > 1 && t.size(-2) > 1) {
    EXPECT_FALSE(v.is_contiguous());
  }
  return v;
}

float max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.cpu() - b.cpu()).abs().max().item<float>();
}

kernels::GuidanceParams params(bool learned, bool analytic, float tv) {
  kernels::GuidanceParams p{};
  p.x0_a = 1.3f;
  p.x0_b = 0.7f;
  p.c1 = 0.25f;
  p.c2 = 0.74f;
  p.sigma = 0.12f;
  p.log_beta = -4.f;
  p.log_beta_tilde = -4.5f;
  p.s = 40.f;
  p.lambda_tv = tv;
  p.tv_eps = 1e-3f;
  p.clip = true;
  p.learned = learned;
  p.analytic = analytic;
  p.beta_tilde = 0.01f;
  return p;
}

}  // namespace

TEST(Gpu, FusedXStepMatchesTheCpuKernel) {
  REQUIRE_CUDA();
  at::manual_seed(1);
  for (auto [h, w] : kSizes) {
    for (float tv : {0.f, 0.5f}) {
      // plain, residual + per-pixel var + data weights, learned, analytic + data weights
      for (int variant = 0; variant < 4; ++variant) {
        SCOPED_TRACE(fmt::format("{}x{} tv={} variant={}", h, w, tv, variant));
        const int64_t N = 2, C = 3;
        const at::Tensor xt = at::randn({N, C, h, w}), eps = at::randn({N, C, h, w}),
                         y = at::rand({N, C, h, w}), fe = at::rand({N, 1, h, w}) + 0.5,
                         z = at::randn({N, C, h, w});
        const at::Tensor R = variant == 1 ? 0.1 * at::randn({N, C, h, w}) : at::Tensor();
        const at::Tensor var =
            variant == 1 ? at::rand({N, C, h, w}) * 0.1 + 1e-3 : at::full({1}, 0.05f);
        const at::Tensor v = variant == 2 ? at::rand({N, C, h, w}) * 2 - 1 : at::Tensor();
        const at::Tensor wt = variant % 2 == 1 ? at::rand({N, 1, h, w}) * 3 : at::Tensor();
        const auto p = params(variant == 2, variant == 3, tv);
        const at::Tensor cpu = kernels::fused_x_step(xt, eps, y, fe, wt, R, var, z, v, p);
        auto g = [](const at::Tensor& t) {
          return t.defined() ? (t.dim() == 4 ? cuda_strided(t) : t.to(at::kCUDA)) : t;
        };
        const at::Tensor gpu =
            kernels::fused_x_step(g(xt), g(eps), g(y), g(fe), g(wt), g(R), g(var), g(z), g(v), p);
        EXPECT_TRUE(gpu.is_cuda());
        EXPECT_LT(max_diff(cpu, gpu), 2e-5);
      }
    }
  }
}

TEST(Gpu, FusedRStepMatchesTheCpuKernel) {
  REQUIRE_CUDA();
  at::manual_seed(2);
  for (auto [h, w] : kSizes) {
    for (bool last : {false, true}) {
      SCOPED_TRACE(fmt::format("{}x{} last={} (weighted when not last)", h, w, last));
      const at::Tensor rt = at::randn({1, 3, h, w}), Rh = 0.2 * at::randn({1, 3, h, w}),
                       y = at::rand({1, 3, h, w}), fe = at::rand({1, 1, h, w}) + 0.5,
                       Xs = at::rand({1, 3, h, w}), z = at::randn({1, 3, h, w});
      auto p = params(false, false, 0.f);
      p.last = last;
      const at::Tensor var = at::full({1}, 0.02f);
      const at::Tensor wt = last ? at::Tensor() : at::rand({1, 1, h, w}) * 3;
      const at::Tensor cpu =
          kernels::fused_r_step(rt, Rh, y, fe, wt, Xs, var, z, at::Tensor(), 30.f, 1e-3f, p);
      const at::Tensor gpu = kernels::fused_r_step(
          cuda_strided(rt), cuda_strided(Rh), cuda_strided(y), cuda_strided(fe),
          wt.defined() ? cuda_strided(wt) : wt, cuda_strided(Xs), var.to(at::kCUDA),
          cuda_strided(z), at::Tensor(), 30.f, 1e-3f, p);
      EXPECT_LT(max_diff(cpu, gpu), 1e-5);
    }
  }
}

TEST(Gpu, GuidedFilterMatchesTheCpuKernel) {
  REQUIRE_CUDA();
  at::manual_seed(3);
  for (auto [h, w] : kSizes) {
    for (int r : {1, 3, 8}) {
      SCOPED_TRACE(fmt::format("{}x{} r={}", h, w, r));
      const at::Tensor I = at::rand({1, h, w}) + 0.5, p = I + 0.1 * at::randn({1, h, w});
      EXPECT_LT(max_diff(kernels::guided_filter(p, I, r, 1e-3f),
                         kernels::guided_filter(cuda_strided(p), cuda_strided(I), r, 1e-3f)),
                1e-4);
    }
  }
}

TEST(Gpu, PhiloxNoiseIsTheSameOnBothDevices) {
  REQUIRE_CUDA();
  for (int64_t n : {1, 7, 4097, 1 << 20}) {
    const at::Tensor a = kernels::philox_normal({n}, at::kCPU, 9, 3),
                     b = kernels::philox_normal({n}, at::Device(at::kCUDA), 9, 3);
    EXPECT_LT(max_diff(a, b), 1e-5) << n;  // logf / sinf / cosf differ by an ulp or two
  }
}

TEST(Gpu, WholeSamplerMatchesTheCpuForAFixedSeed) {
  REQUIRE_CUDA();
  // TF32 convolutions would make the network itself differ by ~1e-3 per call.
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  const std::string dir = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/";
  at::manual_seed(4);
  const at::Tensor y = at::rand({1, 37, 53}) * 0.8, E = at::rand({1, 37, 53}) + 0.6;
  for (bool tiled : {false, true}) {
    SCOPED_TRACE(tiled ? "tiled" : "whole");
    SamplerOptions o;
    o.steps = 10;
    o.lambda_tv = 100;
    o.seed = 11;
    if (tiled) {  // 16-pixel tiles every 8: 20 tiles per call batch of 16
      o.tile_above_pixels = 64;
      o.tile_size = 16;
      o.tile_stride = 8;
    }
    TorchScriptPriorOptions po;
    const SampleResult cpu = AlternatingSampler(load_prior(dir + "tiny_prior.pt", po),
                                                load_prior(dir + "tiny_prior.pt", po), o)
                                 .sample(EbrdModel(y, E));
    po.device = "cuda:0";
    const SampleResult gpu = AlternatingSampler(load_prior(dir + "tiny_prior.pt", po),
                                                load_prior(dir + "tiny_prior.pt", po), o)
                                 .sample(EbrdModel(y, E));
    EXPECT_FALSE(gpu.x.is_cuda());  // results come back to the CPU
    EXPECT_LT(max_diff(cpu.x, gpu.x), 1e-3);
    EXPECT_LT(max_diff(cpu.r, gpu.r), 1e-3);
    EXPECT_EQ(cpu.network_calls, gpu.network_calls);
  }
}

TEST(Gpu, DefaultDeblurMatchesTheCpuAndRunsTheFusedKernels) {
  REQUIRE_CUDA();
  // Given the default preset (per-pixel data weights, an antithetic pair) and a TorchScript
  // prior on each device: the same sharp frame, every step fused on both.
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  const std::string dir = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/";
  Image blurry(1, 29, 41);
  for (int i = 0; i < 29; ++i)
    for (int j = 0; j < 41; ++j)
      blurry.at(0, i, j) = 0.2f + 0.015f * static_cast<float>(j) + 0.004f * static_cast<float>(i);
  EventStream ev(41, 29);
  for (int k = 0; k < 600; ++k)
    ev.push_back(30 * k, (7 * k) % 41, (3 * k) % 29, k % 3 != 0 ? 1 : -1);
  const DeblurOptions o = deblur_options(DeblurPreset::kBalanced);
  TorchScriptPriorOptions po;
  const DeblurResult cpu =
      deblur(blurry, ev, {0, 18000}, load_prior(dir + "tiny_prior.pt", po), nullptr, o);
  po.device = "cuda:0";
  const DeblurResult gpu =
      deblur(blurry, ev, {0, 18000}, load_prior(dir + "tiny_prior.pt", po), nullptr, o);
  ASSERT_EQ(gpu.sharp.channels(), 1);
  float worst = 0;
  for (size_t i = 0; i < cpu.sharp.values().size(); ++i)
    worst = std::max(worst, std::abs(cpu.sharp.values()[i] - gpu.sharp.values()[i]));
  EXPECT_LT(worst, 1e-3);
  EXPECT_GT(gpu.fused_steps, 0);
  EXPECT_EQ(gpu.fused_steps, gpu.network_calls);
  EXPECT_EQ(cpu.fused_steps, gpu.fused_steps);
}
