// The fused x and r steps on the CPU: raw pointers, the per-element math of guidance_math.hpp
// (the CUDA twin is guidance.cu; guidance.cpp dispatches).
#include "kernels/guidance/guidance_cpu.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.hpp"

// Row loops are compiled twice and picked at run time (AVX2+FMA where the CPU has it, the
// portable baseline otherwise): with TV the step is compute-bound (a square root and
// divisions per element) and the baseline x86-64 target has only 4-wide SSE2.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define DIFFEVENT_ROW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DIFFEVENT_ROW_CLONES
#endif

namespace diffevent {
inline namespace v1 {
namespace kernels {
namespace {

// One pass over memory, row by row: guided values X of rows i and i+1 and the normalised TV
// field of rows i-1 and i live in small rolling row buffers (cache-resident), so every input
// element is read once and every output written once, and the inner loops are branch-free and
// vectorise. The TV gradient is a gather per output pixel, grad = px(i,j-1) - px(i,j) +
// py(i-1,j) - py(i,j): no scatter, bit-reproducible. Math from guidance_math.hpp.
// Parameters are copied to locals and pointers marked restrict: otherwise every store could
// alias the parameter struct and the loops would neither hoist nor vectorise (measured 3x).
DIFFEVENT_ROW_CLONES void prox_row(int64_t W, const float* __restrict__ xt,
                                   const float* __restrict__ eps, const float* __restrict__ y,
                                   const float* __restrict__ fe, const float* __restrict__ wt,
                                   const float* __restrict__ R, const float* __restrict__ var,
                                   bool var_scalar, const GuidanceParams& p, float* __restrict__ X,
                                   float* __restrict__ inv_cur) {
  // Writes the guided X and 1 / curvature (one division per element; 1/var hoisted when scalar).
  // wt: per-pixel data weights (null: 1), multiplying s.
  const float a = p.x0_a, b = p.x0_b, s2 = 2.f * p.s, lo = clip_lo(p), hi = clip_hi(p);
  if (var_scalar && !R && !wt) {
    const float iv = 1.f / var[0];
    for (int64_t j = 0; j < W; ++j)
      X[j] = prox_x(xt[j], eps[j], y[j], fe[j], iv, a, b, s2, lo, hi, &inv_cur[j]);
  } else if (var_scalar && !R) {
    const float iv = 1.f / var[0];
    for (int64_t j = 0; j < W; ++j)
      X[j] = prox_x(xt[j], eps[j], y[j], fe[j], iv, a, b, s2 * wt[j], lo, hi, &inv_cur[j]);
  } else if (var_scalar && !wt) {
    const float iv = 1.f / var[0];
    for (int64_t j = 0; j < W; ++j)
      X[j] = prox_x(xt[j], eps[j], y[j] - R[j], fe[j], iv, a, b, s2, lo, hi, &inv_cur[j]);
  } else if (var_scalar) {
    const float iv = 1.f / var[0];
    for (int64_t j = 0; j < W; ++j)
      X[j] = prox_x(xt[j], eps[j], y[j] - R[j], fe[j], iv, a, b, s2 * wt[j], lo, hi, &inv_cur[j]);
  } else {
    for (int64_t j = 0; j < W; ++j)
      X[j] = prox_x(xt[j], eps[j], y[j] - (R ? R[j] : 0.f), fe[j], 1.f / var[j], a, b,
                    wt ? s2 * wt[j] : s2, lo, hi, &inv_cur[j]);
  }
}

DIFFEVENT_ROW_CLONES void normal_row(int64_t W, const float* __restrict__ X,
                                     const float* __restrict__ Xd, bool has_d, float eps,
                                     float* __restrict__ px, float* __restrict__ py) {
  // Branch-free body; the last column (no right neighbour) and the last row (no lower one) are
  // handled outside the vector loop.
  const float e2 = eps * eps;
  const int64_t body = W - 1;
  if (has_d) {
    for (int64_t j = 0; j < body; ++j) tv_normal(X[j + 1] - X[j], Xd[j] - X[j], e2, &px[j], &py[j]);
  } else {
    for (int64_t j = 0; j < body; ++j) tv_normal(X[j + 1] - X[j], 0.f, e2, &px[j], &py[j]);
  }
  tv_normal(0.f, has_d ? Xd[body] - X[body] : 0.f, e2, &px[body], &py[body]);
}

// The TV update of a row (py_prev null on the first row, where the normals above are 0).
DIFFEVENT_ROW_CLONES void tv_row(int64_t W, const float* __restrict__ X,
                                 const float* __restrict__ icur, const float* __restrict__ px,
                                 const float* __restrict__ py, const float* __restrict__ py_prev,
                                 float lambda, float* __restrict__ out) {
  out[0] = tv_update(X[0], icur[0], lambda, 0.f, px[0], py_prev ? py_prev[0] : 0.f, py[0]);
  if (py_prev) {
    for (int64_t j = 1; j < W; ++j)
      out[j] = tv_update(X[j], icur[j], lambda, px[j - 1], px[j], py_prev[j], py[j]);
  } else {
    for (int64_t j = 1; j < W; ++j)
      out[j] = tv_update(X[j], icur[j], lambda, px[j - 1], px[j], 0.f, py[j]);
  }
}

// x_{t-1} for a row; the loop-invariant cases (last step, fixed variance) are split so the
// common loop is a plain fused multiply-add chain (the same formula as reverse_step).
DIFFEVENT_ROW_CLONES void out_row(int64_t W, const float* __restrict__ X,
                                  const float* __restrict__ xt, const float* __restrict__ z,
                                  const float* __restrict__ v, const float* __restrict__ icur,
                                  const GuidanceParams& p, float* __restrict__ out) {
  const float c1 = p.c1, c2 = p.c2, sigma = p.sigma, lo = clip_lo(p), hi = clip_hi(p);
  if (p.analytic || p.learned) {
    for (int64_t j = 0; j < W; ++j)
      out[j] = x_out(X[j], xt[j], z ? z[j] : 0.f, v ? v[j] : 0.f, icur[j], p);
  } else if (p.last || !z) {
    for (int64_t j = 0; j < W; ++j) out[j] = c1 * clampf(2.f * X[j] - 1.f, lo, hi) + c2 * xt[j];
  } else {
    for (int64_t j = 0; j < W; ++j)
      out[j] = c1 * clampf(2.f * X[j] - 1.f, lo, hi) + c2 * xt[j] + sigma * z[j];
  }
}

}  // namespace

void x_step_cpu(int64_t NC, int64_t C, int64_t H, int64_t W, const float* xt, const float* eps,
                const float* y, const float* fe, const float* wt, const float* R, const float* var,
                bool var_scalar, const float* z, const float* v, const GuidanceParams& p,
                float* out) {
  const int64_t plane = H * W;
  const bool tv = p.lambda_tv > 0.f;
  at::parallel_for(0, NC * H, 32, [&](int64_t begin, int64_t end) {
    std::vector<float> Xc(static_cast<size_t>(W)), Xn(static_cast<size_t>(W)),
        cur(static_cast<size_t>(W)), curn(static_cast<size_t>(W)), pxc(static_cast<size_t>(W)),
        pyc(static_cast<size_t>(W)), pxp(static_cast<size_t>(W)), pyp(static_cast<size_t>(W)),
        X2(static_cast<size_t>(W)), tmp(static_cast<size_t>(W));
    int64_t prev_row = -2;
    for (int64_t row = begin; row < end; ++row) {
      const int64_t c = row / H, i = row % H;
      const int64_t base = c * plane;
      const float* fe_plane =
          fe + (c / C) * plane;  // f(E) and the weights are shared by a frame's channels
      const float* w_plane = wt ? wt + (c / C) * plane : nullptr;
      auto prox = [&](int64_t ii, float* X, float* cu) {
        const int64_t e = base + ii * W;
        prox_row(W, xt + e, eps + e, y + e, fe_plane + ii * W, w_plane ? w_plane + ii * W : nullptr,
                 R ? R + e : nullptr, var_scalar ? var : var + e, var_scalar, p, X, cu);
      };
      if (!tv) {
        prox(i, Xc.data(), cur.data());
      } else {
        if (prev_row != row - 1 || i == 0) {
          // (Re)start the rolling window at this row: X of row i, and the normals of row i-1.
          prox(i, Xc.data(), cur.data());
          if (i > 0) {
            prox(i - 1, tmp.data(), X2.data());
            normal_row(W, tmp.data(), Xc.data(), true, p.tv_eps, pxp.data(), pyp.data());
          } else {
            std::fill(pyp.begin(), pyp.end(), 0.f);
          }
        }
        const bool has_d = i + 1 < H;
        if (has_d) prox(i + 1, Xn.data(), curn.data());
        normal_row(W, Xc.data(), Xn.data(), has_d, p.tv_eps, pxc.data(), pyc.data());
        tv_row(W, Xc.data(), cur.data(), pxc.data(), pyc.data(), i > 0 ? pyp.data() : nullptr,
               p.lambda_tv, X2.data());
      }
      const float* Xout = tv ? X2.data() : Xc.data();
      const int64_t e = base + i * W;
      out_row(W, Xout, xt + e, z ? z + e : nullptr, v ? v + e : nullptr, cur.data(), p, out + e);
      if (tv) {
        // Roll: row i+1 becomes row i; the normals of row i become those of the previous row.
        std::swap(Xc, Xn);
        std::swap(cur, curn);
        std::swap(pxp, pxc);
        std::swap(pyp, pyc);
      }
      prev_row = row;
    }
  });
}

void r_step_cpu(int64_t N, int64_t C, int64_t plane, const float* rt_in, const float* R_hat,
                const float* y, const float* fe, const float* w, const float* Xs, const float* var,
                bool var_scalar, const float* z, const float* v, float s_r, float lambda_l1,
                const GuidanceParams& p, float* out) {
  const float* __restrict__ rt = rt_in;
  const float* __restrict__ Rh = R_hat;
  const float* __restrict__ yy = y;
  const float* __restrict__ ff = fe;
  const float* __restrict__ ww = w;
  const float* __restrict__ xs = Xs;
  const float* __restrict__ vr = var;
  const float* __restrict__ zz = z;
  const float* __restrict__ vv = v;
  float* __restrict__ o = out;
  at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
    for (int64_t pc = begin; pc < end; ++pc) {
      const float* fe_plane = ff + (pc / C) * plane;
      const float* w_plane = ww ? ww + (pc / C) * plane : nullptr;
      const int64_t base = pc * plane;
      for (int64_t i = 0; i < plane; ++i) {
        const int64_t e = base + i;
        const float wi = w_plane ? w_plane[i] : 1.f;
        o[e] = r_step(rt[e], Rh[e], yy[e], fe_plane[i], xs[e], var_scalar ? vr[0] : vr[e],
                      r_data_weight(s_r, wi), r_l1_weight(lambda_l1, wi), zz ? zz[e] : 0.f,
                      vv ? vv[e] : 0.f, p);
      }
    }
  });
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
