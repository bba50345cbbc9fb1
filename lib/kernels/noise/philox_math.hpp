#pragma once
// Counter-based Gaussian noise shared by the CPU and CUDA samplers: Philox4x32-10 (Salmon et
// al., SC'11; checked against Random123's known-answer vectors) and Box-Muller. Element i of
// stream s under seed k is a pure function of (k, s, i), so the same seed gives the same noise
// on any device, any thread count and any tiling, and a kernel can draw its own noise instead
// of reading a noise tensor.
#include <stdint.h>

#include "kernels/hd.hpp"

namespace diffevent {
inline namespace v1 {
namespace kernels {

struct Philox4 {
  uint32_t v[4];
};

DIFFEVENT_HD inline uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

/// Philox4x32 with 10 rounds: the 128-bit counter `c` encrypted under the 64-bit key (k0, k1).
DIFFEVENT_HD inline Philox4 philox4x32_10(Philox4 c, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo32(0xD2511F53u, c.v[0], &hi0);
    const uint32_t lo1 = mulhilo32(0xCD9E8D57u, c.v[2], &hi1);
    c = Philox4{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c;
}

/// Four standard normals: elements 4 b .. 4 b + 3 of `stream` under `seed` (two Box-Muller
/// pairs from one Philox block). Uniforms have 24 bits: u in (0, 1], so |z| <= 5.77.
DIFFEVENT_HD inline void normal4(uint64_t seed, uint64_t stream, uint64_t b, float out[4]) {
  const Philox4 r =
      philox4x32_10(Philox4{{static_cast<uint32_t>(b), static_cast<uint32_t>(b >> 32),
                             static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)}},
                    static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
  constexpr float kInv24 = 1.0f / 16777216.0f, kTwoPi = 6.28318530717958647692f;
  for (int k = 0; k < 2; ++k) {
    const float u = static_cast<float>((r.v[2 * k] >> 8) + 1u) * kInv24;
    const float a = kTwoPi * (static_cast<float>(r.v[2 * k + 1] >> 8) * kInv24);
    const float rad = sqrtf(-2.0f * logf(u));
    out[2 * k] = rad * cosf(a);
    out[2 * k + 1] = rad * sinf(a);
  }
}

}  // namespace kernels
}  // namespace v1
}  // namespace diffevent
