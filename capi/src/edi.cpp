// The C API: the double integral, EDI deblurring, the threshold search and the sensor threshold.
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

void diffevent_sensor_threshold_params_init(diffevent_sensor_threshold_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  const diffevent::SensorThresholdOptions d;
  p->block_px = d.block_px;
  p->max_motion_px = d.max_motion_px;
  p->min_peak = d.min_peak;
  p->gradient_quantile = d.gradient_quantile;
  p->c_min = d.c_min;
  p->c_max = d.c_max;
  p->reference_at_start = d.reference_at_start ? 1 : 0;
}

void diffevent_sensor_threshold_estimate_init(diffevent_sensor_threshold_estimate* e) {
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
    r.std_error = est.std_error;
    if (est.at_bound)
      log(ctx, DIFFEVENT_LOG_WARNING,
          fmt::format("the estimated threshold {:.3f} is at the end of the search interval",
                      est.c));
    write_out_struct(out, r);
  });
}

diffevent_status diffevent_estimate_sensor_threshold(
    diffevent_context* ctx, const diffevent_image* blurry, const diffevent_events* events,
    const diffevent_edi_params* params, const diffevent_sensor_threshold_params* options,
    diffevent_sensor_threshold_estimate* out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(events);
    check_out_struct(out, "diffevent_sensor_threshold_estimate");
    check_cancel(ctx);
    const auto p = read_params(params, diffevent_edi_params_init, "diffevent_edi_params");
    const auto s = read_params(options, diffevent_sensor_threshold_params_init,
                               "diffevent_sensor_threshold_params");
    diffevent::SensorThresholdOptions so;
    so.block_px = s.block_px;
    so.max_motion_px = s.max_motion_px;
    so.min_peak = s.min_peak;
    so.gradient_quantile = s.gradient_quantile;
    so.c_min = s.c_min;
    so.c_max = s.c_max;
    so.reference_at_start = s.reference_at_start != 0;
    const diffevent::Edi edi(edi_options(ctx, p, events->events));
    const diffevent::Exposure ex = resolve_exposure(p, *events);
    const diffevent::SensorThresholdEstimate est =
        edi.estimate_sensor_threshold(blurry->image, events->events, ex, so);
    diffevent_sensor_threshold_estimate r;
    diffevent_sensor_threshold_estimate_init(&r);
    r.c = est.c;
    r.std_error = est.std_error;
    r.pixels = est.pixels;
    r.blocks = est.blocks;
    r.motion_px = est.motion_px;
    r.at_bound = est.at_bound ? 1 : 0;
    r.c_pos = est.c_pos;
    r.c_neg = est.c_neg;
    r.pixels_pos = est.pixels_pos;
    r.pixels_neg = est.pixels_neg;
    if (est.at_bound)
      log(ctx, DIFFEVENT_LOG_WARNING,
          fmt::format("the sensor threshold {:.3f} is at the end of its range", est.c));
    write_out_struct(out, r);
  });
}

}  // extern "C"
