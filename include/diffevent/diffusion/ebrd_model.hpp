#pragma once
/// \file ebrd_model.hpp
/// EbrdModel: the paper's event-based blur-residual model y = f(E) * x + r (slides eq. 4),
/// its data term and closed-form gradients, and the TV and L1 regularisers.

#include <ATen/ATen.h>

#include <string>

#include "diffevent/core/export.hpp"
#include "diffevent/diffusion/options.hpp"

namespace diffevent {
inline namespace v1 {

/// y = f(E) * x + r in linear intensity [0, 1]: y [C,H,W] the blurry frame, E [1,H,W] the
/// double integral (shared by all channels), x [C,H,W] the sharp frame, r [C,H,W] the residual.
/// Priors work in [-1, 1]: x = (x_prior + 1) / 2, so d/dx_prior = 0.5 d/dx (docs/sampler.md).
///
/// \code
///   EbrdModel m(y, E);                          // identity enhancer
///   double d = m.data_term(x, r);               // ||y - f(E) x - r||^2
///   at::Tensor gx = m.grad_data_x(x, r);        // -2 f(E) (y - f(E) x - r)
/// \endcode
class DIFFEVENT_API EbrdModel {
 public:
  EbrdModel(at::Tensor y, at::Tensor E, EbrdOptions options = {});

  const at::Tensor& y() const noexcept { return y_; }
  const at::Tensor& f_e() const noexcept { return fe_; }

  /// Per-pixel data weights w [1,H,W] (finite, > 0): the data term becomes
  /// sum w (y - f(E) x - r)^2, so a pixel whose data are less reliable (a larger residual
  /// expected there) pulls less against the priors. Undefined (the default): w = 1.
  /// deblur() sets it from the threshold noise model (DeblurOptions::threshold_sigma).
  void set_data_weight(at::Tensor w);
  const at::Tensor& data_weight() const noexcept { return w_; }

  /// f(E) * x + r.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& r) const;
  /// y - f(E) x - r.
  at::Tensor residual(const at::Tensor& x, const at::Tensor& r) const;
  /// sum w (y - f(E) x - r)^2 over all elements (w = 1 without data weights).
  double data_term(const at::Tensor& x, const at::Tensor& r) const;
  /// d data_term / dx = -2 w f(E) (y - f(E) x - r).
  at::Tensor grad_data_x(const at::Tensor& x, const at::Tensor& r) const;
  /// d data_term / dr = -2 w (y - f(E) x - r).
  at::Tensor grad_data_r(const at::Tensor& x, const at::Tensor& r) const;

 private:
  at::Tensor weighted(const at::Tensor& v) const { return w_.defined() ? w_ * v : v; }
  at::Tensor y_, fe_, w_;
};

/// Isotropic TV with epsilon smoothing: sum over pixels and channels of
/// sqrt(dx^2 + dy^2 + eps^2), forward differences, zero difference past the last row/column.
DIFFEVENT_API double tv_isotropic(const at::Tensor& x, double eps = 1e-3);
/// Its exact gradient (the negative divergence of the normalised gradient field), as gathers.
DIFFEVENT_API at::Tensor tv_isotropic_grad(const at::Tensor& x, double eps = 1e-3);
/// Anisotropic TV: sum |dx| + |dy|.
DIFFEVENT_API double tv_anisotropic(const at::Tensor& x);
/// A subgradient of anisotropic TV (sign(0) = 0).
DIFFEVENT_API at::Tensor tv_anisotropic_subgrad(const at::Tensor& x);
/// ||r||_1 and its subgradient sign(r).
DIFFEVENT_API double l1_norm(const at::Tensor& r);
DIFFEVENT_API at::Tensor l1_subgrad(const at::Tensor& r);
/// Guided filter (He et al.) of p [1,H,W] guided by I [1,H,W], box radius, regulariser eps.
DIFFEVENT_API at::Tensor guided_filter(const at::Tensor& p, const at::Tensor& I, int radius,
                                       double eps);

}  // namespace v1
}  // namespace diffevent
