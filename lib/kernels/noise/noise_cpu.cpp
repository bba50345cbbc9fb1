// Counter-based normal noise on the CPU (philox_math.hpp's values).
#include "kernels/noise/noise_cpu.hpp"

#include <ATen/Parallel.h>

#include "kernels/noise/philox_math.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

void normal_fill_cpu(float* o, int64_t n, uint64_t seed, uint64_t stream) {
  const int64_t blocks = (n + 3) / 4;
  at::parallel_for(0, blocks, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      float z[4];
      normal4(seed, stream, static_cast<uint64_t>(b), z);
      for (int64_t k = 0; k < 4 && 4 * b + k < n; ++k) o[4 * b + k] = z[k];
    }
  });
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
