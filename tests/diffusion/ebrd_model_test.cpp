#include "diffevent/diffusion/ebrd_model.hpp"

#include "test_util.hpp"

using namespace diffevent;

namespace {
// Central finite difference of f at x along a random direction d, against <grad, d>.
template <typename F>
void check_gradient(F f, const at::Tensor& x, const at::Tensor& grad, double tol) {
  at::Tensor d = at::randn_like(x);
  const double h = 1e-6;
  const double fd = (f(x + h * d) - f(x - h * d)) / (2 * h);
  const double an = (grad * d).sum().item<double>();
  EXPECT_NEAR(fd, an, tol * std::max(1.0, std::abs(an)))
      << "finite difference " << fd << " vs analytic " << an;
}
}  // namespace

TEST(EbrdModel, DataTermGradientsMatchFiniteDifferences) {
  at::manual_seed(1);
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor y = at::rand({3, 7, 13}, opts), E = at::rand({1, 7, 13}, opts) + 0.5;
  EbrdModel m(y, E);
  const at::Tensor x = at::rand({3, 7, 13}, opts), r = 0.1 * at::randn({3, 7, 13}, opts);
  EXPECT_NEAR(m.data_term(x, r), (y - E * x - r).pow(2).sum().item<double>(), 1e-12);
  check_gradient([&](const at::Tensor& v) { return m.data_term(v, r); }, x, m.grad_data_x(x, r),
                 1e-6);
  check_gradient([&](const at::Tensor& v) { return m.data_term(x, v); }, r, m.grad_data_r(x, r),
                 1e-6);
}

TEST(EbrdModel, WeightedDataTermAndGradientsMatchFiniteDifferences) {
  // Given per-pixel data weights w, the data term is sum w (y - f x - r)^2 and its gradients
  // -2 w f (y - f x - r) and -2 w (y - f x - r) match central differences.
  at::manual_seed(4);
  const at::Tensor y = at::rand({1, 5, 6}, at::kDouble), E = at::rand({1, 5, 6}, at::kDouble) + 0.5;
  EbrdModel m(y, E);
  m.set_data_weight(at::rand({1, 5, 6}, at::kDouble) * 3 + 0.1);
  const at::Tensor x = at::rand({1, 5, 6}, at::kDouble), r = at::rand({1, 5, 6}, at::kDouble) * 0.1;
  EXPECT_NEAR(m.data_term(x, r), (m.data_weight() * (y - E * x - r).pow(2)).sum().item<double>(),
              1e-12);
  const at::Tensor gx = m.grad_data_x(x, r), gr = m.grad_data_r(x, r);
  const double h = 1e-6;
  for (int64_t i : {0, 7, 29}) {
    at::Tensor xp = x.clone(), xm = x.clone(), rp = r.clone(), rm = r.clone();
    xp.view(-1)[i] += h;
    xm.view(-1)[i] -= h;
    rp.view(-1)[i] += h;
    rm.view(-1)[i] -= h;
    EXPECT_NEAR(gx.view(-1)[i].item<double>(), (m.data_term(xp, r) - m.data_term(xm, r)) / (2 * h),
                1e-5);
    EXPECT_NEAR(gr.view(-1)[i].item<double>(), (m.data_term(x, rp) - m.data_term(x, rm)) / (2 * h),
                1e-5);
  }
  // Bad weights are named; an undefined tensor returns to uniform weights.
  EXPECT_DIFFEVENT_ERROR(m.set_data_weight(at::ones({1, 4, 6})), ErrorCode::kInvalidArgument,
                         "must be [1,H,W] matching y");
  EXPECT_DIFFEVENT_ERROR(m.set_data_weight(at::zeros({1, 5, 6})), ErrorCode::kInvalidArgument,
                         "finite and > 0");
  at::Tensor nan = at::ones({1, 5, 6});
  nan[0][1][1] = std::nan("");
  EXPECT_DIFFEVENT_ERROR(m.set_data_weight(nan), ErrorCode::kInvalidArgument, "finite and > 0");
  m.set_data_weight(at::Tensor());
  EXPECT_NEAR(m.data_term(x, r), (y - E * x - r).pow(2).sum().item<double>(), 1e-12);
}

TEST(EbrdModel, TvAndL1GradientsMatchFiniteDifferences) {
  at::manual_seed(2);
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  for (auto shape : {std::vector<int64_t>{1, 1, 1}, std::vector<int64_t>{1, 7, 13},
                     std::vector<int64_t>{3, 5, 4}}) {
    const at::Tensor x = at::rand(shape, opts);
    check_gradient([](const at::Tensor& v) { return tv_isotropic(v, 1e-2); }, x,
                   tv_isotropic_grad(x, 1e-2), 1e-5);
    // Away from kinks, the anisotropic subgradient and the L1 subgradient are gradients.
    check_gradient([](const at::Tensor& v) { return tv_anisotropic(v); }, x,
                   tv_anisotropic_subgrad(x), 1e-5);
    const at::Tensor r = at::randn(shape, opts);
    check_gradient([](const at::Tensor& v) { return l1_norm(v); }, r, l1_subgrad(r), 1e-5);
  }
  // A constant image has zero TV (anisotropic) and eps per pixel (isotropic).
  const at::Tensor c = at::full({1, 4, 5}, 0.3, opts);
  EXPECT_EQ(tv_anisotropic(c), 0.0);
  EXPECT_NEAR(tv_isotropic(c, 1e-3), 20 * 1e-3, 1e-12);
}

TEST(EbrdModel, GuidedFilterPreservesEdgesAndRemovesNoise) {
  at::manual_seed(3);
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  at::Tensor guide = at::zeros({1, 32, 32}, opts);
  guide.narrow(2, 16, 16).fill_(1.0);
  const at::Tensor clean = 1.0 + 0.5 * guide;
  const at::Tensor noisy = clean + 0.1 * at::randn({1, 32, 32}, opts);
  const at::Tensor out = guided_filter(noisy, guide, 3, 1e-3);
  const double err_in = (noisy - clean).pow(2).mean().item<double>();
  const double err_out = (out - clean).pow(2).mean().item<double>();
  EXPECT_LT(err_out, 0.2 * err_in);
  EbrdOptions o;
  o.enhancer = Enhancer::kGuided;
  EbrdModel m(guide.expand({3, 32, 32}).contiguous(), noisy, o);
  EXPECT_EQ(m.f_e().sizes(), noisy.sizes());
  EXPECT_DIFFEVENT_ERROR(EbrdModel(at::rand({3, 4, 4}), at::rand({1, 4, 5})),
                         ErrorCode::kInvalidArgument, "must be [1,H,W]");
}

TEST(EbrdModel, TorchScriptEnhancerIsApplied) {
  const std::string path = std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/clamp_enhancer.pt";
  at::manual_seed(4);
  const at::Tensor y = at::rand({3, 6, 9}), E = at::rand({1, 6, 9});
  EbrdOptions o;
  o.enhancer = Enhancer::kTorchScript;
  o.enhancer_path = path;
  EbrdModel m(y, E, o);
  const at::Tensor expect = E.clamp_min(0.25) + 0.1 * y.mean(0, true);
  EXPECT_LT((m.f_e() - expect).abs().max().item<float>(), 1e-6);
  o.enhancer_path = "/nonexistent/enhancer.pt";
  EXPECT_DIFFEVENT_ERROR(EbrdModel(y, E, o), ErrorCode::kIoError, "no such file");
}
