// Dispatcher of the counter-based normal noise: the CPU loop (noise_cpu.cpp) or the CUDA twin
// (noise.cu), the same values on both.
#include "kernels/noise/noise.hpp"

#include "kernels/dispatch.hpp"
#include "kernels/noise/noise_cpu.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

at::Tensor philox_normal(at::IntArrayRef sizes, const at::Device& device, uint64_t seed,
                         uint64_t stream) {
  at::Tensor out = at::empty(sizes, at::TensorOptions().dtype(at::kFloat).device(device));
  const int64_t n = out.numel();
  float* o = out.data_ptr<float>();
  if (out.is_cuda()) {
#ifdef DIFFEVENT_HAVE_CUDA
    const CudaContext ctx(out);
    check_launch(cuda::launch_normal_fill(o, n, seed, stream, ctx.stream), "philox_normal");
    return out;
#else
    throw Error(
        ErrorCode::kUnsupported,
        "philox_normal: CUDA device requested but this diffevent was built without CUDA kernels");
#endif
  }
  normal_fill_cpu(o, n, seed, stream);
  return out;
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
