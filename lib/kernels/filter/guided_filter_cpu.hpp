#pragma once
// Private: the guided filter on the CPU (guided_filter.hpp's dispatcher calls it).
#include <cstdint>

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// Self- or cross-guided filter of `planes` planes of H x W: out from p guided by I, window
/// radius r, regulariser eps.
void guided_filter_cpu(const float* p, const float* I, float* out, int64_t planes, int H, int W,
                       int r, float eps);

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
