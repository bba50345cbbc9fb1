#pragma once
// Per-pixel math of the proximal x step and the r step (docs/sampler.md), written once for the
// CPU kernel (guidance_cpu.cpp) and its CUDA twin (guidance_cuda.cu): no LibTorch, no
// allocation, host/device inline functions of scalars (so the CPU row loops still vectorise).
#include "kernels/hd.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

struct GuidanceParams {
  float x0_a, x0_b;                // x0 = a x_t - b eps
  float c1, c2;                    // posterior mean = c1 x0 + c2 x_t
  float sigma;                     // noise scale (fixed variance); ignored with learned variance
  float log_beta, log_beta_tilde;  // learned-range bounds
  float s;                         // data weight
  float lambda_tv, tv_eps;
  bool clip, last, learned;
  bool analytic;  // sigma^2 = beta_tilde + c1^2 * 4 / curvature (per element)
  float beta_tilde;
};

// std::min(std::max(v, lo), hi) spelled as two single selects: GCC turns those into vector
// max/min, but not a nested conditional (which kept the CPU row loops scalar: 14x slower).
DIFFEVENT_HD inline float clampf(float v, float lo, float hi) {
  const float t = v < lo ? lo : v;
  return hi < t ? hi : t;
}
DIFFEVENT_HD inline float clip_lo(const GuidanceParams& p) { return p.clip ? -1.f : -3.0e38f; }
DIFFEVENT_HD inline float clip_hi(const GuidanceParams& p) { return p.clip ? 1.f : 3.0e38f; }

// Guided clean prediction before TV, in [0,1] units: the per-pixel product of the prior's
// N(X_hat, 1/iv) and the data term exp(-s (y - fe X - R)^2), with y_r = y - R and s2 = 2 s.
// Writes 1 / curvature (curvature = iv + s2 fe^2) to *ic.
DIFFEVENT_HD inline float prox_x(float xt, float eps, float y_r, float fe, float iv, float a,
                                 float b, float s2, float lo, float hi, float* ic) {
  const float x0 = clampf(a * xt - b * eps, lo, hi);
  const float inv_cur = 1.f / (iv + s2 * fe * fe);
  *ic = inv_cur;
  return (0.5f * (x0 + 1.f) * iv + s2 * fe * y_r) * inv_cur;
}

// Normalised forward-difference gradient (px, py) of X from its differences to the right and
// lower neighbours (0 past the last column / row); e2 = tv_eps^2.
DIFFEVENT_HD inline void tv_normal(float gx, float gy, float e2, float* px, float* py) {
  const float inv = 1.f / sqrtf(gx * gx + gy * gy + e2);
  *px = gx * inv;
  *py = gy * inv;
}

// One preconditioned TV gradient step as a gather: div = px(i,j-1) - px(i,j) + py(i-1,j) -
// py(i,j), with normals outside the image 0. No scatter, so bit-reproducible on any device.
DIFFEVENT_HD inline float tv_update(float X, float ic, float lambda, float px_left, float px,
                                    float py_up, float py) {
  return X - lambda * ic * (px_left - px + py_up - py);
}

// The DDPM reverse step from a guided clean prediction x0g (prior units): posterior mean plus
// fixed or learned-range noise; no noise on the last step.
DIFFEVENT_HD inline float reverse_step(float x0g, float xt, float z, float v,
                                       const GuidanceParams& p) {
  if (p.clip) x0g = clampf(x0g, -1.f, 1.f);
  const float mean = p.c1 * x0g + p.c2 * xt;
  if (p.last) return mean;
  float sigma = p.sigma;
  if (p.learned) {
    const float f = 0.5f * (v + 1.f);
    sigma = expf(0.5f * (f * p.log_beta + (1.f - f) * p.log_beta_tilde));
  }
  return mean + sigma * z;
}

// x_{t-1} from the guided clean prediction X2 in [0,1] units (after TV) and 1 / curvature
// (analytic variance: beta~ + c1^2 4 / curvature, noise on the last step too).
DIFFEVENT_HD inline float x_out(float X2, float xt, float z, float v, float ic,
                                const GuidanceParams& p) {
  if (p.analytic) {
    const float mean = p.c1 * clampf(2.f * X2 - 1.f, clip_lo(p), clip_hi(p)) + p.c2 * xt;
    return mean + sqrtf(p.beta_tilde + p.c1 * p.c1 * 4.f * ic) * z;
  }
  return reverse_step(2.f * X2 - 1.f, xt, z, v, p);
}

// The r step's data and L1 weights at a pixel of data weight w (threshold noise model, w =
// (0.01 / sigma_p)^2 for a residual of expected size sigma_p; w = 1 without the model): the
// data weight s' w, and the L1 weight of a Laplace prior of standard deviation sigma_p,
// lambda' sqrt(w) (lambda' is the weight at a pixel whose expected residual is 0.01).
DIFFEVENT_HD inline float r_data_weight(float s_r, float w) { return s_r * w; }
DIFFEVENT_HD inline float r_l1_weight(float lambda, float w) { return lambda * sqrtf(w); }

// The r step for one element (docs/sampler.md): the exact minimiser of
// s'(y - fe X* - R)^2 + lambda' |R| + (R - R_hat)^2 / (2 var) (a soft threshold), then the
// reverse step of r from its guided clean prediction. R is in [-1/2, 1/2] units (r/2); s_r and
// lambda are this pixel's (r_data_weight, r_l1_weight).
DIFFEVENT_HD inline float r_step(float rt, float R_hat, float y, float fe, float Xs, float var,
                                 float s_r, float lambda, float z, float v,
                                 const GuidanceParams& p) {
  const float a = s_r + 1.f / (2.f * var);
  const float m = (s_r * (y - fe * Xs) + R_hat / (2.f * var)) / a;
  const float thr = lambda / (2.f * a);
  const float mag = fabsf(m) - thr;
  const float R = mag > 0.f ? (m > 0.f ? mag : -mag) : 0.f;
  return reverse_step(2.f * R, rt, z, v, p);
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
