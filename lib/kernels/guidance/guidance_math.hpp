#pragma once
// Per-pixel math of the proximal x step (docs/sampler.md), written once for the CPU kernel and
// its future CUDA twin: no LibTorch, no allocation, host/device inline functions.
#include <cmath>

#if defined(__CUDACC__)
#define DIFFEVENT_HD __host__ __device__
#else
#define DIFFEVENT_HD
#endif

namespace diffevent {
inline namespace v1 {
namespace kernels {

struct GuidanceParams {
  float x0_a, x0_b;      // x0 = a x_t - b eps
  float c1, c2;          // posterior mean = c1 x0 + c2 x_t
  float sigma;           // noise scale (fixed variance); ignored with learned variance
  float log_beta, log_beta_tilde;  // learned-range bounds
  float s;               // data weight
  float lambda_tv, tv_eps;
  bool clip, last, learned;
  bool analytic;         // sigma^2 = beta_tilde + c1^2 * 4 / curvature (per element)
  float beta_tilde;
};

DIFFEVENT_HD inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Guided clean prediction before TV, in [0,1] units: the per-pixel product of the prior's
// N(X_hat, var) and the data term exp(-s (y - fe X - R)^2). Returns X and the curvature.
DIFFEVENT_HD inline float prox_x(float xt, float eps, float y, float fe, float R, float var, const GuidanceParams& p,
                                 float* curvature) {
  float x0 = p.x0_a * xt - p.x0_b * eps;
  if (p.clip) x0 = clampf(x0, -1.f, 1.f);
  const float X = 0.5f * (x0 + 1.f);
  const float cur = 1.f / var + 2.f * p.s * fe * fe;
  if (curvature) *curvature = cur;
  return (X / var + 2.f * p.s * fe * (y - R)) / cur;
}

// Normalised forward-difference gradient (px, py) of X at a pixel from X there and at its
// right and lower neighbours (has_r / has_d false at the last column / row).
DIFFEVENT_HD inline void tv_normal(float X, float Xr, float Xd, bool has_r, bool has_d, float eps, float* px, float* py) {
  const float gx = has_r ? Xr - X : 0.f, gy = has_d ? Xd - X : 0.f;
  const float n = sqrtf(gx * gx + gy * gy + eps * eps);
  *px = gx / n;
  *py = gy / n;
}

// The DDPM reverse step from a guided clean prediction x0g (prior units): posterior mean plus
// fixed or learned-range noise; no noise on the last step.
DIFFEVENT_HD inline float reverse_step(float x0g, float xt, float z, float v, const GuidanceParams& p) {
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

// x_{t-1} from the guided clean prediction X2 in [0,1] units (after TV).
DIFFEVENT_HD inline float x_prev(float X2, float xt, float z, float v, const GuidanceParams& p) {
  return reverse_step(2.f * X2 - 1.f, xt, z, v, p);
}

// The r step for one element (docs/sampler.md): the exact minimiser of
// s'(y - fe X* - R)^2 + lambda' |R| + (R - R_hat)^2 / (2 var) (a soft threshold), then the
// reverse step of r from its guided clean prediction. R is in [-1/2, 1/2] units (r/2).
DIFFEVENT_HD inline float r_step(float rt, float R_hat, float y, float fe, float Xs, float var, float s_r, float lambda,
                                 float z, float v, const GuidanceParams& p) {
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
