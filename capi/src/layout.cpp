// Compile-time guards on the public layouts: a change here is an ABI break (docs/c-api.md).
#include <cstddef>
#include <type_traits>

#include "diffevent/diffevent.h"
#include "diffevent/diffusion/options.hpp"

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
static_assert(offsetof(diffevent_deblur_params, progress_user_data) == 152,
              "diffevent_deblur_params layout changed");
static_assert(offsetof(diffevent_deblur_params, samples) == 176,
              "diffevent_deblur_params layout changed");
static_assert(sizeof(diffevent_deblur_params) == 296, "diffevent_deblur_params layout changed");
static_assert(static_cast<int>(diffevent::DeblurPreset::kFast) == DIFFEVENT_PRESET_FAST &&
                  static_cast<int>(diffevent::DeblurPreset::kBalanced) ==
                      DIFFEVENT_PRESET_BALANCED &&
                  static_cast<int>(diffevent::DeblurPreset::kBest) == DIFFEVENT_PRESET_BEST &&
                  static_cast<int>(diffevent::DeblurPreset::kPaper) == DIFFEVENT_PRESET_PAPER &&
                  static_cast<int>(diffevent::DeblurPreset::kNoisy) == DIFFEVENT_PRESET_NOISY,
              "DIFFEVENT_PRESET_* follow DeblurPreset");
