// The C API: a thin layer over the C++ library. Every entry point runs its body through
// guard(), so no exception crosses the boundary; out-parameters are assigned only after all
// work succeeded (see Note [Untouched outputs] in internal.hpp). The event half runs here;
// enhancers, priors and deblurring run in the LibTorch plugin (torch_plugin.cpp), loaded on
// their first use (plugin_loader.hpp), so reading events or running EDI loads no LibTorch.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "core/check.hpp"
#include "diffevent/deblur_defaults.hpp"
#include "diffevent/diffevent.h"
#include "diffevent/diffevent.hpp"
#include "internal.hpp"
#include "plugin_loader.hpp"

using diffevent::Error;
using diffevent::ErrorCode;
using namespace diffevent_capi;

namespace diffevent_capi {

// The plugin's message for a call that failed there (it already names the function).
void copy_plugin_error(const char* message) noexcept {
  try {
    last_error().assign(message != nullptr ? message : "");
  } catch (...) {
    last_error().clear();
  }
}

// Runs `call` in the LibTorch plugin (loading it on first use); its error message becomes the
// caller's last error.
template <class F>
diffevent_status in_plugin(const char* fn, F&& call) noexcept {
  const diffevent_torch_plugin* plugin = nullptr;
  const diffevent_status loaded = guard(fn, [&] { plugin = &torch_plugin(); });
  if (loaded != DIFFEVENT_OK) return loaded;
  const diffevent_status s = call(*plugin);
  if (s != DIFFEVENT_OK) copy_plugin_error(plugin->last_error());
  return s;
}

}  // namespace diffevent_capi

extern "C" {

// ---------------------------------------------------------------------------------------------
// Versions and errors

uint32_t diffevent_version(void) { return DIFFEVENT_VERSION; }
const char* diffevent_version_string(void) { return DIFFEVENT_VERSION_STRING; }
uint32_t diffevent_api_version(void) { return DIFFEVENT_API_VERSION; }
int32_t diffevent_has_torch(void) { return torch_plugin_available() ? 1 : 0; }

const char* diffevent_last_error(void) { return last_error().c_str(); }

const char* diffevent_status_name(diffevent_status status) {
  switch (status) {
    case DIFFEVENT_E_OUT_OF_MEMORY:
      return "out of memory";
    case DIFFEVENT_E_BUFFER_TOO_SMALL:
      return "buffer too small";
    default:
      break;
  }
  if (status < DIFFEVENT_OK || status > DIFFEVENT_E_INTERNAL) return "unknown";
  return diffevent::error_code_name(static_cast<ErrorCode>(status));
}

// ---------------------------------------------------------------------------------------------
// Context

void diffevent_context_params_init(diffevent_context_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  p->num_threads = 1;
  p->log_level = DIFFEVENT_LOG_INFO;
}

diffevent_status diffevent_context_create(const diffevent_context_params* params,
                                          diffevent_context** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(out);
    const auto p = read_params(params, diffevent_context_params_init, "diffevent_context_params");
    DIFFEVENT_CHECK(p.num_threads >= 1 && p.num_threads <= 1024, ErrorCode::kInvalidArgument,
                    "num_threads must be in [1, 1024], got {}", p.num_threads);
    DIFFEVENT_CHECK(p.reserved0 == 0, ErrorCode::kInvalidArgument, "reserved0 must be 0");
    DIFFEVENT_CHECK(p.log_level >= DIFFEVENT_LOG_ERROR && p.log_level <= DIFFEVENT_LOG_DEBUG,
                    ErrorCode::kInvalidArgument,
                    "log_level must be a DIFFEVENT_LOG_* value, got {}", p.log_level);
    auto ctx = std::make_unique<diffevent_context>();
    ctx->num_threads = p.num_threads;
    ctx->log = p.log;
    ctx->log_user_data = p.log_user_data;
    ctx->log_level = p.log_level;
    *out = ctx.release();
  });
}

void diffevent_context_destroy(diffevent_context* ctx) { delete ctx; }

diffevent_status diffevent_context_cancel(diffevent_context* ctx) {
  if (ctx == nullptr) return guard(__func__, [&] { REQUIRE_ARG(ctx); });
  ctx->cancel.store(true);
  return DIFFEVENT_OK;
}

diffevent_status diffevent_context_reset_cancel(diffevent_context* ctx) {
  if (ctx == nullptr) return guard(__func__, [&] { REQUIRE_ARG(ctx); });
  ctx->cancel.store(false);
  return DIFFEVENT_OK;
}

diffevent_status diffevent_context_is_cancelled(const diffevent_context* ctx, int32_t* out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(ctx);
    REQUIRE_ARG(out);
    *out = ctx->cancel.load() ? 1 : 0;
  });
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Events

void diffevent_read_params_init(diffevent_read_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  p->float_time_is_seconds = 1;
}

void diffevent_ingest_params_init(diffevent_ingest_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
}

void diffevent_write_params_init(diffevent_write_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  p->aedat_compression = DIFFEVENT_COMPRESSION_LZ4;
  p->aedat_packet_events = 8192;
}

void diffevent_events_info_init(diffevent_events_info* info) {
  if (info == nullptr) return;
  std::memset(static_cast<void*>(info), 0, sizeof(*info));
  info->struct_size = sizeof(*info);
}

diffevent_status diffevent_events_read(diffevent_context* ctx, const char* path,
                                       const diffevent_read_params* params,
                                       diffevent_events** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(path);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    const auto p = read_params(params, diffevent_read_params_init, "diffevent_read_params");
    check_flag(p.sort_if_unsorted, "sort_if_unsorted");
    check_flag(p.time_shift, "time_shift");
    check_flag(p.swap_xy, "swap_xy");
    check_flag(p.float_time_is_seconds, "float_time_is_seconds");
    DIFFEVENT_CHECK(p.width >= 0 && p.height >= 0 && p.width <= 65535 && p.height <= 65535,
                    ErrorCode::kInvalidArgument, "width/height must be in [0, 65535], got {}x{}",
                    p.width, p.height);
    diffevent::ReadOptions ro;
    ro.format = from_c_format(p.format);
    ro.sort_if_unsorted = flag(p.sort_if_unsorted);
    ro.width = p.width;
    ro.height = p.height;
    ro.time_shift = flag(p.time_shift);
    ro.swap_xy = flag(p.swap_xy);
    ro.float_time_is_seconds = flag(p.float_time_is_seconds);
    if (p.max_events > 0)
      ro.max_events = static_cast<int64_t>(
          std::min<uint64_t>(p.max_events, std::numeric_limits<int64_t>::max()));
    // Chunked reading makes the read cancellable and reportable; sorting needs the whole file.
    diffevent::EventStream acc;
    bool any_chunk = false;
    int64_t total = 0;
    if ((p.progress != nullptr || ctx != nullptr) && !ro.sort_if_unsorted) {
      ro.on_chunk = [&](const diffevent::EventStream& chunk) {
        if (!any_chunk) {
          acc = chunk;
          any_chunk = true;
        } else {
          acc.append(chunk);
        }
        total += static_cast<int64_t>(chunk.size());
        if (p.progress != nullptr && p.progress(p.progress_user_data, total, -1) != 0) return false;
        return ctx == nullptr || !ctx->cancel.load(std::memory_order_relaxed);
      };
    }
    const auto t0 = std::chrono::steady_clock::now();
    diffevent::EventFile ef = diffevent::read_events(path, ro);
    auto h = std::make_unique<diffevent_events>();
    h->events = any_chunk ? std::move(acc) : std::move(ef.events);
    h->format = to_c_format(ef.format);
    h->size_inferred = ef.size_inferred;
    h->exposures = std::move(ef.exposures);
    h->image = std::move(ef.image);
    log(ctx, DIFFEVENT_LOG_INFO,
        fmt::format("read {} events ({}, sensor {}x{}{}) from '{}' in {:.3f} s", h->events.size(),
                    diffevent::format_name(ef.format), h->events.width(), h->events.height(),
                    h->size_inferred ? " inferred" : "", path,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
    *out = h.release();
  });
}

diffevent_status diffevent_events_from_arrays(int32_t width, int32_t height, const int64_t* t_us,
                                              const uint16_t* x, const uint16_t* y,
                                              const int8_t* polarity, size_t count,
                                              const diffevent_ingest_params* params,
                                              diffevent_events** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(out);
    if (count > 0) {
      REQUIRE_ARG(t_us);
      REQUIRE_ARG(x);
      REQUIRE_ARG(y);
      REQUIRE_ARG(polarity);
    }
    const auto p = read_params(params, diffevent_ingest_params_init, "diffevent_ingest_params");
    check_flag(p.sort_if_unsorted, "sort_if_unsorted");
    DIFFEVENT_CHECK(p.polarity_encoding >= DIFFEVENT_POLARITY_AUTO &&
                        p.polarity_encoding <= DIFFEVENT_POLARITY_MINUS_PLUS,
                    ErrorCode::kInvalidArgument,
                    "polarity_encoding {} is not a DIFFEVENT_POLARITY_* value",
                    p.polarity_encoding);
    DIFFEVENT_CHECK(width >= 1 && height >= 1 && width <= 65535 && height <= 65535,
                    ErrorCode::kInvalidArgument,
                    "sensor size {}x{} is invalid (sides must be in [1, 65535])", width, height);
    diffevent::IngestOptions io;
    io.sort_if_unsorted = flag(p.sort_if_unsorted);
    io.polarity = static_cast<diffevent::PolarityEncoding>(p.polarity_encoding);
    auto h = std::make_unique<diffevent_events>();
    if (count == 0) {
      h->events = diffevent::EventStream(width, height);
    } else {
      h->events = diffevent::EventStream::from_arrays(
          width, height, std::vector<int64_t>(t_us, t_us + count),
          std::vector<uint16_t>(x, x + count), std::vector<uint16_t>(y, y + count),
          std::vector<int8_t>(polarity, polarity + count), io);
    }
    *out = h.release();
  });
}

diffevent_status diffevent_events_write(diffevent_context* ctx, const diffevent_events* events,
                                        const char* path, const diffevent_write_params* params) {
  return guard(__func__, [&] {
    REQUIRE_ARG(events);
    REQUIRE_ARG(path);
    check_cancel(ctx);
    const auto p = read_params(params, diffevent_write_params_init, "diffevent_write_params");
    check_flag(p.has_exposure, "has_exposure");
    DIFFEVENT_CHECK(p.aedat_compression >= DIFFEVENT_COMPRESSION_NONE &&
                        p.aedat_compression <= DIFFEVENT_COMPRESSION_ZSTD,
                    ErrorCode::kInvalidArgument,
                    "aedat_compression {} is not a DIFFEVENT_COMPRESSION_* value",
                    p.aedat_compression);
    diffevent::WriteOptions wo;
    wo.format = from_c_format(p.format);
    if (flag(p.has_exposure)) wo.exposure = diffevent::Exposure{p.exposure_t0_us, p.exposure_t1_us};
    if (p.image != nullptr) wo.image = p.image->image;
    wo.aedat_compression = static_cast<diffevent::WriteOptions::Compression>(p.aedat_compression);
    wo.aedat_packet_events = static_cast<size_t>(p.aedat_packet_events);
    diffevent::write_events(path, events->events, wo);
    log(ctx, DIFFEVENT_LOG_INFO,
        fmt::format("wrote {} events to '{}'", events->events.size(), path));
  });
}

void diffevent_events_destroy(diffevent_events* events) { delete events; }

diffevent_status diffevent_events_info_get(const diffevent_events* events,
                                           diffevent_events_info* out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(events);
    check_out_struct(out, "diffevent_events_info");
    diffevent_events_info info;
    diffevent_events_info_init(&info);
    const auto& e = events->events;
    info.width = e.width();
    info.height = e.height();
    info.format = events->format;
    info.size_inferred = events->size_inferred ? 1 : 0;
    info.has_image = events->image.has_value() ? 1 : 0;
    info.count = e.size();
    uint64_t on = 0;
    for (int8_t p : e.p()) on += p > 0;
    info.count_on = on;
    info.t_begin_us = e.empty() ? 0 : e.t_begin();
    info.t_end_us = e.empty() ? 0 : e.t_end();
    info.exposure_count = events->exposures.size();
    write_out_struct(out, info);
  });
}

diffevent_status diffevent_events_copy_arrays(const diffevent_events* events, int64_t* t_us,
                                              uint16_t* x, uint16_t* y, int8_t* polarity,
                                              size_t capacity) {
  return guard(__func__, [&] {
    REQUIRE_ARG(events);
    const auto& e = events->events;
    if (capacity < e.size())
      throw Error(
          static_cast<ErrorCode>(DIFFEVENT_E_BUFFER_TOO_SMALL),
          fmt::format("the buffers hold {} events but the stream has {}", capacity, e.size()));
    const size_t n = e.size();
    if (n == 0) return;
    if (t_us) std::memcpy(t_us, e.t_us().data(), n * sizeof(int64_t));
    if (x) std::memcpy(x, e.x().data(), n * sizeof(uint16_t));
    if (y) std::memcpy(y, e.y().data(), n * sizeof(uint16_t));
    if (polarity) std::memcpy(polarity, e.p().data(), n * sizeof(int8_t));
  });
}

diffevent_status diffevent_events_exposure(const diffevent_events* events, uint64_t index,
                                           int64_t* out_t0_us, int64_t* out_t1_us) {
  return guard(__func__, [&] {
    REQUIRE_ARG(events);
    REQUIRE_ARG(out_t0_us);
    REQUIRE_ARG(out_t1_us);
    DIFFEVENT_CHECK(index < events->exposures.size(), ErrorCode::kOutOfRange,
                    "exposure index {} is out of range (the events state {})", index,
                    events->exposures.size());
    *out_t0_us = events->exposures[index].t0_us;
    *out_t1_us = events->exposures[index].t1_us;
  });
}

diffevent_status diffevent_events_image(const diffevent_events* events, diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(events);
    REQUIRE_ARG(out);
    DIFFEVENT_CHECK(events->image.has_value(), ErrorCode::kInvalidArgument,
                    "the events carry no frame (has_image is 0)");
    auto h = wrap(*events->image);
    *out = h.release();
  });
}

diffevent_status diffevent_events_slice_time(const diffevent_events* events, int64_t t0_us,
                                             int64_t t1_us, diffevent_events** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(events);
    REQUIRE_ARG(out);
    DIFFEVENT_CHECK(t1_us >= t0_us, ErrorCode::kInvalidArgument, "t1_us {} is before t0_us {}",
                    t1_us, t0_us);
    auto h = std::make_unique<diffevent_events>();
    h->events = events->events.slice_time(t0_us, t1_us);
    h->format = events->format;
    h->size_inferred = events->size_inferred;
    *out = h.release();
  });
}

const char* diffevent_format_name(int32_t format) {
  if (format < DIFFEVENT_FORMAT_AUTO || format > DIFFEVENT_FORMAT_NPZ) return "unknown";
  return diffevent::format_name(static_cast<diffevent::EventFormat>(format));
}

// ---------------------------------------------------------------------------------------------
// Double integral and EDI

void diffevent_edi_params_init(diffevent_edi_params* p) { init_edi_params(p); }

void diffevent_threshold_params_init(diffevent_threshold_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  const diffevent::ThresholdSearchOptions d;
  p->num_times = d.num_times;
  p->c_min = d.c_min;
  p->c_max = d.c_max;
  p->tolerance = d.tolerance;
  p->lambda_tv = d.lambda_tv;
}

void diffevent_threshold_estimate_init(diffevent_threshold_estimate* e) {
  if (e == nullptr) return;
  std::memset(static_cast<void*>(e), 0, sizeof(*e));
  e->struct_size = sizeof(*e);
}

diffevent_status diffevent_double_integral(diffevent_context* ctx, const diffevent_events* events,
                                           const diffevent_edi_params* params,
                                           diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(events);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    const auto p = read_params(params, diffevent_edi_params_init, "diffevent_edi_params");
    const diffevent::EdiOptions eo = edi_options(ctx, p, events->events);
    const diffevent::Exposure ex = resolve_exposure(p, *events);
    const diffevent::EventIntegrator integ(
        diffevent::IntegratorOptions::with(eo.thresholds, eo.num_threads));
    auto h = wrap(integ.double_integral(events->events, ex.t0_us, ex.t1_us, eo.tau_us));
    *out = h.release();
  });
}

diffevent_status diffevent_edi_deblur(diffevent_context* ctx, const diffevent_image* blurry,
                                      const diffevent_events* events,
                                      const diffevent_edi_params* params, diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(events);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    const auto p = read_params(params, diffevent_edi_params_init, "diffevent_edi_params");
    const diffevent::Edi edi(edi_options(ctx, p, events->events));
    const diffevent::Exposure ex = resolve_exposure(p, *events);
    auto h = wrap(edi.deblur(blurry->image, events->events, ex));
    log(ctx, DIFFEVENT_LOG_INFO,
        fmt::format("EDI: c+ = {}, c- = {}, exposure [{}, {}] us", p.c_pos, p.c_neg, ex.t0_us,
                    ex.t1_us));
    *out = h.release();
  });
}

diffevent_status diffevent_edi_frames(diffevent_context* ctx, const diffevent_image* blurry,
                                      const diffevent_events* events,
                                      const diffevent_edi_params* params, int32_t count,
                                      diffevent_image** out_frames, int64_t* out_times_us) {
  return guard(__func__, [&] {
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(events);
    REQUIRE_ARG(out_frames);
    DIFFEVENT_CHECK(count >= 1 && count <= 100000, ErrorCode::kInvalidArgument,
                    "count must be in [1, 100000], got {}", count);
    check_cancel(ctx);
    const auto p = read_params(params, diffevent_edi_params_init, "diffevent_edi_params");
    const diffevent::Edi edi(edi_options(ctx, p, events->events));
    const diffevent::Exposure ex = resolve_exposure(p, *events);
    std::vector<diffevent::TimestampUs> times;
    std::vector<diffevent::Image> frames =
        edi.frames(blurry->image, events->events, ex, count, &times);
    std::vector<std::unique_ptr<diffevent_image>> handles;
    handles.reserve(frames.size());
    for (auto& f : frames) handles.push_back(wrap(std::move(f)));
    for (size_t k = 0; k < handles.size(); ++k) {
      out_frames[k] = handles[k].release();
      if (out_times_us) out_times_us[k] = times[k];
    }
  });
}

diffevent_status diffevent_estimate_threshold(diffevent_context* ctx, const diffevent_image* blurry,
                                              const diffevent_events* events,
                                              const diffevent_edi_params* params,
                                              const diffevent_threshold_params* search,
                                              diffevent_threshold_estimate* out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(events);
    check_out_struct(out, "diffevent_threshold_estimate");
    check_cancel(ctx);
    const auto p = read_params(params, diffevent_edi_params_init, "diffevent_edi_params");
    const auto s =
        read_params(search, diffevent_threshold_params_init, "diffevent_threshold_params");
    diffevent::ThresholdSearchOptions so;
    so.num_times = s.num_times;
    so.c_min = s.c_min;
    so.c_max = s.c_max;
    so.tolerance = s.tolerance;
    so.lambda_tv = s.lambda_tv;
    const diffevent::Edi edi(edi_options(ctx, p, events->events));
    const diffevent::Exposure ex = resolve_exposure(p, *events);
    const diffevent::ThresholdEstimate est =
        edi.estimate_threshold(blurry->image, events->events, ex, so);
    diffevent_threshold_estimate r;
    diffevent_threshold_estimate_init(&r);
    r.c = est.c;
    r.energy = est.energy;
    r.evaluations = est.evaluations;
    r.at_bound = est.at_bound ? 1 : 0;
    if (est.at_bound)
      log(ctx, DIFFEVENT_LOG_WARNING,
          fmt::format("the estimated threshold {:.3f} is at the end of the search interval",
                      est.c));
    write_out_struct(out, r);
  });
}

// ---------------------------------------------------------------------------------------------
// Simulator

void diffevent_simulator_params_init(diffevent_simulator_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  const diffevent::SimulatorOptions d;
  p->min_samples = d.min_samples;
  p->exposure_us = d.exposure_us;
  p->refractory_us = d.refractory_us;
  p->c_pos = d.c_pos;
  p->c_neg = d.c_neg;
  p->threshold_sigma = d.threshold_sigma;
  p->shot_noise_hz = d.shot_noise_hz;
  p->leak_hz = d.leak_hz;
  p->log_eps = d.log_eps;
  p->max_step_px = d.max_step_px;
  p->zoom = 1.0;
  p->seed = d.seed;
}

diffevent_status diffevent_simulate(diffevent_context* ctx, const diffevent_image* source,
                                    const diffevent_simulator_params* params,
                                    diffevent_events** out_events, diffevent_image** out_blurry,
                                    diffevent_image** out_sharp) {
  return guard(__func__, [&] {
    REQUIRE_ARG(source);
    REQUIRE_ARG(out_events);
    REQUIRE_ARG(out_blurry);
    check_cancel(ctx);
    const auto p =
        read_params(params, diffevent_simulator_params_init, "diffevent_simulator_params");
    for (double v : {p.c_pos, p.c_neg, p.threshold_sigma, p.shot_noise_hz, p.leak_hz, p.log_eps,
                     p.max_step_px, p.dx_px, p.dy_px, p.rotation_rad, p.zoom})
      check_finite(v, "simulator parameters");
    diffevent::SimulatorOptions o;
    o.width = p.width;
    o.height = p.height;
    o.exposure_us = p.exposure_us;
    o.c_pos = p.c_pos;
    o.c_neg = p.c_neg;
    o.threshold_sigma = p.threshold_sigma;
    o.refractory_us = p.refractory_us;
    o.shot_noise_hz = p.shot_noise_hz;
    o.leak_hz = p.leak_hz;
    o.log_eps = p.log_eps;
    o.max_step_px = p.max_step_px;
    o.min_samples = p.min_samples;
    o.seed = p.seed;
    const diffevent::CameraMotion m{p.dx_px, p.dy_px, p.rotation_rad, p.zoom};
    diffevent::SimulationResult r = diffevent::EventSimulator(o).simulate_motion(source->image, m);
    auto ev = std::make_unique<diffevent_events>();
    ev->events = std::move(r.events);
    ev->exposures.push_back(r.exposure);
    auto blurry = wrap(std::move(r.blurry));
    std::unique_ptr<diffevent_image> sharp;
    if (out_sharp) sharp = wrap(std::move(r.sharp));
    log(ctx, DIFFEVENT_LOG_INFO,
        fmt::format("simulated {} events on {}x{} from {} samples", ev->events.size(),
                    ev->events.width(), ev->events.height(), r.samples));
    *out_events = ev.release();
    *out_blurry = blurry.release();
    if (out_sharp) *out_sharp = sharp.release();
  });
}

// ---------------------------------------------------------------------------------------------
// Enhancers, priors, deblurring

void diffevent_enhancer_params_init(diffevent_enhancer_params* p) { init_enhancer_params(p); }

void diffevent_prior_params_init(diffevent_prior_params* p) { init_prior_params(p); }

void diffevent_prior_metadata_init(diffevent_prior_metadata* m) { init_prior_metadata(m); }

void diffevent_deblur_params_init(diffevent_deblur_params* p) { init_deblur_params(p); }

diffevent_status diffevent_deblur_params_init_preset(diffevent_deblur_params* p, int32_t preset) {
  return guard(__func__, [&] {
    REQUIRE_ARG(p);
    DIFFEVENT_CHECK(preset >= DIFFEVENT_PRESET_FAST && preset <= DIFFEVENT_PRESET_BEST,
                    ErrorCode::kInvalidArgument,
                    "preset {} is not a DIFFEVENT_PRESET_* value (0, 1, 2)", preset);
    fill_deblur_params(p, static_cast<diffevent::DeblurPreset>(preset));
  });
}

diffevent_status diffevent_enhance(diffevent_context* ctx, const diffevent_image* integral,
                                   const diffevent_image* blurry,
                                   const diffevent_enhancer_params* params, diffevent_image** out) {
  // The arguments are checked here first (the same answer with or without the plugin).
  const diffevent_status checked = guard(__func__, [&] {
    REQUIRE_ARG(integral);
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    (void)read_params(params, init_enhancer_params, "diffevent_enhancer_params");
  });
  if (checked != DIFFEVENT_OK) return checked;
  return in_plugin(__func__, [&](const diffevent_torch_plugin& p) {
    return p.enhance(ctx, integral, blurry, params, out);
  });
}

diffevent_status diffevent_prior_load(diffevent_context* ctx, const char* path,
                                      const diffevent_prior_params* params, diffevent_prior** out) {
  const diffevent_status checked = guard(__func__, [&] {
    REQUIRE_ARG(path);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    (void)read_params(params, init_prior_params, "diffevent_prior_params");
  });
  if (checked != DIFFEVENT_OK) return checked;
  return in_plugin(__func__, [&](const diffevent_torch_plugin& p) {
    return p.prior_load(ctx, path, params, out);
  });
}

namespace {
std::string shipped_prior_path(int32_t role, int32_t channels) {
  DIFFEVENT_CHECK(role == DIFFEVENT_PRIOR_ROLE_X || role == DIFFEVENT_PRIOR_ROLE_R,
                  ErrorCode::kInvalidArgument,
                  "role {} is not a DIFFEVENT_PRIOR_ROLE_* value (0, 1)", role);
  const std::string dir = library_directory();
  std::vector<std::string> prefixes;
  if (!dir.empty())
    prefixes = {dir + "/..", dir + "/../.."};  // LIBDIR = PREFIX/lib or PREFIX/lib/<arch>
  return diffevent::find_shipped_prior(static_cast<diffevent::PriorRole>(role), channels, prefixes);
}
}  // namespace

diffevent_status diffevent_shipped_prior_path(int32_t role, int32_t channels, char* out,
                                              size_t capacity, size_t* out_length) {
  return guard(__func__, [&] {
    const std::string path = shipped_prior_path(role, channels);
    const size_t needed = path.size() + 1;
    if (out_length != nullptr) *out_length = needed;
    DIFFEVENT_CHECK(
        capacity >= needed && out != nullptr, static_cast<ErrorCode>(DIFFEVENT_E_BUFFER_TOO_SMALL),
        "the path needs {} bytes, the buffer holds {}", needed, out != nullptr ? capacity : 0);
    std::memcpy(out, path.c_str(), needed);
  });
}

diffevent_status diffevent_prior_load_shipped(diffevent_context* ctx, int32_t role,
                                              int32_t channels,
                                              const diffevent_prior_params* params,
                                              diffevent_prior** out) {
  std::string path;
  const diffevent_status found =
      guard(__func__, [&] { path = shipped_prior_path(role, channels); });
  if (found != DIFFEVENT_OK) return found;
  return in_plugin(__func__, [&](const diffevent_torch_plugin& p) {
    return p.prior_load(ctx, path.c_str(), params, out);
  });
}

diffevent_status diffevent_prior_create_analytic(int32_t channels, diffevent_prior** out) {
  const diffevent_status checked = guard(__func__, [&] { REQUIRE_ARG(out); });
  if (checked != DIFFEVENT_OK) return checked;
  return in_plugin(__func__, [&](const diffevent_torch_plugin& p) {
    return p.prior_create_analytic(channels, out);
  });
}

void diffevent_prior_destroy(diffevent_prior* prior) {
  // A prior exists only if the plugin made it, so the plugin is loaded already.
  if (prior != nullptr)
    (void)in_plugin(__func__, [&](const diffevent_torch_plugin& p) {
      p.prior_destroy(prior);
      return DIFFEVENT_OK;
    });
}

diffevent_status diffevent_prior_get_metadata(const diffevent_prior* prior,
                                              diffevent_prior_metadata* out) {
  const diffevent_status checked = guard(__func__, [&] {
    REQUIRE_ARG(prior);
    check_out_struct(out, "diffevent_prior_metadata");
  });
  if (checked != DIFFEVENT_OK) return checked;
  return in_plugin(
      __func__, [&](const diffevent_torch_plugin& p) { return p.prior_get_metadata(prior, out); });
}

diffevent_status diffevent_deblur(diffevent_context* ctx, const diffevent_image* blurry,
                                  const diffevent_events* events, diffevent_prior* x_prior,
                                  diffevent_prior* r_prior, const diffevent_deblur_params* params,
                                  diffevent_image** out_sharp, diffevent_image** out_residual,
                                  double* out_threshold) {
  // The arguments are checked here first (the same answer with or without the plugin).
  const diffevent_status checked = guard(__func__, [&] {
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(events);
    REQUIRE_ARG(out_sharp);
    check_cancel(ctx);
    (void)read_params(params, init_deblur_params, "diffevent_deblur_params");
  });
  if (checked != DIFFEVENT_OK) return checked;
  return in_plugin(__func__, [&](const diffevent_torch_plugin& p) {
    return p.deblur(ctx, blurry, events, x_prior, r_prior, params, out_sharp, out_residual,
                    out_threshold);
  });
}

}  // extern "C"

// Compile-time guards on the public layouts: a change here is an ABI break (see docs/c-api.md).
static_assert(std::is_standard_layout<diffevent_deblur_params>::value,
              "C structs must be standard layout");
static_assert(offsetof(diffevent_context_params, log) == 8,
              "diffevent_context_params layout changed");
static_assert(offsetof(diffevent_read_params, progress) == 32,
              "diffevent_read_params layout changed");
static_assert(offsetof(diffevent_edi_params, min_integral) == 72,
              "diffevent_edi_params layout changed");
static_assert(offsetof(diffevent_deblur_params, edi) == 8,
              "diffevent_deblur_params layout changed");
static_assert(offsetof(diffevent_deblur_params, progress_user_data) == 224,
              "diffevent_deblur_params layout changed");
static_assert(offsetof(diffevent_deblur_params, start) == 232,
              "diffevent_deblur_params layout changed");
static_assert(offsetof(diffevent_deblur_params, samples) == 248,
              "diffevent_deblur_params layout changed");
static_assert(offsetof(diffevent_deblur_params, antithetic) == 256,
              "diffevent_deblur_params layout changed");
static_assert(static_cast<int>(diffevent::DeblurPreset::kFast) == DIFFEVENT_PRESET_FAST &&
                  static_cast<int>(diffevent::DeblurPreset::kBalanced) ==
                      DIFFEVENT_PRESET_BALANCED &&
                  static_cast<int>(diffevent::DeblurPreset::kBest) == DIFFEVENT_PRESET_BEST,
              "DIFFEVENT_PRESET_* follow DeblurPreset");
