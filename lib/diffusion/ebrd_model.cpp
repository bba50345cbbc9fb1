#include "diffevent/diffusion/ebrd_model.hpp"

#include <torch/script.h>

#include <filesystem>

#include "core/check.hpp"
#include "kernels/filter/guided_filter.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

// Forward difference along `dim` (-1: W, -2: H), zero past the last sample.
at::Tensor forward_diff(const at::Tensor& x, int64_t dim) {
  at::Tensor d = at::zeros_like(x);
  const int64_t n = x.size(dim);
  if (n > 1) d.narrow(dim, 0, n - 1).copy_(x.narrow(dim, 1, n - 1) - x.narrow(dim, 0, n - 1));
  return d;
}
// Its adjoint, as a gather: (D^T p)[j] = p[j-1] - p[j], with p[-1] = 0 and p[n-1] = 0.
at::Tensor forward_diff_adjoint(const at::Tensor& p, int64_t dim) {
  at::Tensor out = at::zeros_like(p);
  const int64_t n = p.size(dim);
  if (n > 1) {
    at::Tensor q = p.narrow(dim, 0, n - 1);
    out.narrow(dim, 0, n - 1).sub_(q);
    out.narrow(dim, 1, n - 1).add_(q);
  }
  return out;
}
constexpr int64_t kW = -1, kH = -2;

}  // namespace

EbrdModel::EbrdModel(at::Tensor y, at::Tensor E, EbrdOptions options) : y_(std::move(y)) {
  DIFFEVENT_CHECK(y_.defined() && y_.dim() == 3 && (y_.size(0) == 1 || y_.size(0) == 3),
                  ErrorCode::kInvalidArgument, "ebrd: y must be [C,H,W] with C = 1 or 3");
  DIFFEVENT_CHECK(E.defined() && E.dim() == 3 && E.size(0) == 1 && E.size(1) == y_.size(1) &&
                      E.size(2) == y_.size(2),
                  ErrorCode::kInvalidArgument, "ebrd: E must be [1,H,W] matching y [{}, {}, {}]",
                  y_.size(0), y_.size(1), y_.size(2));
  DIFFEVENT_CHECK(at::isfinite(E).all().item<bool>() && at::isfinite(y_).all().item<bool>(),
                  ErrorCode::kInvalidArgument, "ebrd: y or E contains NaN or infinite values");
  validate(options);
  switch (options.enhancer) {
    case Enhancer::kIdentity:
      fe_ = E;
      break;
    case Enhancer::kGuided: {
      // Self-guided: E's own edges (the motion it encodes) are kept, its speckle (from noise
      // events and threshold mismatch) smoothed. Guiding by the blurry frame was tried and
      // erases E's structure, which is exactly what y lacks (docs/sampler.md).
      fe_ = guided_filter(E, E, options.guided_radius, options.guided_eps);
      break;
    }
    case Enhancer::kTorchScript: {
      DIFFEVENT_CHECK(std::filesystem::exists(options.enhancer_path), ErrorCode::kIoError,
                      "enhancer '{}': no such file", options.enhancer_path);
      torch::jit::script::Module m;
      try {
        m = torch::jit::load(options.enhancer_path, at::kCPU);
      } catch (const c10::Error& e) {
        throw Error(ErrorCode::kFormatError,
                    fmt::format("enhancer '{}': not a loadable TorchScript archive ({})",
                                options.enhancer_path, e.what_without_backtrace()));
      }
      m.eval();
      c10::InferenceMode guard;
      at::Tensor out;
      try {
        out = m.forward({E.to(at::kFloat).unsqueeze(0), y_.to(at::kFloat).unsqueeze(0)}).toTensor();
      } catch (const c10::Error& e) {
        throw Error(ErrorCode::kInvalidArgument,
                    fmt::format("enhancer forward failed: {}", e.what_without_backtrace()));
      }
      DIFFEVENT_CHECK(out.dim() == 4 && out.size(0) == 1 && out.size(1) == 1 &&
                          out.size(2) == E.size(1) && out.size(3) == E.size(2),
                      ErrorCode::kFormatError, "enhancer: returned [{}], expected [1,1,{},{}]",
                      fmt::join(out.sizes(), ", "), E.size(1), E.size(2));
      fe_ = out[0].to(E.scalar_type()).clone();
      DIFFEVENT_CHECK(at::isfinite(fe_).all().item<bool>() && (fe_ > 0).all().item<bool>(),
                      ErrorCode::kInvalidArgument, "enhancer: f(E) must be finite and > 0");
      break;
    }
  }
}

void EbrdModel::set_data_weight(at::Tensor w) {
  if (!w.defined()) {
    w_ = at::Tensor();
    return;
  }
  DIFFEVENT_CHECK(
      w.dim() == 3 && w.size(0) == 1 && w.size(1) == y_.size(1) && w.size(2) == y_.size(2),
      ErrorCode::kInvalidArgument,
      "ebrd: data weights must be [1,H,W] matching y [{}, {}, {}], got [{}]", y_.size(0),
      y_.size(1), y_.size(2), fmt::join(w.sizes(), ", "));
  DIFFEVENT_CHECK(at::isfinite(w).all().item<bool>() && (w > 0).all().item<bool>(),
                  ErrorCode::kInvalidArgument, "ebrd: data weights must be finite and > 0");
  w_ = std::move(w);
}

at::Tensor EbrdModel::forward(const at::Tensor& x, const at::Tensor& r) const {
  return fe_ * x + r;
}
at::Tensor EbrdModel::residual(const at::Tensor& x, const at::Tensor& r) const {
  return y_ - fe_ * x - r;
}
double EbrdModel::data_term(const at::Tensor& x, const at::Tensor& r) const {
  return weighted(residual(x, r).pow(2)).sum().item<double>();
}
at::Tensor EbrdModel::grad_data_x(const at::Tensor& x, const at::Tensor& r) const {
  return -2 * fe_ * weighted(residual(x, r));
}
at::Tensor EbrdModel::grad_data_r(const at::Tensor& x, const at::Tensor& r) const {
  return -2 * weighted(residual(x, r));
}

double tv_isotropic(const at::Tensor& x, double eps) {
  const at::Tensor gx = forward_diff(x, kW), gy = forward_diff(x, kH);
  return at::sqrt(gx * gx + gy * gy + eps * eps).sum().item<double>();
}

at::Tensor tv_isotropic_grad(const at::Tensor& x, double eps) {
  const at::Tensor gx = forward_diff(x, kW), gy = forward_diff(x, kH);
  const at::Tensor n = at::sqrt(gx * gx + gy * gy + eps * eps);
  return forward_diff_adjoint(gx / n, kW) + forward_diff_adjoint(gy / n, kH);
}

double tv_anisotropic(const at::Tensor& x) {
  return (forward_diff(x, kW).abs().sum() + forward_diff(x, kH).abs().sum()).item<double>();
}

at::Tensor tv_anisotropic_subgrad(const at::Tensor& x) {
  return forward_diff_adjoint(at::sign(forward_diff(x, kW)), kW) +
         forward_diff_adjoint(at::sign(forward_diff(x, kH)), kH);
}

double l1_norm(const at::Tensor& r) { return r.abs().sum().item<double>(); }
at::Tensor l1_subgrad(const at::Tensor& r) { return at::sign(r); }

at::Tensor guided_filter(const at::Tensor& p, const at::Tensor& I, int radius, double eps) {
  DIFFEVENT_CHECK(p.dim() == 3 && I.dim() == 3 && p.sizes() == I.sizes() && p.size(0) == 1,
                  ErrorCode::kInvalidArgument, "guided_filter: p and I must both be [1,H,W]");
  // The CPU kernel or its CUDA twin (kernels/filter), on the tensors' device.
  return kernels::guided_filter(p, I, radius, static_cast<float>(eps)).to(p.scalar_type());
}

}  // namespace v1
}  // namespace diffevent
