#include "deblur_params.hpp"

#include <cstring>

#include "core/check.hpp"
#include "internal.hpp"

namespace diffevent_capi {
namespace {

using diffevent::ErrorCode;

// clang-format off
// The fields that are the same number in C and C++: (C field, DeblurOptions member).
#define DIFFEVENT_DEBLUR_NUMBERS(X)                 \
  X(steps, sampler.steps)                           \
  X(guided_radius, enhancer.guided_radius)          \
  X(guided_eps, enhancer.guided_eps)                \
  X(eta, sampler.eta)                               \
  X(s, sampler.s)                                   \
  X(s_r, sampler.s_r)                               \
  X(lambda_tv, sampler.lambda_tv)                   \
  X(lambda_l1, sampler.lambda_l1)                   \
  X(min_prior_variance, sampler.min_prior_variance) \
  X(tile_size, sampler.tile_size)                   \
  X(tile_stride, sampler.tile_stride)               \
  X(tile_above_pixels, sampler.tile_above_pixels)   \
  X(seed, sampler.seed)                             \
  X(start, sampler.start)                           \
  X(threshold_sigma, threshold_sigma)               \
  X(samples, samples)
// The 0/1 flags: (C field, DeblurOptions member).
#define DIFFEVENT_DEBLUR_FLAGS(X)   \
  X(auto_threshold, auto_threshold) \
  X(ddim, sampler.ddim)             \
  X(clip, sampler.clip)             \
  X(antithetic, sampler.antithetic) \
  X(residual_prior, residual_prior)
// clang-format on

// The layout of API versions 1 to 6 (struct_size 232, 256 or 264), with the EDI parameters of
// those versions embedded. Frozen: it must never change.
struct EdiParamsV6 {
  uint32_t struct_size;
  int32_t has_exposure;
  int64_t exposure_t0_us;
  int64_t exposure_t1_us;
  int32_t has_tau;
  int32_t linearize_srgb;
  int64_t tau_us;
  double c_pos;
  double c_neg;
  const float* c_pos_map;
  const float* c_neg_map;
  double min_integral;
};
struct DeblurParamsV6 {
  uint32_t struct_size;
  int32_t steps;
  EdiParamsV6 edi;
  int32_t auto_threshold, enhancer_kind;
  const char* enhancer_path;
  int32_t guided_radius, guidance;
  double guided_eps;
  const char* respacing;
  int32_t ddim, variance;
  double eta, s, s_r, lambda_tv, lambda_l1, min_prior_variance;
  int32_t clip, tile_size, tile_stride, reserved0;
  int64_t tile_above_pixels;
  uint64_t seed;
  diffevent_progress_fn progress;
  void* progress_user_data;
  double start, threshold_sigma;
  int32_t samples, integral;
  int32_t antithetic, residual_prior;
};
static_assert(sizeof(EdiParamsV6) == 80 && offsetof(DeblurParamsV6, progress_user_data) == 224 &&
                  offsetof(DeblurParamsV6, start) == 232 &&
                  offsetof(DeblurParamsV6, samples) == 248 &&
                  offsetof(DeblurParamsV6, antithetic) == 256 && sizeof(DeblurParamsV6) == 264,
              "the version 1-6 layout is frozen");
static_assert(sizeof(diffevent_deblur_params) > sizeof(DeblurParamsV6),
              "the two layouts are told apart by struct_size");

void init_v6(DeblurParamsV6* p) {
  diffevent_deblur_params now;
  fill_deblur_params(&now, diffevent::DeblurOptions::kPreset);
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  diffevent_edi_params e;
  init_edi_params(&e);
  static_assert(sizeof(EdiParamsV6) <= sizeof(diffevent_edi_params), "EDI parameters only grow");
  std::memcpy(static_cast<void*>(&p->edi), &e, sizeof(EdiParamsV6));
  p->edi.struct_size = sizeof(EdiParamsV6);
#define COPY(c, cpp) p->c = now.c;
  DIFFEVENT_DEBLUR_NUMBERS(COPY)
  DIFFEVENT_DEBLUR_FLAGS(COPY)
#undef COPY
  p->enhancer_kind = now.enhancer_kind;
  p->guidance = now.guidance;
  p->variance = now.variance;
  p->integral = now.integral;
}

// A version 1-6 struct in today's layout; its EDI parameters go to `edi`.
diffevent_deblur_params from_v6(const diffevent_deblur_params* caller, diffevent_edi_params* edi) {
  const auto old = read_params(reinterpret_cast<const DeblurParamsV6*>(caller), init_v6,
                               "diffevent_deblur_params");
  diffevent_deblur_params p;
  fill_deblur_params(&p, diffevent::DeblurOptions::kPreset);
  init_edi_params(edi);
  std::memcpy(static_cast<void*>(edi), &old.edi, sizeof(EdiParamsV6));
  edi->struct_size = sizeof(EdiParamsV6);
  p.edi = edi;
#define COPY(c, cpp) p.c = old.c;
  DIFFEVENT_DEBLUR_NUMBERS(COPY)
  DIFFEVENT_DEBLUR_FLAGS(COPY)
#undef COPY
  p.enhancer_kind = old.enhancer_kind;
  p.enhancer_path = old.enhancer_path;
  p.guidance = old.guidance;
  p.respacing = old.respacing;
  p.variance = old.variance;
  p.integral = old.integral;
  p.progress = old.progress;
  p.progress_user_data = old.progress_user_data;
  return p;
}

int32_t enhancer_code(diffevent::Enhancer e) {
  switch (e) {
    case diffevent::Enhancer::kIdentity:
      return DIFFEVENT_ENHANCER_IDENTITY;
    case diffevent::Enhancer::kTorchScript:
      return DIFFEVENT_ENHANCER_TORCHSCRIPT;
    case diffevent::Enhancer::kGuided:
    default:
      return DIFFEVENT_ENHANCER_GUIDED;
  }
}

}  // namespace

void fill_deblur_params(diffevent_deblur_params* p, diffevent::DeblurPreset preset) {
  const diffevent::DeblurOptions o = diffevent::deblur_options(preset);
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  p->edi = nullptr;
#define COPY(c, cpp) p->c = o.cpp;
  DIFFEVENT_DEBLUR_NUMBERS(COPY)
#undef COPY
#define COPY(c, cpp) p->c = o.cpp ? 1 : 0;
  DIFFEVENT_DEBLUR_FLAGS(COPY)
#undef COPY
  p->enhancer_kind = enhancer_code(o.enhancer.enhancer);
  p->guidance = static_cast<int32_t>(o.sampler.guidance);
  p->variance = o.sampler.variance == diffevent::VarianceType::kFixedLarge
                    ? DIFFEVENT_VARIANCE_FIXED_LARGE
                    : DIFFEVENT_VARIANCE_FIXED_SMALL;
  p->integral = DIFFEVENT_INTEGRAL_DEFAULT;
  p->start_threshold = o.start_threshold;
  p->robust_residual = o.sampler.robust_residual;
  p->start_threshold_max = o.start_threshold_max;
}

DeblurRequest read_deblur_params(const diffevent_context* ctx,
                                 const diffevent_deblur_params* caller,
                                 const diffevent_events& events) {
  diffevent_edi_params v6_edi;
  diffevent_deblur_params p;
  if (caller != nullptr && caller->struct_size >= sizeof(uint32_t) &&
      caller->struct_size <= sizeof(DeblurParamsV6)) {
    p = from_v6(caller, &v6_edi);
  } else {
    p = read_params(
        caller,
        +[](diffevent_deblur_params* d) {
          fill_deblur_params(d, diffevent::DeblurOptions::kPreset);
        },
        "diffevent_deblur_params");
  }
  const auto e = read_params(p.edi, init_edi_params, "diffevent_deblur_params.edi");
#define CHECK_FLAG(c, cpp) check_flag(p.c, #c);
  DIFFEVENT_DEBLUR_FLAGS(CHECK_FLAG)
#undef CHECK_FLAG
  DIFFEVENT_CHECK(p.enhancer_kind >= DIFFEVENT_ENHANCER_IDENTITY &&
                      p.enhancer_kind <= DIFFEVENT_ENHANCER_TORCHSCRIPT,
                  ErrorCode::kInvalidArgument,
                  "enhancer_kind {} is not a DIFFEVENT_ENHANCER_* value", p.enhancer_kind);
  DIFFEVENT_CHECK(
      p.guidance >= DIFFEVENT_GUIDANCE_PROXIMAL && p.guidance <= DIFFEVENT_GUIDANCE_CONSTANT,
      ErrorCode::kInvalidArgument, "guidance {} is not a DIFFEVENT_GUIDANCE_* value", p.guidance);
  DIFFEVENT_CHECK(
      p.variance == DIFFEVENT_VARIANCE_FIXED_SMALL || p.variance == DIFFEVENT_VARIANCE_FIXED_LARGE,
      ErrorCode::kInvalidArgument, "variance {} is not a DIFFEVENT_VARIANCE_* value", p.variance);
  DIFFEVENT_CHECK(p.integral >= DIFFEVENT_INTEGRAL_DEFAULT && p.integral <= DIFFEVENT_INTEGRAL_RAMP,
                  ErrorCode::kInvalidArgument,
                  "integral = {} must be one of DIFFEVENT_INTEGRAL_* (0, 1, 2)", p.integral);

  DeblurRequest r;
  diffevent::DeblurOptions& o = r.options;
  const diffevent::EdiOptions eo = edi_options(ctx, e, events.events);
  o.thresholds = eo.thresholds;
  o.linearize_srgb = eo.linearize_srgb;
  o.min_integral = eo.min_integral;
  o.tau_us = eo.tau_us;  // edi.has_tau: the sharp frame at that time
#define COPY(c, cpp) o.cpp = p.c;
  DIFFEVENT_DEBLUR_NUMBERS(COPY)
#undef COPY
#define COPY(c, cpp) o.cpp = flag(p.c);
  DIFFEVENT_DEBLUR_FLAGS(COPY)
#undef COPY
  o.enhancer.enhancer =
      p.enhancer_kind == DIFFEVENT_ENHANCER_IDENTITY      ? diffevent::Enhancer::kIdentity
      : p.enhancer_kind == DIFFEVENT_ENHANCER_TORCHSCRIPT ? diffevent::Enhancer::kTorchScript
                                                          : diffevent::Enhancer::kGuided;
  if (p.enhancer_path != nullptr) o.enhancer.enhancer_path = p.enhancer_path;
  if (p.respacing != nullptr) o.sampler.respacing = p.respacing;
  o.sampler.variance = p.variance == DIFFEVENT_VARIANCE_FIXED_LARGE
                           ? diffevent::VarianceType::kFixedLarge
                           : diffevent::VarianceType::kFixedSmall;
  o.sampler.guidance = static_cast<diffevent::GuidanceMode>(p.guidance);
  if (p.integral == DIFFEVENT_INTEGRAL_STEP) o.interpolation = diffevent::Interpolation::kStep;
  if (p.integral == DIFFEVENT_INTEGRAL_RAMP) o.interpolation = diffevent::Interpolation::kRamp;
  o.start_threshold = p.start_threshold;
  o.sampler.robust_residual = p.robust_residual;
  o.start_threshold_max = p.start_threshold_max;
  diffevent::validate(o);
  r.exposure = resolve_exposure(e, events);
  r.progress = p.progress;
  r.progress_user_data = p.progress_user_data;
  return r;
}

}  // namespace diffevent_capi
