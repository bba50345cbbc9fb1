#pragma once
/// \file image.hpp
/// Image: a planar float image [C,H,W], plus PNG and PFM file I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "diffevent/core/error.hpp"
#include "diffevent/core/export.hpp"

namespace diffevent {
inline namespace v1 {

/// A planar float image with C channels (1 = grey, 3 = RGB), H rows and W columns.
/// Values are linear intensity in [0, 1] by convention (PNG I/O maps 0..255 or 0..65535 to it).
class DIFFEVENT_API Image {
 public:
  Image() = default;
  /// A zero-filled image; each size must be >= 1.
  Image(int channels, int height, int width, float fill = 0.0f);

  int channels() const noexcept { return c_; }
  int height() const noexcept { return h_; }
  int width() const noexcept { return w_; }
  size_t plane_size() const noexcept { return static_cast<size_t>(h_) * static_cast<size_t>(w_); }
  size_t size() const noexcept { return data_.size(); }
  bool empty() const noexcept { return data_.empty(); }

  float* data() noexcept { return data_.data(); }
  const float* data() const noexcept { return data_.data(); }
  float* plane(int c) noexcept { return data_.data() + static_cast<size_t>(c) * plane_size(); }
  const float* plane(int c) const noexcept {
    return data_.data() + static_cast<size_t>(c) * plane_size();
  }
  float& at(int c, int y, int x) noexcept {
    return plane(c)[static_cast<size_t>(y) * static_cast<size_t>(w_) + static_cast<size_t>(x)];
  }
  float at(int c, int y, int x) const noexcept {
    return plane(c)[static_cast<size_t>(y) * static_cast<size_t>(w_) + static_cast<size_t>(x)];
  }
  std::vector<float>& values() noexcept { return data_; }
  const std::vector<float>& values() const noexcept { return data_; }

  /// Luminance (Rec. 601 weights 0.299, 0.587, 0.114) of an RGB image; a copy of a grey one.
  Image to_grey() const;
  /// True when every value is finite.
  bool all_finite() const noexcept;

 private:
  int c_ = 0, h_ = 0, w_ = 0;
  std::vector<float> data_;
};

/// sRGB transfer function: gamma-encoded [0,1] -> linear [0,1] (IEC 61966-2-1), in place.
DIFFEVENT_API void srgb_to_linear(Image& image);
/// Linear [0,1] -> sRGB-encoded [0,1], in place.
DIFFEVENT_API void linear_to_srgb(Image& image);

/// What an image reader accepts before it allocates anything (set them lower for untrusted
/// files). Beyond these, a file must be able to hold what its header declares: a PNG whose
/// pixels could not fit in its compressed data (deflate's ratio is at most 1032:1) or a PFM
/// shorter than its pixels is rejected before any pixel buffer exists.
struct ImageReadLimits {
  int64_t max_pixels = int64_t{1} << 28;  ///< width x height (default 268 M: 3.2 GB as float RGB)
  int64_t max_side = int64_t{1} << 20;    ///< width and height each
};

/// Reads an image by content: PNG (8/16-bit grey, grey+alpha, RGB, RGBA; alpha dropped) or PFM.
/// A size beyond `limits` or one the file cannot hold is kFormatError naming both.
DIFFEVENT_API Image read_image(const std::string& path, const ImageReadLimits& limits = {});
/// Writes by extension: ".png" (bit_depth 8 or 16, values clamped to [0,1]) or ".pfm" (float32,
/// lossless). Written to a temporary file in the same folder, then renamed.
DIFFEVENT_API void write_image(const std::string& path, const Image& image, int bit_depth = 8);

/// PNG support compiled in?
DIFFEVENT_API bool png_supported() noexcept;

}  // namespace v1
}  // namespace diffevent
