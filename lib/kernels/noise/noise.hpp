#pragma once
// Counter-based Gaussian noise tensors (Philox4x32-10 + Box-Muller, philox_math.hpp): the same
// values for the same (seed, stream) on the CPU and on CUDA.
#include <ATen/ATen.h>

#include <cstdint>

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// A float32 tensor of `sizes` on `device` whose element i (row-major) is normal i of `stream`
/// under `seed`.
at::Tensor philox_normal(at::IntArrayRef sizes, const at::Device& device, uint64_t seed,
                         uint64_t stream);

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
