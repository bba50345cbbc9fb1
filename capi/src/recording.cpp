// The C API: recordings (frames with exposures, event windows).
#include "diffevent/events/recording.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

#include "core/check.hpp"
#include "diffevent/diffevent.h"
#include "internal.hpp"

using diffevent::Error;
using diffevent::ErrorCode;
using namespace diffevent_capi;

struct diffevent_recording {
  diffevent::Recording recording;
};

namespace {

const diffevent::Recording& get(const diffevent_recording* r) {
  DIFFEVENT_CHECK(r != nullptr, ErrorCode::kInvalidArgument, "recording is NULL");
  return r->recording;
}

// The events of a recording's window, with the exposure when it is a frame's and the
// thresholds the recording states.
diffevent_events* wrap(const diffevent::Recording& rec, diffevent::EventStream events,
                       const diffevent::Exposure* exposure) {
  auto h = std::make_unique<diffevent_events>();
  h->events = std::move(events);
  if (exposure) h->exposures.push_back(*exposure);
  h->thresholds = rec.thresholds();
  return h.release();
}

}  // namespace

extern "C" {

void diffevent_recording_params_init(diffevent_recording_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
}

diffevent_status diffevent_recording_open(diffevent_context* ctx, const char* path,
                                          const diffevent_recording_params* params,
                                          diffevent_recording** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(path);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    const auto p =
        read_params(params, diffevent_recording_params_init, "diffevent_recording_params");
    DIFFEVENT_CHECK(p.width >= 0 && p.height >= 0 && p.width <= 65535 && p.height <= 65535,
                    ErrorCode::kInvalidArgument, "width/height must be in [0, 65535], got {}x{}",
                    p.width, p.height);
    DIFFEVENT_CHECK(p.exposure_us >= 0, ErrorCode::kInvalidArgument,
                    "exposure_us must be >= 0, got {}", p.exposure_us);
    diffevent::RecordingOptions ro;
    ro.read.format = from_c_format(p.format);
    ro.read.width = p.width;
    ro.read.height = p.height;
    if (p.max_events > 0)
      ro.read.max_events = static_cast<int64_t>(
          std::min<uint64_t>(p.max_events, std::numeric_limits<int64_t>::max()));
    ro.exposure_us = p.exposure_us;
    auto h = std::make_unique<diffevent_recording>(
        diffevent_recording{diffevent::Recording::open(path, ro)});
    log(ctx, DIFFEVENT_LOG_INFO,
        fmt::format("opened '{}': {} frames ({}), sensor {}x{}", path, h->recording.size(),
                    h->recording.layout(), h->recording.width(), h->recording.height()));
    *out = h.release();
  });
}

void diffevent_recording_destroy(diffevent_recording* recording) { delete recording; }

diffevent_status diffevent_recording_info(const diffevent_recording* recording,
                                          uint64_t* out_frames, int32_t* out_width,
                                          int32_t* out_height) {
  return guard(__func__, [&] {
    const auto& r = get(recording);
    if (out_frames) *out_frames = r.size();
    if (out_width) *out_width = r.width();
    if (out_height) *out_height = r.height();
  });
}

const char* diffevent_recording_layout(const diffevent_recording* recording) {
  return recording == nullptr ? "" : recording->recording.layout();
}

diffevent_status diffevent_recording_frame(const diffevent_recording* recording, uint64_t index,
                                           int64_t* out_t0_us, int64_t* out_t1_us, char* name,
                                           size_t name_capacity) {
  return guard(__func__, [&] {
    const auto& f = get(recording).frame(index);
    if (out_t0_us) *out_t0_us = f.exposure.t0_us;
    if (out_t1_us) *out_t1_us = f.exposure.t1_us;
    if (name != nullptr && name_capacity > 0) {
      const size_t n = std::min(name_capacity - 1, f.name.size());
      std::memcpy(name, f.name.data(), n);
      name[n] = '\0';
    }
  });
}

diffevent_status diffevent_recording_image(diffevent_context* ctx,
                                           const diffevent_recording* recording, uint64_t index,
                                           diffevent_image** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(out);
    check_cancel(ctx);
    auto h = std::make_unique<diffevent_image>();
    h->image = get(recording).image(index);
    *out = h.release();
  });
}

diffevent_status diffevent_recording_events(diffevent_context* ctx,
                                            const diffevent_recording* recording, uint64_t index,
                                            diffevent_events** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(out);
    check_cancel(ctx);
    const auto& r = get(recording);
    const diffevent::Exposure e = r.frame(index).exposure;
    *out = wrap(r, r.events(index), &e);
  });
}

diffevent_status diffevent_recording_events_between(diffevent_context* ctx,
                                                    const diffevent_recording* recording,
                                                    int64_t t0_us, int64_t t1_us,
                                                    diffevent_events** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(out);
    check_cancel(ctx);
    *out = wrap(get(recording), get(recording).events_between(t0_us, t1_us), nullptr);
  });
}

}  // extern "C"
