// Internal to the C API (not installed): the handles' layouts and the helpers that the C
// library (capi/src/*.cpp, one file per area) and its LibTorch plugin (torch_plugin.cpp) share.
// Both are built from one tree in one build, so the layouts agree; the plugin checks the
// library's version before it is used.
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "diffevent/diffevent.h"
#include "diffevent/diffusion/options.hpp"
#include "diffevent/events.hpp"

#ifdef DIFFEVENT_HAVE_TORCH
#include <c10/util/Exception.h>
#endif

using diffevent::Error;
using diffevent::ErrorCode;

struct diffevent_context {
  std::atomic<bool> cancel{false};
  int num_threads = 1;
  diffevent_log_fn log = nullptr;
  void* log_user_data = nullptr;
  int log_level = DIFFEVENT_LOG_INFO;
};

struct diffevent_image {
  diffevent::Image image;
};

struct diffevent_events {
  diffevent::EventStream events;
  int32_t format = DIFFEVENT_FORMAT_AUTO;
  bool size_inferred = false;
  std::vector<diffevent::Exposure> exposures;
  std::optional<diffevent::Image> image;
  std::optional<diffevent::Thresholds> thresholds;  ///< As the file states them.
};

namespace diffevent_capi {

// Note [Untouched outputs]
// Each entry point computes its results into locals (owned by unique_ptr) and writes the
// caller's out-parameters only in its last statements, which cannot throw. So a failure
// leaves them as they were and frees whatever was built.

// The calling thread's last error message, "function: what". Each shared object (the C
// library, its LibTorch plugin) has its own (hidden visibility: this inline function's
// thread-local is not shared between them); the library copies the plugin's after a call.
inline std::string& last_error() noexcept {
  thread_local std::string message;
  return message;
}

inline void set_last_error(const char* fn, const char* what) noexcept {
  std::string& m = last_error();
  try {
    m.assign(fn);
    m.append(": ");
    m.append(what);
  } catch (...) {
    m.clear();  // no memory for the message; the status still says what happened
  }
}

template <class F>
diffevent_status guard(const char* fn, F&& body) noexcept {
  try {
    body();
    return DIFFEVENT_OK;
  } catch (const Error& e) {
    set_last_error(fn, e.what());
    return static_cast<diffevent_status>(e.code());
  } catch (const std::bad_alloc&) {
    set_last_error(fn, "out of memory");
    return DIFFEVENT_E_OUT_OF_MEMORY;
#ifdef DIFFEVENT_HAVE_TORCH
  } catch (const c10::Error& e) {  // a LibTorch check the library did not anticipate
    set_last_error(fn, e.what_without_backtrace());
    return DIFFEVENT_E_INTERNAL;
#endif
  } catch (const std::exception& e) {
    set_last_error(fn, e.what());
    return DIFFEVENT_E_INTERNAL;
  } catch (...) {
    set_last_error(fn, "unknown exception");
    return DIFFEVENT_E_INTERNAL;
  }
}

#define REQUIRE_ARG(ptr) \
  DIFFEVENT_CHECK((ptr) != nullptr, ErrorCode::kInvalidArgument, "argument '{}' is NULL", #ptr)

// Copies a caller's parameter struct over the defaults, reading only the bytes its
// struct_size covers (an older, smaller struct keeps the defaults for newer fields).
template <class T>
inline T read_params(const T* p, void (*init)(T*), const char* type) {
  T out;
  init(&out);
  if (p == nullptr) return out;
  DIFFEVENT_CHECK(p->struct_size >= sizeof(uint32_t), ErrorCode::kInvalidArgument,
                  "{}.struct_size is {}: fill the struct with {}_init first", type, p->struct_size,
                  type);
  DIFFEVENT_CHECK(
      p->struct_size <= sizeof(T), ErrorCode::kInvalidArgument,
      "{}.struct_size is {} but this library knows {} bytes (header newer than the library?)", type,
      p->struct_size, sizeof(T));
  // Every size a struct has had ends on a multiple of its alignment, so no field is cut in two
  // (a struct_size inside a pointer would leave half of it from the defaults).
  DIFFEVENT_CHECK(
      p->struct_size % alignof(T) == 0, ErrorCode::kInvalidArgument,
      "{}.struct_size is {}: not a size this struct has had (a multiple of {}; call {}_init)", type,
      p->struct_size, alignof(T), type);
  std::memcpy(static_cast<void*>(&out), p, p->struct_size);
  out.struct_size = static_cast<uint32_t>(sizeof(T));
  return out;
}

// Checks an output struct's struct_size (set by the caller) before anything is computed.
template <class T>
inline void check_out_struct(const T* out, const char* type) {
  REQUIRE_ARG(out);
  DIFFEVENT_CHECK(out->struct_size >= sizeof(uint32_t) && out->struct_size <= sizeof(T),
                  ErrorCode::kInvalidArgument, "{}.struct_size is {}; expected {} (call {}_init)",
                  type, out->struct_size, sizeof(T), type);
}

// Copies the leading struct_size bytes of `value` into the caller's struct (no-throw).
template <class T>
inline void write_out_struct(T* out, const T& value) noexcept {
  const uint32_t size = out->struct_size;
  std::memcpy(static_cast<void*>(out), &value, size);
  out->struct_size = size;
}

inline void log(const diffevent_context* ctx, int level, const std::string& message) {
  if (ctx != nullptr && ctx->log != nullptr && level <= ctx->log_level)
    ctx->log(ctx->log_user_data, level, message.c_str());
}

inline void check_cancel(const diffevent_context* ctx) {
  DIFFEVENT_CHECK(
      ctx == nullptr || !ctx->cancel.load(std::memory_order_relaxed), ErrorCode::kCancelled,
      "cancelled (diffevent_context_cancel was called; diffevent_context_reset_cancel clears it)");
}

inline bool flag(int32_t v) { return v != 0; }

inline void check_flag(int32_t v, const char* name) {
  DIFFEVENT_CHECK(v == 0 || v == 1, ErrorCode::kInvalidArgument, "{} must be 0 or 1, got {}", name,
                  v);
}

inline void check_finite(double v, const char* name) {
  DIFFEVENT_CHECK(std::isfinite(v), ErrorCode::kInvalidArgument, "{} must be finite, got {}", name,
                  v);
}

inline int32_t to_c_format(diffevent::EventFormat f) { return static_cast<int32_t>(f); }

inline diffevent::EventFormat from_c_format(int32_t f) {
  DIFFEVENT_CHECK(f >= DIFFEVENT_FORMAT_AUTO && f <= DIFFEVENT_FORMAT_NPZ,
                  ErrorCode::kInvalidArgument, "format {} is not a DIFFEVENT_FORMAT_* value", f);
  return static_cast<diffevent::EventFormat>(f);
}

inline std::unique_ptr<diffevent_image> wrap(diffevent::Image image) {
  auto h = std::make_unique<diffevent_image>();
  h->image = std::move(image);
  return h;
}

inline diffevent::Exposure resolve_exposure(const diffevent_edi_params& p,
                                            const diffevent_events& ev) {
  if (flag(p.has_exposure)) {
    DIFFEVENT_CHECK(diffevent::Exposure({p.exposure_t0_us, p.exposure_t1_us}).valid(),
                    ErrorCode::kInvalidArgument,
                    "the exposure [{}, {}] us is empty or too long: exposure_t1_us must be after "
                    "exposure_t0_us, by "
                    "less than 2^63 us",
                    p.exposure_t0_us, p.exposure_t1_us);
    return {p.exposure_t0_us, p.exposure_t1_us};
  }
  DIFFEVENT_CHECK(
      !ev.exposures.empty(), ErrorCode::kInvalidArgument,
      "the events state no exposure: set has_exposure and exposure_t0_us/exposure_t1_us");
  return ev.exposures.front();
}

inline diffevent::Thresholds thresholds_from(const diffevent_edi_params& p,
                                             const diffevent::EventStream& ev) {
  check_finite(p.c_pos, "c_pos");
  check_finite(p.c_neg, "c_neg");
  diffevent::Thresholds t;
  t.c_pos = p.c_pos;
  t.c_neg = p.c_neg;
  const size_t n = static_cast<size_t>(ev.width()) * static_cast<size_t>(ev.height());
  if (p.c_pos_map != nullptr) t.c_pos_map.assign(p.c_pos_map, p.c_pos_map + n);
  if (p.c_neg_map != nullptr) t.c_neg_map.assign(p.c_neg_map, p.c_neg_map + n);
  return t;
}

inline diffevent::EdiOptions edi_options(const diffevent_context* ctx,
                                         const diffevent_edi_params& p,
                                         const diffevent::EventStream& ev) {
  check_flag(p.has_exposure, "has_exposure");
  check_flag(p.has_tau, "has_tau");
  check_flag(p.linearize_srgb, "linearize_srgb");
  check_finite(p.min_integral, "min_integral");
  DIFFEVENT_CHECK(p.min_integral > 0, ErrorCode::kInvalidArgument,
                  "min_integral must be > 0, got {}", p.min_integral);
  diffevent::EdiOptions o;
  o.thresholds = thresholds_from(p, ev);
  if (flag(p.has_tau)) o.tau_us = p.tau_us;
  o.min_integral = p.min_integral;
  o.linearize_srgb = flag(p.linearize_srgb);
  o.num_threads = ctx != nullptr ? ctx->num_threads : 1;
  return o;
}

// The defaults of the parameter structs (the exported *_init functions call these; the plugin
// uses them directly, so it needs no symbol of the library).
inline void init_edi_params(diffevent_edi_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  const diffevent::EdiOptions defaults;
  p->c_pos = defaults.thresholds.c_pos;
  p->c_neg = defaults.thresholds.c_neg;
  p->min_integral = defaults.min_integral;
}

inline void init_enhancer_params(diffevent_enhancer_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  const diffevent::EbrdOptions deblurs = diffevent::DeblurOptions{}.enhancer;  // deblur's f(E)
  p->kind = deblurs.enhancer == diffevent::Enhancer::kIdentity ? DIFFEVENT_ENHANCER_IDENTITY
                                                               : DIFFEVENT_ENHANCER_GUIDED;
  p->guided_radius = deblurs.guided_radius;
  p->guided_eps = deblurs.guided_eps;
}

inline void init_prior_params(diffevent_prior_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
}

inline void init_prior_metadata(diffevent_prior_metadata* m) {
  if (m == nullptr) return;
  std::memset(static_cast<void*>(m), 0, sizeof(*m));
  m->struct_size = sizeof(*m);
}

}  // namespace diffevent_capi
