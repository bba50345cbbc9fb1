// libFuzzer harness for the parameters of the C API's EDI and deblurring calls (needs LibTorch:
// scripts/fuzz.sh builds it in its own tree). Each input is a recipe (FuzzedDataProvider) for a
// small grey or colour frame, a sorted event stream on its sensor, and every field of
// diffevent_deblur_params (EDI's exposure, reference time, thresholds and per-pixel maps
// included), drawn from ordinary values, boundaries, NaN, infinities, negative and huge
// numbers, plus odd struct sizes. The calls run with the analytic priors. A returned error
// must come with a message; a success must give a finite image of the frame's size in [0, 1].
// A hang (libFuzzer's -timeout), a crash, a sanitizer report or an allocation past
// -malloc_limit_mb is a finding: every parameter a loop or an allocation depends on must be
// bounded before it is used.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "diffevent/diffevent.h"

namespace {

double any_double(FuzzedDataProvider& in, double typical) {
  static const double kValues[] = {0.0,
                                   -1.0,
                                   1e-300,
                                   1e300,
                                   -1e300,
                                   std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   1.0,
                                   0.5,
                                   1e6,
                                   1e-12};
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return kValues[in.ConsumeIntegralInRange<size_t>(0, std::size(kValues) - 1)];
    case 1:
      return in.ConsumeFloatingPoint<double>();
    default:
      return typical * in.ConsumeFloatingPointInRange<double>(0.0, 2.0);
  }
}

int32_t any_int(FuzzedDataProvider& in, int32_t typical) {
  static const int32_t kValues[] = {0,
                                    -1,
                                    1,
                                    2,
                                    64,
                                    65,
                                    1000,
                                    1001,
                                    1 << 20,
                                    std::numeric_limits<int32_t>::max(),
                                    std::numeric_limits<int32_t>::min()};
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return kValues[in.ConsumeIntegralInRange<size_t>(0, std::size(kValues) - 1)];
    case 1:
      return in.ConsumeIntegral<int32_t>();
    default:
      return typical;
  }
}

int64_t any_time(FuzzedDataProvider& in, int64_t typical) {
  static const int64_t kValues[] = {0,
                                    -1,
                                    std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::max() / 2 + 1,
                                    20000};
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:
      return kValues[in.ConsumeIntegralInRange<size_t>(0, std::size(kValues) - 1)];
    case 1:
      return in.ConsumeIntegral<int64_t>();
    default:
      return typical;
  }
}

void check_image(const char* what, const diffevent_image* img, int32_t c, int32_t h, int32_t w,
                 bool unit_range) {
  int32_t cc = 0, hh = 0, ww = 0;
  if (diffevent_image_shape(img, &cc, &hh, &ww) != DIFFEVENT_OK || cc != c || hh != h || ww != w) {
    std::fprintf(stderr, "%s: shape [%d, %d, %d], expected [%d, %d, %d]\n", what, cc, hh, ww, c, h,
                 w);
    __builtin_trap();
  }
  std::vector<float> v(static_cast<size_t>(c) * h * w);
  if (diffevent_image_copy_data(img, v.data(), v.size()) != DIFFEVENT_OK) __builtin_trap();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]) || (unit_range && (v[i] < 0.0f || v[i] > 1.0f))) {
      std::fprintf(stderr, "%s: value %g at %zu\n", what, static_cast<double>(v[i]), i);
      __builtin_trap();
    }
}

void print_edi(const diffevent_edi_params& e) {
  std::fprintf(
      stderr,
      "edi: exposure %d [%lld, %lld], tau %d %lld, srgb %d, c %g %g, maps %d %d, min_integral %g\n",
      e.has_exposure, static_cast<long long>(e.exposure_t0_us),
      static_cast<long long>(e.exposure_t1_us), e.has_tau, static_cast<long long>(e.tau_us),
      e.linearize_srgb, e.c_pos, e.c_neg, e.c_pos_map != nullptr, e.c_neg_map != nullptr,
      e.min_integral);
}

void check_error(diffevent_status s) {
  if (s == DIFFEVENT_OK) return;
  const char* msg = diffevent_last_error();
  if (!msg || !*msg) __builtin_trap();  // every error says what was wrong
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const int32_t c = in.ConsumeBool() ? 1 : 3, h = in.ConsumeIntegralInRange(1, 20),
                w = in.ConsumeIntegralInRange(1, 20);
  const int64_t exposure = 20000;

  // Events: sorted, on the sensor, inside [0, exposure] (what a reader would have accepted).
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, 400);
  std::vector<int64_t> t(n);
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = in.ConsumeIntegralInRange<int64_t>(0, exposure);
    x[i] = in.ConsumeIntegralInRange<uint16_t>(0, static_cast<uint16_t>(w - 1));
    y[i] = in.ConsumeIntegralInRange<uint16_t>(0, static_cast<uint16_t>(h - 1));
    p[i] = in.ConsumeBool() ? 1 : -1;
  }
  std::sort(t.begin(), t.end());
  diffevent_ingest_params ingest;
  diffevent_ingest_params_init(&ingest);
  ingest.polarity_encoding = DIFFEVENT_POLARITY_MINUS_PLUS;
  diffevent_events* events = nullptr;
  if (diffevent_events_from_arrays(w, h, n ? t.data() : nullptr, x.data(), y.data(), p.data(), n,
                                   &ingest, &events) != DIFFEVENT_OK)
    __builtin_trap();

  std::vector<float> pixels(static_cast<size_t>(c) * h * w);
  for (float& v : pixels)
    v = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? static_cast<float>(any_double(in, 0.5))
                                                  : in.ConsumeFloatingPointInRange<float>(0, 1);
  diffevent_image* blurry = nullptr;
  if (diffevent_image_create(c, h, w, pixels.data(), &blurry) != DIFFEVENT_OK) __builtin_trap();

  std::vector<float> c_map(static_cast<size_t>(h) * w);
  for (float& v : c_map) v = static_cast<float>(any_double(in, 0.2));

  diffevent_deblur_params params;
  const int preset = in.ConsumeIntegralInRange(-1, 3);  // -1 and 3 are not presets
  if (diffevent_deblur_params_init_preset(&params, preset) != DIFFEVENT_OK)
    diffevent_deblur_params_init(&params);
  diffevent_edi_params edi;
  diffevent_edi_params_init(&edi);
  params.edi = &edi;
  edi.has_exposure = in.ConsumeIntegralInRange(0, 3) != 0;
  edi.exposure_t0_us = any_time(in, 0);
  edi.exposure_t1_us = any_time(in, exposure);
  edi.has_tau = in.ConsumeBool();
  edi.tau_us = any_time(in, exposure / 2);
  edi.linearize_srgb = in.ConsumeBool();
  edi.c_pos = any_double(in, 0.2);
  edi.c_neg = any_double(in, 0.2);
  edi.c_pos_map = in.ConsumeIntegralInRange(0, 7) == 0 ? c_map.data() : nullptr;
  edi.c_neg_map = in.ConsumeIntegralInRange(0, 7) == 0 ? c_map.data() : nullptr;
  edi.min_integral = any_double(in, 1e-3);
  if (in.ConsumeIntegralInRange(0, 15) == 0) edi.struct_size = in.ConsumeIntegral<uint32_t>();

  // EDI and the double integral take the same EDI parameters.
  diffevent_image* out = nullptr;
  diffevent_status s = diffevent_edi_deblur(nullptr, blurry, events, &edi, &out);
  check_error(s);
  if (s == DIFFEVENT_OK) {
    if (std::getenv("DIFFEVENT_FUZZ_VERBOSE")) print_edi(edi);
    check_image("edi", out, c, h, w, false);
  }
  diffevent_image_destroy(out);
  out = nullptr;

  params.steps = any_int(in, params.steps);
  params.auto_threshold = in.ConsumeIntegralInRange(0, 5) == 0;
  params.enhancer_kind =
      in.ConsumeIntegralInRange(-1, 3);  // TORCHSCRIPT without a path must be an error
  params.enhancer_path = nullptr;
  params.guided_radius = any_int(in, params.guided_radius);
  params.guidance = in.ConsumeIntegralInRange(-1, 3);
  params.guided_eps = any_double(in, params.guided_eps);
  static const char* kRespacing[] = {nullptr,   "",     "10",  "ddim5",
                                     "ddim0",   "ddim", "5,5", "1000",
                                     "1001",    "x",    "-3",  "99999999999999999999",
                                     "ddim1000"};
  params.respacing = kRespacing[in.ConsumeIntegralInRange<size_t>(0, std::size(kRespacing) - 1)];
  params.ddim = in.ConsumeBool();
  params.variance = in.ConsumeIntegralInRange(-1, 2);
  params.eta = any_double(in, 0.0);
  params.s = any_double(in, params.s);
  params.s_r = any_double(in, params.s_r);
  params.lambda_tv = any_double(in, params.lambda_tv);
  params.lambda_l1 = any_double(in, params.lambda_l1);
  params.min_prior_variance = any_double(in, params.min_prior_variance);
  params.clip = in.ConsumeBool();
  params.tile_size = any_int(in, params.tile_size);
  params.tile_stride = any_int(in, params.tile_stride);
  params.tile_above_pixels = in.ConsumeBool() ? 0 : any_time(in, 64);
  params.seed = in.ConsumeIntegral<uint64_t>();
  params.start = any_double(in, params.start);
  params.threshold_sigma = any_double(in, params.threshold_sigma);
  params.samples = any_int(in, params.samples);
  params.integral = in.ConsumeIntegralInRange(-1, 3);
  params.antithetic = in.ConsumeIntegralInRange(-1, 2);
  params.residual_prior = in.ConsumeIntegralInRange(-1, 2);
  // Any size above the version 1-6 layout's (at most 264 bytes, read as that layout, whose
  // pointer fields this struct does not hold where that layout has them).
  if (in.ConsumeIntegralInRange(0, 15) == 0)
    params.struct_size = std::max<uint32_t>(265, in.ConsumeIntegral<uint32_t>());

  // The analytic priors keep each call cheap; the parameters decide the work.
  diffevent_prior* x_prior = nullptr;
  diffevent_prior* r_prior = nullptr;
  if (diffevent_prior_create_analytic(c, &x_prior) != DIFFEVENT_OK) __builtin_trap();
  if (in.ConsumeBool() && diffevent_prior_create_analytic(c, &r_prior) != DIFFEVENT_OK)
    __builtin_trap();
  diffevent_image* residual = nullptr;
  double threshold = 0;
  s = diffevent_deblur(nullptr, blurry, events, x_prior, r_prior, &params, &out, &residual,
                       &threshold);
  check_error(s);
  if (s == DIFFEVENT_OK) {
    if (std::getenv("DIFFEVENT_FUZZ_VERBOSE")) {
      print_edi(edi);
      std::fprintf(stderr,
                   "deblur: steps %d auto %d enhancer %d radius %d guidance %d eps %g respacing "
                   "'%s' ddim %d variance %d "
                   "eta %g s %g s_r %g tv %g l1 %g minvar %g clip %d tile %d/%d above %lld start "
                   "%g sigma %g samples %d "
                   "integral %d antithetic %d residual %d r_prior %d\n",
                   params.steps, params.auto_threshold, params.enhancer_kind, params.guided_radius,
                   params.guidance, params.guided_eps,
                   params.respacing ? params.respacing : "(null)", params.ddim, params.variance,
                   params.eta, params.s, params.s_r, params.lambda_tv, params.lambda_l1,
                   params.min_prior_variance, params.clip, params.tile_size, params.tile_stride,
                   static_cast<long long>(params.tile_above_pixels), params.start,
                   params.threshold_sigma, params.samples, params.integral, params.antithetic,
                   params.residual_prior, r_prior != nullptr);
    }
    check_image("deblur", out, c, h, w, true);
    check_image("deblur residual", residual, c, h, w, false);
    if (!std::isfinite(threshold) || threshold <= 0) __builtin_trap();
  }
  diffevent_image_destroy(out);
  diffevent_image_destroy(residual);
  diffevent_prior_destroy(x_prior);
  diffevent_prior_destroy(r_prior);
  diffevent_image_destroy(blurry);
  diffevent_events_destroy(events);
  return 0;
}
