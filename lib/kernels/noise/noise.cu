// CUDA twin of the counter-based normal noise (noise.cpp): philox_math.hpp's values.
#include "kernels/cuda/launch.hpp"
#include "kernels/noise/philox_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {
namespace cuda {
namespace {

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

}  // namespace

cudaError_t launch_normal_fill(float* out, int64_t n, uint64_t seed, uint64_t stream_id,
                               cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  normal_fill_kernel<<<grid_for((n + 3) / 4), 256, 0, stream>>>(out, n, seed, stream_id);
  return cudaGetLastError();
}

}  // namespace cuda
}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
