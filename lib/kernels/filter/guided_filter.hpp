#pragma once
// The guided filter behind Enhancer::kGuided, as CPU and CUDA kernels (guided_filter_math.hpp).
#include <ATen/ATen.h>

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// Guided filter of p guided by I, both float32 [..., H, W] of the same shape and device
/// (any strides), window radius r >= 1, regulariser eps > 0.
at::Tensor guided_filter(const at::Tensor& p, const at::Tensor& I, int r, float eps);

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
