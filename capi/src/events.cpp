// The C API: event files, arrays and their information.
#include "diffevent/events.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
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
#include "internal.hpp"

using diffevent::Error;
using diffevent::ErrorCode;
using namespace diffevent_capi;

extern "C" {

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
    h->thresholds = ef.thresholds;
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
    if (events->thresholds) {
      info.threshold_pos = events->thresholds->c_pos;
      info.threshold_neg = events->thresholds->c_neg;
    }
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

}  // extern "C"
