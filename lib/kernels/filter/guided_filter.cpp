// Dispatcher of the guided filter: checks the tensors, then runs the CPU loops
// (guided_filter_cpu.cpp) or the CUDA twin (guided_filter.cu) on their device.
#include "kernels/filter/guided_filter.hpp"

#include <ATen/Parallel.h>

#include <algorithm>

#include "core/check.hpp"
#include "kernels/dispatch.hpp"
#include "kernels/filter/guided_filter_cpu.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {
at::Tensor guided_filter(const at::Tensor& p_in, const at::Tensor& I_in, int r, float eps) {
  DIFFEVENT_CHECK(p_in.dim() >= 2 && p_in.sizes() == I_in.sizes() && p_in.device() == I_in.device(),
                  ErrorCode::kInvalidArgument,
                  "guided_filter: p and I must have the same shape [..., H, W] and device");
  DIFFEVENT_CHECK(r >= 1 && eps > 0, ErrorCode::kInvalidArgument,
                  "guided_filter: radius {} must be >= 1 and eps {} > 0", r, eps);
  const at::Tensor p = p_in.to(at::kFloat).contiguous(), I = I_in.to(at::kFloat).contiguous();
  const int64_t H = p.size(-2), W = p.size(-1), planes = H * W == 0 ? 0 : p.numel() / (H * W);
  DIFFEVENT_CHECK(H <= INT32_MAX && W <= INT32_MAX, ErrorCode::kInvalidArgument,
                  "guided_filter: image too large");
  at::Tensor out = at::empty_like(p);
  if (p.is_cuda()) {
#ifdef DIFFEVENT_HAVE_CUDA
    const CudaContext ctx(p);
    at::Tensor work = at::empty({6 * p.numel()}, p.options());
    check_launch(
        cuda::launch_guided_filter(p.data_ptr<float>(), I.data_ptr<float>(), out.data_ptr<float>(),
                                   work.data_ptr<float>(), planes, static_cast<int>(H),
                                   static_cast<int>(W), r, eps, ctx.stream),
        "guided_filter");
    return out;
#else
    throw Error(
        ErrorCode::kUnsupported,
        "guided_filter: tensors are on CUDA but this diffevent was built without CUDA kernels");
#endif
  }
  guided_filter_cpu(p.data_ptr<float>(), I.data_ptr<float>(), out.data_ptr<float>(), planes,
                    static_cast<int>(H), static_cast<int>(W), r, eps);
  return out;
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
