#pragma once
// Shared by the ATen-level dispatchers of the kernels: dense inputs, and (in CUDA builds) the
// device guard, LibTorch's current stream and launch checking.
#include <ATen/ATen.h>

#include "core/check.hpp"

#ifdef DIFFEVENT_HAVE_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/cuda/launch.hpp"
#endif

namespace diffevent {
inline namespace v1 {
namespace kernels {

/// A contiguous version of t (t itself when it already is; undefined stays undefined): the
/// kernels take raw pointers, so views, transposes and slices are copied once here.
inline at::Tensor dense(const at::Tensor& t) { return t.defined() ? t.contiguous() : t; }

#ifdef DIFFEVENT_HAVE_CUDA
/// The tensor's device made current for the launch, and LibTorch's current stream on it.
struct CudaContext {
  explicit CudaContext(const at::Tensor& t)
      : guard(t.device()), stream(c10::cuda::getCurrentCUDAStream(t.device().index()).stream()) {}
  c10::cuda::CUDAGuard guard;
  cudaStream_t stream;
};

/// Every launch is checked: a failure names the kernel and CUDA's message.
inline void check_launch(cudaError_t err, const char* what) {
  DIFFEVENT_CHECK(err == cudaSuccess, ErrorCode::kInternal, "{}: CUDA launch failed: {}", what,
                  cudaGetErrorString(err));
}
#endif

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
