// Tiled evaluation of a prior: tile geometry from the prior's metadata (resolve_tiles),
// overlapping tiles blended with smooth weights (predict_tiles), and the sampler's entry point
// (predict_tiled).
#include "diffusion/tiling.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.hpp"
#include "diffevent/diffusion/alternating_sampler.hpp"

namespace diffevent {
inline namespace v1 {

namespace {

// Tile origins covering [0, n) with tiles of `size` every `stride`, the last flush with the end.
std::vector<int64_t> tile_starts(int64_t n, int64_t size, int64_t stride) {
  std::vector<int64_t> out;
  if (n <= size) return {0};
  for (int64_t s = 0;; s += stride) {
    if (s + size >= n) {
      out.push_back(n - size);
      break;
    }
    out.push_back(s);
  }
  return out;
}

// 1-D blending weight: a raised-cosine ramp over the first and last `ramp` samples of a tile
// (smooth, so blended predictions have no kinks; strictly positive, so pixels seen by a single
// tile keep their prediction after normalisation). Built with ATen on the target device: a
// host-built tensor would cost a host-to-device copy (and a synchronisation) per step.
at::Tensor ramp_weights(int64_t size, int64_t ramp, const at::TensorOptions& options) {
  const double r = static_cast<double>(std::max<int64_t>(ramp, 1));
  const at::Tensor u = at::arange(size, options.dtype(at::kDouble)) + 0.5;
  auto rise = [&](const at::Tensor& v) {
    return at::where(v >= r, at::ones_like(v), at::sin(M_PI / 2 * v / r).pow(2));
  };
  return at::minimum(rise(u), rise(static_cast<double>(size) - u))
      .clamp_min(1e-3)
      .to(options.dtype());
}

}  // namespace

namespace detail {

PriorOutput predict_tiles(DiffusionPrior& prior, const at::Tensor& x, const at::Tensor& t,
                          int64_t size, int64_t stride, bool blend, int64_t max_batch) {
  const int64_t N = x.size(0), H = x.size(2), W = x.size(3);
  const int64_t th = std::min(size, H), tw = std::min(size, W);
  const at::Tensor wy = ramp_weights(th, th == H ? 0 : (size - stride), x.options()),
                   wx = ramp_weights(tw, tw == W ? 0 : (size - stride), x.options());
  at::Tensor w2 = (wy.view({-1, 1}) * wx.view({1, -1})).view({1, 1, th, tw});
  if (!blend) w2 = at::ones_like(w2);  // hard tiles: for tests that must see seams
  std::vector<std::pair<int64_t, int64_t>> origins;
  for (int64_t y0 : tile_starts(H, th, stride))
    for (int64_t x0 : tile_starts(W, tw, stride)) origins.emplace_back(y0, x0);
  // Tiles go through the network in batches of up to max_batch tiles (each N frames): one
  // call per batch instead of one per tile, which is what keeps a GPU busy.
  const int64_t per_call = std::max<int64_t>(1, max_batch);
  at::Tensor eps = at::zeros_like(x), v, wsum = at::zeros({1, 1, H, W}, x.options());
  for (size_t first = 0; first < origins.size(); first += static_cast<size_t>(per_call)) {
    const size_t last = std::min(origins.size(), first + static_cast<size_t>(per_call));
    std::vector<at::Tensor> tiles;
    for (size_t k = first; k < last; ++k)
      tiles.push_back(x.narrow(2, origins[k].first, th).narrow(3, origins[k].second, tw));
    const int64_t count = static_cast<int64_t>(last - first);
    const PriorOutput out = prior.predict(at::cat(tiles, 0).contiguous(), t.repeat({count}));
    for (size_t k = first; k < last; ++k) {
      const int64_t b = static_cast<int64_t>(k - first) * N;
      const auto [y0, x0] = origins[k];
      if (!blend) {
        // Hard tiles: each pixel takes the last tile covering it (no averaging at all).
        eps.narrow(2, y0, th).narrow(3, x0, tw).copy_(out.eps.narrow(0, b, N));
        continue;
      }
      eps.narrow(2, y0, th).narrow(3, x0, tw).add_(out.eps.narrow(0, b, N) * w2);
      if (out.v.defined()) {
        if (!v.defined()) v = at::zeros_like(x);
        v.narrow(2, y0, th).narrow(3, x0, tw).add_(out.v.narrow(0, b, N) * w2);
      }
      wsum.narrow(2, y0, th).narrow(3, x0, tw).add_(w2);
    }
  }
  if (!blend) return {eps, at::Tensor()};
  return {eps / wsum, v.defined() ? v / wsum : v};
}

}  // namespace detail

namespace detail {

PriorOutput predict_tiled(DiffusionPrior& prior, const at::Tensor& x, const at::Tensor& t,
                          const SamplerOptions& o) {
  const TileGeometry g = resolve_tiles(o, prior.metadata());
  if (x.size(2) * x.size(3) <= g.above_pixels) return prior.predict(x, t);
  // About tile_batch tile-frames per call: a batch of N frames (posterior samples) takes
  // tile_batch / N tiles of each, so memory does not grow with N.
  const int tiles_per_call =
      static_cast<int>(std::max<int64_t>(1, o.tile_batch / std::max<int64_t>(1, x.size(0))));
  return predict_tiles(prior, x, t, g.size, g.stride, true, tiles_per_call);
}

}  // namespace detail

TileGeometry resolve_tiles(const SamplerOptions& o, const PriorMetadata& m) {
  TileGeometry g;
  g.size = o.tile_size;
  const int k = std::max(1, m.size_multiple);
  if (g.size == 0) {
    if (m.global_attention) {
      // Twice the training size (measured: global attention made the xs prior's cost per pixel
      // 17 us at 64 x 64, 20 us at 128 x 128, 29 us at 160 x 120 and 92 us at 352 x 264, one
      // thread), at least 64 and at most GDP's 256.
      g.size = m.native_size > 0 ? std::clamp(2 * std::min(m.native_size, 128), 64, 256)
                                 : 256;  // no overflow
    } else {
      // Windowed or no attention: the cost per pixel is flat, so tiles only bound memory.
      g.size = 512;
    }
    g.size = (g.size + k - 1) / k * k;  // a tile needs no padding
  }
  // 5/8 of a tile: the overlap (3/8) is what the blend needs to hide a tile's cut context
  // (BlendedTilesLeaveNoSeams: 1.16 at 5/8, 1.22 at 3/4 against 1.14 at GDP's 1/2), with 12
  // tiles instead of 20 on a DAVIS 346 x 260 frame.
  g.stride = o.tile_stride > 0 ? std::min(o.tile_stride, g.size) : std::max(1, g.size * 5 / 8);
  // Whole frames up to 4 tiles' pixels with global attention; up to 1 MP (a 1280 x 720 frame
  // runs whole: about 0.8 GB of activations per posterior sample for the xs prior) otherwise.
  const int64_t whole = m.global_attention || o.tile_size > 0
                            ? 4 * static_cast<int64_t>(g.size) * g.size
                            : int64_t{1} << 20;
  g.above_pixels = o.tile_above_pixels > 0 ? o.tile_above_pixels : whole;
  return g;
}

}  // namespace v1
}  // namespace diffevent
