#pragma once
// Private: tiled evaluation of a prior (tiling.cpp; predict_tiles exposed for tests).
#include "diffevent/diffusion/diffusion_prior.hpp"
#include "diffevent/diffusion/options.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

/// Evaluates `prior` on overlapping tiles of `size` every `stride` (last tile flush with the
/// edge) and blends eps and v with separable linear-ramp weights over the overlaps; with
/// blend = false each pixel takes the last covering tile (hard tiles, for tests). Up to
/// max_batch tiles share one network call.
PriorOutput predict_tiles(DiffusionPrior& prior, const at::Tensor& x, const at::Tensor& t,
                          int64_t size, int64_t stride, bool blend, int64_t max_batch = 16);

/// The sampler's prior evaluation: whole frames up to the pixel budget of resolve_tiles(o, the
/// prior's metadata), blended tiles above it (about o.tile_batch tile-frames per call).
PriorOutput predict_tiled(DiffusionPrior& prior, const at::Tensor& x, const at::Tensor& t,
                          const SamplerOptions& o);

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
