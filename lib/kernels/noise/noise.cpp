#include "kernels/noise/noise.hpp"

#include <ATen/Parallel.h>

#include "kernels/dispatch.hpp"
#include "kernels/noise/philox_math.hpp"

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
  const int64_t blocks = (n + 3) / 4;
  at::parallel_for(0, blocks, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      float z[4];
      normal4(seed, stream, static_cast<uint64_t>(b), z);
      for (int64_t k = 0; k < 4 && 4 * b + k < n; ++k) o[4 * b + k] = z[k];
    }
  });
  return out;
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
