// Internal to the C API: diffevent_deblur_params and the library's DeblurOptions, the one
// place where the C fields meet the C++ ones (both directions), and the layout of API
// versions 1 to 6, still read for programs built against those headers.
#pragma once

#include "diffevent/diffevent.h"
#include "diffevent/diffusion/options.hpp"
#include "diffevent/events/exposure.hpp"

struct diffevent_events;

namespace diffevent_capi {

/// What diffevent_deblur hands the plugin: the options, validated, and the exposure.
struct DeblurRequest {
  diffevent::DeblurOptions options;
  diffevent::Exposure exposure;
  diffevent_progress_fn progress = nullptr;
  void* progress_user_data = nullptr;
};

/// Fills `p` with a preset's options (every value read from diffevent::deblur_options).
void fill_deblur_params(diffevent_deblur_params* p, diffevent::DeblurPreset preset);

/// Reads a caller's parameters (either layout, by struct_size; NULL: the defaults) for `events`
/// and validates them (diffevent::validate). Throws diffevent::Error naming the bad field.
DeblurRequest read_deblur_params(const diffevent_context* ctx, const diffevent_deblur_params* p,
                                 const diffevent_events& events);

}  // namespace diffevent_capi
