#pragma once
// Private: counter-based normal noise on the CPU (noise.hpp's dispatcher calls it).
#include <cstdint>

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// n standard normal values of Philox stream `stream` under `seed` (4 per counter block).
void normal_fill_cpu(float* out, int64_t n, uint64_t seed, uint64_t stream);

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
