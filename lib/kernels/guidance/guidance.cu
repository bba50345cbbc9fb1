// CUDA twin of the fused x and r steps (guidance_cpu.cpp): the per-element math is
// guidance_math.hpp's; only the traversal differs.
#include "kernels/cuda/launch.hpp"

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
    const float wi = a.w ? a.w[fe_index] : 1.f;
    a.out[e] = r_step(a.rt[e], a.R_hat[e], a.y[e], a.fe[fe_index], a.Xs[e],
                      a.var_scalar ? a.var[0] : a.var[e], r_data_weight(s_r, wi),
                      r_l1_weight(lambda, wi), a.z ? a.z[e] : 0.f, a.v ? a.v[e] : 0.f, p);
  }
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

}  // namespace cuda
}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
