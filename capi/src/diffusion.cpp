// The C API: enhancers, priors and deblurring. They run in the LibTorch plugin
// (torch_plugin.cpp), loaded on their first use (plugin_loader.hpp), so reading events or
// running EDI loads no LibTorch. Arguments are checked here first, so a call answers the same
// with or without the plugin.
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
#include "deblur_params.hpp"
#include "diffevent/diffevent.h"
#include "diffevent/events.hpp"
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

// Enhancers, priors, deblurring

void diffevent_enhancer_params_init(diffevent_enhancer_params* p) { init_enhancer_params(p); }

void diffevent_prior_params_init(diffevent_prior_params* p) { init_prior_params(p); }

void diffevent_prior_metadata_init(diffevent_prior_metadata* m) { init_prior_metadata(m); }

void diffevent_deblur_params_init(diffevent_deblur_params* p) {
  if (p != nullptr) fill_deblur_params(p, diffevent::DeblurOptions::kPreset);
}

diffevent_status diffevent_deblur_params_init_preset(diffevent_deblur_params* p, int32_t preset) {
  return guard(__func__, [&] {
    REQUIRE_ARG(p);
    DIFFEVENT_CHECK(preset >= DIFFEVENT_PRESET_FAST && preset <= DIFFEVENT_PRESET_NOISY,
                    ErrorCode::kInvalidArgument,
                    "preset {} is not a DIFFEVENT_PRESET_* value (0 to 4)", preset);
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
  // The parameters are read and validated here, before the plugin loads.
  DeblurRequest request;
  const diffevent_status checked = guard(__func__, [&] {
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(events);
    REQUIRE_ARG(out_sharp);
    check_cancel(ctx);
    request = read_deblur_params(ctx, params, *events);
  });
  if (checked != DIFFEVENT_OK) return checked;
  return in_plugin(__func__, [&](const diffevent_torch_plugin& p) {
    return p.deblur(ctx, blurry, events, x_prior, r_prior, &request, out_sharp, out_residual,
                    out_threshold);
  });
}

}  // extern "C"
