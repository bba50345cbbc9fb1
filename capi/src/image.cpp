// The C API: images, their files, colour conversions and metrics.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "diffevent/diffevent.h"
#include "diffevent/events.hpp"
#include "internal.hpp"

using diffevent::Error;
using diffevent::ErrorCode;
using namespace diffevent_capi;

extern "C" {

// Images

diffevent_status diffevent_image_create(int32_t channels, int32_t height, int32_t width,
                                        const float* data, diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(out);
    DIFFEVENT_CHECK(channels >= 1 && channels <= 4 && height >= 1 && height <= 65535 &&
                        width >= 1 && width <= 65535,
                    ErrorCode::kInvalidArgument,
                    "shape [{}, {}, {}] is invalid (channels 1..4, sides 1..65535)", channels,
                    height, width);
    diffevent::Image img(channels, height, width);
    if (data != nullptr) std::memcpy(img.data(), data, img.size() * sizeof(float));
    auto h = wrap(std::move(img));
    *out = h.release();
  });
}

namespace {
// diffevent_image_read(_with_params) past their argument checks; params NULL: the defaults.
void read_image_into(const char* path, const diffevent_image_read_params* params,
                     diffevent_image** out) {
  const auto p =
      read_params(params, diffevent_image_read_params_init, "diffevent_image_read_params");
  DIFFEVENT_CHECK(p.max_pixels >= 0 && p.max_side >= 0, ErrorCode::kInvalidArgument,
                  "max_pixels and max_side must be >= 0 (0: the default), got {} and {}",
                  p.max_pixels, p.max_side);
  diffevent::ImageReadLimits limits;
  if (p.max_pixels > 0) limits.max_pixels = p.max_pixels;
  if (p.max_side > 0) limits.max_side = p.max_side;
  auto h = wrap(diffevent::read_image(path, limits));
  *out = h.release();
}
}  // namespace

diffevent_status diffevent_image_read(const char* path, diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(path);
    REQUIRE_ARG(out);
    read_image_into(path, nullptr, out);
  });
}

void diffevent_image_read_params_init(diffevent_image_read_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  const diffevent::ImageReadLimits defaults;
  p->max_pixels = defaults.max_pixels;
  p->max_side = defaults.max_side;
}

diffevent_status diffevent_image_read_with_params(const char* path,
                                                  const diffevent_image_read_params* params,
                                                  diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(path);
    REQUIRE_ARG(out);
    read_image_into(path, params, out);
  });
}

diffevent_status diffevent_image_write(const diffevent_image* image, const char* path,
                                       int32_t bit_depth) {
  return guard(__func__, [&] {
    REQUIRE_ARG(image);
    REQUIRE_ARG(path);
    diffevent::write_image(path, image->image, bit_depth);
  });
}

void diffevent_image_destroy(diffevent_image* image) { delete image; }

diffevent_status diffevent_image_shape(const diffevent_image* image, int32_t* out_channels,
                                       int32_t* out_height, int32_t* out_width) {
  return guard(__func__, [&] {
    REQUIRE_ARG(image);
    if (out_channels) *out_channels = image->image.channels();
    if (out_height) *out_height = image->image.height();
    if (out_width) *out_width = image->image.width();
  });
}

diffevent_status diffevent_image_copy_data(const diffevent_image* image, float* out,
                                           size_t capacity) {
  return guard(__func__, [&] {
    REQUIRE_ARG(image);
    REQUIRE_ARG(out);
    const size_t n = image->image.size();
    if (capacity < n)
      throw Error(static_cast<ErrorCode>(DIFFEVENT_E_BUFFER_TOO_SMALL),
                  fmt::format("the buffer holds {} floats but the image has {}", capacity, n));
    std::memcpy(out, image->image.data(), n * sizeof(float));
  });
}

diffevent_status diffevent_image_srgb_to_linear(diffevent_image* image) {
  return guard(__func__, [&] {
    REQUIRE_ARG(image);
    diffevent::srgb_to_linear(image->image);
  });
}

diffevent_status diffevent_image_linear_to_srgb(diffevent_image* image) {
  return guard(__func__, [&] {
    REQUIRE_ARG(image);
    diffevent::linear_to_srgb(image->image);
  });
}

diffevent_status diffevent_image_to_grey(const diffevent_image* image, diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(image);
    REQUIRE_ARG(out);
    auto h = wrap(image->image.to_grey());
    *out = h.release();
  });
}

diffevent_status diffevent_psnr(const diffevent_image* reference, const diffevent_image* test,
                                double data_range, double* out_db) {
  return guard(__func__, [&] {
    REQUIRE_ARG(reference);
    REQUIRE_ARG(test);
    REQUIRE_ARG(out_db);
    const double v = diffevent::psnr(reference->image, test->image, data_range);
    *out_db = v;
  });
}

diffevent_status diffevent_ssim(const diffevent_image* reference, const diffevent_image* test,
                                double data_range, double* out_ssim) {
  return guard(__func__, [&] {
    REQUIRE_ARG(reference);
    REQUIRE_ARG(test);
    REQUIRE_ARG(out_ssim);
    const double v = diffevent::ssim(reference->image, test->image, data_range);
    *out_ssim = v;
  });
}

}  // extern "C"
