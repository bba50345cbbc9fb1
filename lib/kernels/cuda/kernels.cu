// CUDA twins of the CPU kernels (guidance_cpu.cpp, guided_filter_cpu.cpp, noise_cpu.cpp): the
// per-element math comes from the same headers; only the traversal differs.
#include "kernels/cuda/launch.hpp"
#include "kernels/filter/guided_filter_math.hpp"
#include "kernels/noise/philox_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {
namespace cuda {
namespace {

constexpr int kTileX = 32, kTileY = 8;

// Guided X (before TV) and 1 / curvature at element e of plane `plane`, pixel offset q.
__device__ __forceinline__ float guided_at(const XStepArgs& a, const GuidanceParams& p, int64_t e,
                                           int64_t fe_index, float* ic) {
  const float var = a.var_scalar ? a.var[0] : a.var[e];
  const float y_r = a.R ? a.y[e] - a.R[e] : a.y[e];
  const float s2 = a.w ? 2.f * p.s * a.w[fe_index] : 2.f * p.s;
  return prox_x(a.xt[e], a.eps[e], y_r, a.fe[fe_index], 1.f / var, p.x0_a, p.x0_b, s2, clip_lo(p),
                clip_hi(p), ic);
}

// Without TV: one thread per element, grid-stride.
__global__ void x_step_plain(XStepArgs a, GuidanceParams p) {
  const int64_t plane = a.H * a.W, n = a.N * a.C * plane;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t fe_index = (e / plane / a.C) * plane + e % plane;
    float ic;
    const float X = guided_at(a, p, e, fe_index, &ic);
    a.out[e] = x_out(X, a.xt[e], a.z ? a.z[e] : 0.f, a.v ? a.v[e] : 0.f, ic, p);
  }
}

// With TV: a 32x8 output tile per block. The guided X of the tile and a one-pixel halo is
// computed into shared memory, then the normals of the tile and its left column / top row,
// then each output pixel gathers its four normals (no atomics).
__global__ void x_step_tv(XStepArgs a, GuidanceParams p) {
  __shared__ float Xs[kTileY + 2][kTileX + 2];
  __shared__ float Ic[kTileY + 2][kTileX + 2];
  __shared__ float Px[kTileY + 1][kTileX + 1];
  __shared__ float Py[kTileY + 1][kTileX + 1];
  const int H = static_cast<int>(a.H), W = static_cast<int>(a.W);
  const int64_t plane_size = a.H * a.W;
  const int64_t plane = blockIdx.z;
  const int64_t base = plane * plane_size, fe_base = (plane / a.C) * plane_size;
  const int i0 = blockIdx.y * kTileY, j0 = blockIdx.x * kTileX;
  const int tid = threadIdx.y * kTileX + threadIdx.x;
  // Rows i0-1 .. i0+kTileY, columns j0-1 .. j0+kTileX.
  for (int k = tid; k < (kTileY + 2) * (kTileX + 2); k += kTileX * kTileY) {
    const int r = k / (kTileX + 2), c = k % (kTileX + 2);
    const int i = i0 - 1 + r, j = j0 - 1 + c;
    float X = 0.f, ic = 0.f;
    if (i >= 0 && i < H && j >= 0 && j < W)
      X = guided_at(a, p, base + static_cast<int64_t>(i) * W + j,
                    fe_base + static_cast<int64_t>(i) * W + j, &ic);
    Xs[r][c] = X;
    Ic[r][c] = ic;
  }
  __syncthreads();
  // Normals at rows i0-1 .. i0+kTileY-1, columns j0-1 .. j0+kTileX-1; zero outside the image.
  const float e2 = p.tv_eps * p.tv_eps;
  for (int k = tid; k < (kTileY + 1) * (kTileX + 1); k += kTileX * kTileY) {
    const int r = k / (kTileX + 1), c = k % (kTileX + 1);
    const int i = i0 - 1 + r, j = j0 - 1 + c;
    float px = 0.f, py = 0.f;
    if (i >= 0 && i < H && j >= 0 && j < W) {
      const float gx = j + 1 < W ? Xs[r][c + 1] - Xs[r][c] : 0.f;
      const float gy = i + 1 < H ? Xs[r + 1][c] - Xs[r][c] : 0.f;
      tv_normal(gx, gy, e2, &px, &py);
    }
    Px[r][c] = px;
    Py[r][c] = py;
  }
  __syncthreads();
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int i = i0 + ty, j = j0 + tx;
  if (i >= H || j >= W) return;
  const int64_t e = base + static_cast<int64_t>(i) * W + j;
  const float X2 = tv_update(Xs[ty + 1][tx + 1], Ic[ty + 1][tx + 1], p.lambda_tv, Px[ty + 1][tx],
                             Px[ty + 1][tx + 1], Py[ty][tx + 1], Py[ty + 1][tx + 1]);
  a.out[e] = x_out(X2, a.xt[e], a.z ? a.z[e] : 0.f, a.v ? a.v[e] : 0.f, Ic[ty + 1][tx + 1], p);
}

__global__ void r_step_kernel(RStepArgs a, float s_r, float lambda, GuidanceParams p) {
  const int64_t plane = a.H * a.W, n = a.N * a.C * plane;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t fe_index = (e / plane / a.C) * plane + e % plane;
    const float sw = a.w ? s_r * a.w[fe_index] : s_r;
    a.out[e] = r_step(a.rt[e], a.R_hat[e], a.y[e], a.fe[fe_index], a.Xs[e],
                      a.var_scalar ? a.var[0] : a.var[e], sw, lambda, a.z ? a.z[e] : 0.f,
                      a.v ? a.v[e] : 0.f, p);
  }
}

__global__ void normal_fill_kernel(float* out, int64_t n, uint64_t seed, uint64_t stream_id) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; b < blocks;
       b += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float z[4];
    normal4(seed, stream_id, static_cast<uint64_t>(b), z);
    const int64_t e = 4 * b;
    for (int k = 0; k < 4 && e + k < n; ++k) out[e + k] = z[k];
  }
}

// Guided filter, four passes over [planes, H, W]: horizontal window sums of (I, p, I p, I I);
// vertical sums -> means -> (a, b); horizontal sums of (a, b); vertical sums -> output.
__global__ void gf_rows4(const float* p, const float* I, float* w, int64_t planes, int H, int W,
                         int r) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W);
    const int64_t row = e - j;
    float sI = 0.f, sp = 0.f, sIp = 0.f, sII = 0.f;
    for (int jj = max(j - r, 0); jj <= min(j + r, W - 1); ++jj) {
      const float vi = I[row + jj], vp = p[row + jj];
      sI += vi;
      sp += vp;
      sIp += vi * vp;
      sII += vi * vi;
    }
    w[e] = sI;
    w[n + e] = sp;
    w[2 * n + e] = sIp;
    w[3 * n + e] = sII;
  }
}

__global__ void gf_cols_ab(const float* w, float* ab, int64_t planes, int H, int W, int r,
                           float eps) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W), i = static_cast<int>((e / W) % H);
    const int64_t col0 = e - static_cast<int64_t>(i) * W;
    float s[4] = {0.f, 0.f, 0.f, 0.f};
    for (int ii = max(i - r, 0); ii <= min(i + r, H - 1); ++ii)
      for (int q = 0; q < 4; ++q) s[q] += w[q * n + col0 + static_cast<int64_t>(ii) * W];
    const float inv = 1.f / static_cast<float>(window_count(i, r, H) * window_count(j, r, W));
    float a, b;
    guided_ab(s[0] * inv, s[1] * inv, s[2] * inv, s[3] * inv, eps, &a, &b);
    ab[e] = a;
    ab[n + e] = b;
  }
}

__global__ void gf_rows2(const float* ab, float* w, int64_t planes, int H, int W, int r) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W);
    const int64_t row = e - j;
    float sa = 0.f, sb = 0.f;
    for (int jj = max(j - r, 0); jj <= min(j + r, W - 1); ++jj) {
      sa += ab[row + jj];
      sb += ab[n + row + jj];
    }
    w[e] = sa;
    w[n + e] = sb;
  }
}

__global__ void gf_cols_out(const float* w, const float* I, float* out, int64_t planes, int H,
                            int W, int r) {
  const int64_t n = planes * H * W;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int j = static_cast<int>(e % W), i = static_cast<int>((e / W) % H);
    const int64_t col0 = e - static_cast<int64_t>(i) * W;
    float sa = 0.f, sb = 0.f;
    for (int ii = max(i - r, 0); ii <= min(i + r, H - 1); ++ii) {
      sa += w[col0 + static_cast<int64_t>(ii) * W];
      sb += w[n + col0 + static_cast<int64_t>(ii) * W];
    }
    const float inv = 1.f / static_cast<float>(window_count(i, r, H) * window_count(j, r, W));
    out[e] = sa * inv * I[e] + sb * inv;
  }
}

// Enough blocks of 256 threads to fill the device several times over (grid-stride loops).
unsigned grid_for(int64_t work) {
  const int64_t blocks = (work + 255) / 256;
  return static_cast<unsigned>(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

}  // namespace

template <bool kTv>
cudaError_t launch_x_step(const XStepArgs& a, const GuidanceParams& p, cudaStream_t stream) {
  const int64_t n = a.N * a.C * a.H * a.W;
  if (n == 0) return cudaSuccess;
  if (kTv) {
    if (a.N * a.C > 65535) return cudaErrorInvalidConfiguration;
    const dim3 block(kTileX, kTileY);
    const dim3 grid(static_cast<unsigned>((a.W + kTileX - 1) / kTileX),
                    static_cast<unsigned>((a.H + kTileY - 1) / kTileY),
                    static_cast<unsigned>(a.N * a.C));
    x_step_tv<<<grid, block, 0, stream>>>(a, p);
  } else {
    x_step_plain<<<grid_for(n), 256, 0, stream>>>(a, p);
  }
  return cudaGetLastError();
}

template cudaError_t launch_x_step<true>(const XStepArgs&, const GuidanceParams&, cudaStream_t);
template cudaError_t launch_x_step<false>(const XStepArgs&, const GuidanceParams&, cudaStream_t);

cudaError_t launch_r_step(const RStepArgs& a, float s_r, float lambda_l1, const GuidanceParams& p,
                          cudaStream_t stream) {
  const int64_t n = a.N * a.C * a.H * a.W;
  if (n == 0) return cudaSuccess;
  r_step_kernel<<<grid_for(n), 256, 0, stream>>>(a, s_r, lambda_l1, p);
  return cudaGetLastError();
}

cudaError_t launch_normal_fill(float* out, int64_t n, uint64_t seed, uint64_t stream_id,
                               cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  normal_fill_kernel<<<grid_for((n + 3) / 4), 256, 0, stream>>>(out, n, seed, stream_id);
  return cudaGetLastError();
}

cudaError_t launch_guided_filter(const float* p, const float* I, float* out, float* work,
                                 int64_t planes, int H, int W, int r, float eps,
                                 cudaStream_t stream) {
  const int64_t n = planes * H * W;
  if (n == 0) return cudaSuccess;
  float* sums = work;        // 4 planes
  float* ab = work + 4 * n;  // 2 planes
  gf_rows4<<<grid_for(n), 256, 0, stream>>>(p, I, sums, planes, H, W, r);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return err;
  gf_cols_ab<<<grid_for(n), 256, 0, stream>>>(sums, ab, planes, H, W, r, eps);
  if ((err = cudaGetLastError()) != cudaSuccess) return err;
  gf_rows2<<<grid_for(n), 256, 0, stream>>>(ab, sums, planes, H, W, r);
  if ((err = cudaGetLastError()) != cudaSuccess) return err;
  gf_cols_out<<<grid_for(n), 256, 0, stream>>>(sums, I, out, planes, H, W, r);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
