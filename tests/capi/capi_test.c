/* The C API test, compiled as C99 with -pedantic -Werror: proves the header is real C and calls
 * every function, on success and on its error paths, checking analytic answers, round trips,
 * error messages and that out-parameters stay untouched on failure.
 * Usage: capi_test SOURCE_DIR WORK_DIR */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffevent/diffevent.h"

static int g_failures = 0;
static int g_checks = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    ++g_checks;                                                                                \
    if (!(cond)) {                                                                             \
      ++g_failures;                                                                            \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              diffevent_last_error());                                                         \
    }                                                                                          \
  } while (0)

#define CHECK_OK(call) CHECK((call) == DIFFEVENT_OK)
/* The call fails with `status` and the last error contains `text`. */
#define CHECK_FAILS(call, status, text)                                                     \
  do {                                                                                      \
    diffevent_status st_ = (call);                                                          \
    CHECK(st_ == (status));                                                                 \
    CHECK(strstr(diffevent_last_error(), (text)) != NULL);                                  \
    if (st_ != (status) || strstr(diffevent_last_error(), (text)) == NULL)                  \
      fprintf(stderr, "  got status %d, message '%s'\n", (int)st_, diffevent_last_error()); \
  } while (0)

/* Compile-time layout guards (C99 has no _Static_assert): a negative array size fails. */
#define LAYOUT(cond, name) typedef char layout_##name[(cond) ? 1 : -1]

/* diffevent_deblur_params as API versions 1 to 6 declared it (its EDI parameters embedded):
 * programs built against those headers pass this layout, which the library still reads. */
struct deblur_params_v6 {
  uint32_t struct_size;
  int32_t steps;
  diffevent_edi_params edi;
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
  int32_t samples, integral, antithetic, residual_prior;
};
LAYOUT(offsetof(diffevent_context_params, struct_size) == 0, ctx0);
LAYOUT(offsetof(diffevent_read_params, format) == 4, read1);
LAYOUT(offsetof(diffevent_write_params, exposure_t0_us) == 16, write1);
LAYOUT(offsetof(diffevent_edi_params, exposure_t0_us) == 8, edi1);
LAYOUT(offsetof(diffevent_edi_params, c_pos) == 40, edi2);
LAYOUT(offsetof(diffevent_edi_params, min_integral) == 72, edi3);
LAYOUT(offsetof(diffevent_deblur_params, edi) == 8, deblur1);
LAYOUT(offsetof(diffevent_deblur_params, s) == 72, deblur2);
LAYOUT(offsetof(diffevent_deblur_params, seed) == 136, deblur3);
LAYOUT(offsetof(diffevent_events_info, count) == 24, info1);
LAYOUT(offsetof(diffevent_simulator_params, exposure_us) == 16, sim1);
LAYOUT(offsetof(diffevent_simulator_params, seed) == 120, sim2);
#if UINTPTR_MAX == 0xffffffffffffffffu
LAYOUT(sizeof(diffevent_context_params) == 32, ctx_size);
LAYOUT(sizeof(diffevent_read_params) == 56, read_size);
LAYOUT(offsetof(diffevent_read_params, max_events) == 48, read2);
LAYOUT(sizeof(diffevent_image_read_params) == 24, image_read_size);
LAYOUT(sizeof(diffevent_ingest_params) == 12, ingest_size);
LAYOUT(sizeof(diffevent_write_params) == 48, write_size);
LAYOUT(sizeof(diffevent_events_info) == 80, info_size);
LAYOUT(sizeof(diffevent_edi_params) == 80, edi_size);
LAYOUT(sizeof(diffevent_threshold_params) == 40, thr_size);
LAYOUT(sizeof(diffevent_threshold_estimate) == 40, est_size);
LAYOUT(sizeof(diffevent_simulator_params) == 128, sim_size);
LAYOUT(sizeof(diffevent_enhancer_params) == 32, enh_size);
LAYOUT(sizeof(diffevent_prior_params) == 24, prior_size);
LAYOUT(sizeof(diffevent_prior_metadata) == 40, meta_size);
LAYOUT(offsetof(diffevent_deblur_params, start) == 160, deblur4);
LAYOUT(offsetof(diffevent_deblur_params, samples) == 176, deblur5);
LAYOUT(offsetof(diffevent_deblur_params, antithetic) == 180, deblur6);
LAYOUT(sizeof(diffevent_deblur_params) == 296, deblur_size);
LAYOUT(sizeof(struct deblur_params_v6) == 264, deblur_v6_size);
#endif

static char g_src[1024];
static char g_work[1024];

static const char* src_path(const char* rel) {
  static char buf[2048];
  snprintf(buf, sizeof buf, "%s/%s", g_src, rel);
  return buf;
}

static const char* work_path(const char* rel) {
  static char buf[2048];
  snprintf(buf, sizeof buf, "%s/%s", g_work, rel);
  return buf;
}

static int file_exists(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

/* A sentinel address: out-parameters set to it must still hold it after a failure. */
static int g_sentinel_storage;
#define SENTINEL(type) ((type*)(void*)&g_sentinel_storage)

/* ------------------------------------------------------------------------------------------ */

static void test_versions(void) {
  CHECK(diffevent_api_version() == DIFFEVENT_API_VERSION);
  CHECK(diffevent_version() >= 100);
  CHECK(strchr(diffevent_version_string(), '.') != NULL);
  CHECK(diffevent_has_torch() == 0 || diffevent_has_torch() == 1);
  CHECK(strcmp(diffevent_status_name(DIFFEVENT_OK), "ok") == 0);
  CHECK(strcmp(diffevent_status_name(DIFFEVENT_E_IO), "i/o error") == 0);
  CHECK(strcmp(diffevent_status_name(DIFFEVENT_E_CANCELLED), "cancelled") == 0);
  CHECK(strcmp(diffevent_status_name(DIFFEVENT_E_BUFFER_TOO_SMALL), "buffer too small") == 0);
  CHECK(strcmp(diffevent_status_name(-5), "unknown") == 0);
  CHECK(strcmp(diffevent_format_name(DIFFEVENT_FORMAT_HDF5), "hdf5") == 0);
  CHECK(strcmp(diffevent_format_name(99), "unknown") == 0);
}

static int g_log_lines = 0;
static int g_log_level_seen = -1;
static void count_log(void* user_data, int32_t level, const char* message) {
  (void)message;
  ++*(int*)user_data;
  g_log_level_seen = level;
}

static void test_context(void) {
  diffevent_context_params p;
  diffevent_context* ctx = SENTINEL(diffevent_context);
  int32_t cancelled = -1;
  diffevent_context_params_init(&p);
  CHECK(p.struct_size == sizeof p && p.num_threads == 1);
  diffevent_context_params_init(NULL); /* no-op */

  p.num_threads = 0;
  CHECK_FAILS(diffevent_context_create(&p, &ctx), DIFFEVENT_E_INVALID_ARGUMENT, "num_threads");
  CHECK(ctx == SENTINEL(diffevent_context));
  p.num_threads = 2;
  p.struct_size = 0;
  CHECK_FAILS(diffevent_context_create(&p, &ctx), DIFFEVENT_E_INVALID_ARGUMENT, "struct_size is 0");
  p.struct_size = sizeof p + 8; /* a struct from a newer header */
  CHECK_FAILS(diffevent_context_create(&p, &ctx), DIFFEVENT_E_INVALID_ARGUMENT,
              "this library knows");
  CHECK(ctx == SENTINEL(diffevent_context));
  /* A size inside a field (here half of the log callback pointer) would mix the caller's bytes
   * with the defaults' (found by fuzz_deblur_params on diffevent_edi_params.c_pos_map). */
  p.struct_size = (uint32_t)offsetof(diffevent_context_params, log) + 4;
  CHECK_FAILS(diffevent_context_create(&p, &ctx), DIFFEVENT_E_INVALID_ARGUMENT,
              "not a size this struct has had");
  CHECK(ctx == SENTINEL(diffevent_context));
  CHECK_FAILS(diffevent_context_create(NULL, NULL), DIFFEVENT_E_INVALID_ARGUMENT, "'out' is NULL");

  p.struct_size = sizeof p;
  p.log = count_log;
  p.log_user_data = &g_log_lines;
  CHECK_OK(diffevent_context_create(&p, &ctx));
  CHECK(ctx != NULL && ctx != SENTINEL(diffevent_context));
  CHECK_OK(diffevent_context_is_cancelled(ctx, &cancelled));
  CHECK(cancelled == 0);
  CHECK_OK(diffevent_context_cancel(ctx));
  CHECK_OK(diffevent_context_is_cancelled(ctx, &cancelled));
  CHECK(cancelled == 1);
  {
    diffevent_events* ev = SENTINEL(diffevent_events);
    CHECK_FAILS(diffevent_events_read(ctx, src_path("data/sample/events.h5"), NULL, &ev),
                DIFFEVENT_E_CANCELLED, "cancelled");
    CHECK(ev == SENTINEL(diffevent_events));
    CHECK_OK(diffevent_context_reset_cancel(ctx));
    g_log_lines = 0;
    CHECK_OK(diffevent_events_read(ctx, src_path("data/sample/events.h5"), NULL, &ev));
    CHECK(g_log_lines == 1 && g_log_level_seen == DIFFEVENT_LOG_INFO);
    {
      /* The sample states its threshold (version 10); a version-9 struct still reads. */
      diffevent_events_info info;
      diffevent_events_info_init(&info);
      CHECK_OK(diffevent_events_info_get(ev, &info));
      CHECK(info.threshold_pos == 0.2 && info.threshold_neg == 0.2);
      diffevent_events_info_init(&info);
      info.struct_size = 64;
      info.threshold_pos = -1;
      CHECK_OK(diffevent_events_info_get(ev, &info));
      CHECK(info.threshold_pos == -1 && info.count > 0 && info.struct_size == 64);
    }
    diffevent_events_destroy(ev);
  }
  CHECK_FAILS(diffevent_context_cancel(NULL), DIFFEVENT_E_INVALID_ARGUMENT, "NULL");
  CHECK_FAILS(diffevent_context_reset_cancel(NULL), DIFFEVENT_E_INVALID_ARGUMENT, "NULL");
  CHECK_FAILS(diffevent_context_is_cancelled(ctx, NULL), DIFFEVENT_E_INVALID_ARGUMENT, "NULL");
  diffevent_context_destroy(ctx);
  diffevent_context_destroy(NULL);
}

static void test_images(void) {
  float data[2 * 3 * 4];
  float back[2 * 3 * 4];
  int i;
  diffevent_image* img = NULL;
  diffevent_image* grey = SENTINEL(diffevent_image);
  diffevent_image* read_back = NULL;
  int32_t c = -1, h = -1, w = -1;
  double psnr = 0, ssim = 0;
  for (i = 0; i < 24; ++i) data[i] = (float)i / 23.0f;

  CHECK_FAILS(diffevent_image_create(0, 3, 4, data, &img), DIFFEVENT_E_INVALID_ARGUMENT,
              "shape [0, 3, 4]");
  CHECK(img == NULL);
  CHECK_OK(diffevent_image_create(2, 3, 4, data, &img));
  CHECK_OK(diffevent_image_shape(img, &c, &h, &w));
  CHECK(c == 2 && h == 3 && w == 4);
  CHECK_OK(diffevent_image_shape(img, NULL, NULL, NULL));
  CHECK_FAILS(diffevent_image_copy_data(img, back, 23), DIFFEVENT_E_BUFFER_TOO_SMALL,
              "holds 23 floats");
  CHECK_OK(diffevent_image_copy_data(img, back, 24));
  CHECK(memcmp(data, back, sizeof data) == 0);
  /* Two channels have no luminance. */
  CHECK_FAILS(diffevent_image_to_grey(img, &grey), DIFFEVENT_E_INVALID_ARGUMENT, "2 channels");
  CHECK(grey == SENTINEL(diffevent_image));
  /* sRGB round trip to float precision. */
  CHECK_OK(diffevent_image_srgb_to_linear(img));
  CHECK_OK(diffevent_image_copy_data(img, back, 24));
  CHECK(fabs(back[23] - 1.0f) < 1e-6 &&
        fabs(back[12] - 0.2347f) < 1e-3); /* ((12/23 + 0.055) / 1.055)^2.4 */
  CHECK_OK(diffevent_image_linear_to_srgb(img));
  CHECK_OK(diffevent_image_copy_data(img, back, 24));
  for (i = 0; i < 24; ++i) CHECK(fabs(back[i] - data[i]) < 1e-5);
  CHECK_FAILS(diffevent_image_srgb_to_linear(NULL), DIFFEVENT_E_INVALID_ARGUMENT, "NULL");
  CHECK_FAILS(diffevent_image_linear_to_srgb(NULL), DIFFEVENT_E_INVALID_ARGUMENT, "NULL");
  diffevent_image_destroy(img);

  /* Metrics: identical images give infinite PSNR and SSIM 1; a 0.1 offset gives 20 dB. */
  CHECK_OK(diffevent_image_create(1, 16, 16, NULL, &img));
  {
    float plane[256];
    diffevent_image* off = NULL;
    for (i = 0; i < 256; ++i) plane[i] = 0.1f;
    CHECK_OK(diffevent_image_create(1, 16, 16, plane, &off));
    CHECK_OK(diffevent_psnr(img, img, 1.0, &psnr));
    CHECK(isinf(psnr));
    CHECK_OK(diffevent_psnr(img, off, 1.0, &psnr));
    CHECK(fabs(psnr - 20.0) < 1e-4);
    CHECK_OK(diffevent_ssim(off, off, 1.0, &ssim));
    CHECK(fabs(ssim - 1.0) < 1e-9);
    psnr = -1;
    CHECK_FAILS(diffevent_psnr(img, NULL, 1.0, &psnr), DIFFEVENT_E_INVALID_ARGUMENT,
                "'test' is NULL");
    CHECK(psnr == -1);
    CHECK_FAILS(diffevent_ssim(img, off, 1.0, NULL), DIFFEVENT_E_INVALID_ARGUMENT, "NULL");
    /* to_grey of a grey image is a copy. */
    CHECK_OK(diffevent_image_to_grey(off, &grey));
    CHECK_OK(diffevent_psnr(off, grey, 1.0, &psnr));
    CHECK(isinf(psnr));
    diffevent_image_destroy(grey);
    grey = NULL;
    diffevent_image_destroy(off);
  }
  /* PNG round trip (16-bit keeps 1/65535 steps). */
  CHECK_OK(diffevent_image_write(img, work_path("zeros.png"), 16));
  CHECK_OK(diffevent_image_read(work_path("zeros.png"), &read_back));
  CHECK_OK(diffevent_psnr(img, read_back, 1.0, &psnr));
  CHECK(isinf(psnr));
  diffevent_image_destroy(read_back);
  read_back = SENTINEL(diffevent_image);
  CHECK_FAILS(diffevent_image_read(work_path("no_such.png"), &read_back), DIFFEVENT_E_IO,
              "no_such.png");
  CHECK(read_back == SENTINEL(diffevent_image));
  {
    /* A host's limits: a side or a pixel count one beyond them is refused by name. */
    diffevent_image_read_params lim;
    int32_t c, h, w;
    diffevent_image_read_params_init(&lim);
    CHECK(lim.max_pixels == ((int64_t)1 << 28) && lim.max_side == ((int64_t)1 << 20));
    CHECK_OK(diffevent_image_read_with_params(work_path("zeros.png"), NULL, &read_back));
    CHECK_OK(diffevent_image_shape(read_back, &c, &h, &w));
    diffevent_image_destroy(read_back);
    read_back = SENTINEL(diffevent_image);
    lim.max_side = w - 1;
    CHECK_FAILS(diffevent_image_read_with_params(work_path("zeros.png"), &lim, &read_back),
                DIFFEVENT_E_FORMAT, "zeros.png");
    CHECK(read_back == SENTINEL(diffevent_image));
    diffevent_image_read_params_init(&lim);
    lim.max_pixels = (int64_t)h * w - 1;
    CHECK_FAILS(diffevent_image_read_with_params(work_path("zeros.png"), &lim, &read_back),
                DIFFEVENT_E_FORMAT, "zeros.png");
    lim.max_pixels = (int64_t)h * w;
    CHECK_OK(diffevent_image_read_with_params(work_path("zeros.png"), &lim, &read_back));
    diffevent_image_destroy(read_back);
    read_back = SENTINEL(diffevent_image);
    lim.max_pixels = -1;
    CHECK_FAILS(diffevent_image_read_with_params(work_path("zeros.png"), &lim, &read_back),
                DIFFEVENT_E_INVALID_ARGUMENT, "max_pixels and max_side must be >= 0");
    CHECK(read_back == SENTINEL(diffevent_image));
  }
  CHECK_FAILS(diffevent_image_write(img, work_path("no_dir/x.png"), 8), DIFFEVENT_E_IO, "no_dir");
  CHECK(!file_exists(work_path("no_dir/x.png")));
  CHECK_FAILS(diffevent_image_write(img, work_path("bad_depth.png"), 12),
              DIFFEVENT_E_INVALID_ARGUMENT, "12");
  CHECK(!file_exists(work_path("bad_depth.png")));
  CHECK_FAILS(diffevent_image_write(NULL, work_path("x.png"), 8), DIFFEVENT_E_INVALID_ARGUMENT,
              "'image' is NULL");
  diffevent_image_destroy(img);
  diffevent_image_destroy(NULL);
}

/* One ON event at t = 750 us in [0, 1000) with tau = 500: E = (750 + 250 e^c) / 1000 there. */
static void test_events_and_integral(void) {
  const int64_t t[3] = {100, 750, 900};
  const uint16_t x[3] = {0, 1, 3};
  const uint16_t y[3] = {0, 2, 1};
  const int8_t p[3] = {1, 1, -1};
  int64_t t_back[3];
  uint16_t x_back[3], y_back[3];
  int8_t p_back[3];
  diffevent_events* ev = NULL;
  diffevent_events* bad = SENTINEL(diffevent_events);
  diffevent_events_info info;
  diffevent_ingest_params ip;
  diffevent_edi_params ep;
  diffevent_image* E = NULL;
  float e[4 * 3];
  const double c = 0.2;
  uint16_t x_out[3] = {0, 4, 3}; /* x = 4 is outside a 4-wide sensor */
  int64_t t_unsorted[3] = {100, 50, 900};

  CHECK_OK(diffevent_events_from_arrays(4, 3, t, x, y, p, 3, NULL, &ev));
  diffevent_events_info_init(&info);
  CHECK_OK(diffevent_events_info_get(ev, &info));
  CHECK(info.count == 3 && info.count_on == 2 && info.width == 4 && info.height == 3);
  CHECK(info.t_begin_us == 100 && info.t_end_us == 900 && info.exposure_count == 0 &&
        info.has_image == 0);
  CHECK(info.format == DIFFEVENT_FORMAT_AUTO);
  /* An older, smaller info struct is filled only up to its size. */
  {
    diffevent_events_info small;
    memset(&small, 0x7f, sizeof small);
    small.struct_size = (uint32_t)offsetof(diffevent_events_info, count);
    CHECK_OK(diffevent_events_info_get(ev, &small));
    CHECK(small.width == 4 && small.struct_size == offsetof(diffevent_events_info, count));
    CHECK(small.count == 0x7f7f7f7f7f7f7f7full); /* untouched: beyond its size */
    small.struct_size = sizeof small + 4;
    CHECK_FAILS(diffevent_events_info_get(ev, &small), DIFFEVENT_E_INVALID_ARGUMENT, "struct_size");
  }
  CHECK_FAILS(diffevent_events_copy_arrays(ev, t_back, x_back, y_back, p_back, 2),
              DIFFEVENT_E_BUFFER_TOO_SMALL, "hold 2 events");
  CHECK_OK(diffevent_events_copy_arrays(ev, t_back, x_back, y_back, p_back, 3));
  CHECK(memcmp(t, t_back, sizeof t) == 0 && memcmp(x, x_back, sizeof x) == 0 &&
        memcmp(y, y_back, sizeof y) == 0 && memcmp(p, p_back, sizeof p) == 0);
  CHECK_OK(diffevent_events_copy_arrays(ev, NULL, NULL, NULL, p_back, 3));

  /* Bad arrays: each error names the problem, the out-parameter keeps its value. */
  CHECK_FAILS(diffevent_events_from_arrays(4, 3, t, x_out, y, p, 3, NULL, &bad),
              DIFFEVENT_E_OUT_OF_RANGE, "index 1");
  CHECK_FAILS(diffevent_events_from_arrays(4, 3, t_unsorted, x, y, p, 3, NULL, &bad),
              DIFFEVENT_E_INVALID_ARGUMENT, "index 1");
  CHECK_FAILS(diffevent_events_from_arrays(0, 3, t, x, y, p, 3, NULL, &bad),
              DIFFEVENT_E_INVALID_ARGUMENT, "0x3");
  CHECK_FAILS(diffevent_events_from_arrays(4, 3, NULL, x, y, p, 3, NULL, &bad),
              DIFFEVENT_E_INVALID_ARGUMENT, "'t_us' is NULL");
  diffevent_ingest_params_init(&ip);
  ip.polarity_encoding = DIFFEVENT_POLARITY_ZERO_ONE; /* -1 is not allowed then */
  CHECK_FAILS(diffevent_events_from_arrays(4, 3, t, x, y, p, 3, &ip, &bad),
              DIFFEVENT_E_INVALID_ARGUMENT, "polarit");
  ip.polarity_encoding = 7;
  CHECK_FAILS(diffevent_events_from_arrays(4, 3, t, x, y, p, 3, &ip, &bad),
              DIFFEVENT_E_INVALID_ARGUMENT, "polarity_encoding 7");
  CHECK(bad == SENTINEL(diffevent_events));
  /* Sorting on request. */
  diffevent_ingest_params_init(&ip);
  ip.sort_if_unsorted = 1;
  CHECK_OK(diffevent_events_from_arrays(4, 3, t_unsorted, x, y, p, 3, &ip, &bad));
  CHECK_OK(diffevent_events_copy_arrays(bad, t_back, NULL, NULL, NULL, 3));
  CHECK(t_back[0] == 50 && t_back[1] == 100 && t_back[2] == 900);
  diffevent_events_destroy(bad);
  /* An empty stream is valid. */
  CHECK_OK(diffevent_events_from_arrays(4, 3, NULL, NULL, NULL, NULL, 0, NULL, &bad));
  diffevent_events_info_init(&info);
  CHECK_OK(diffevent_events_info_get(bad, &info));
  CHECK(info.count == 0 && info.t_begin_us == 0);
  diffevent_events_destroy(bad);

  /* Slicing. */
  CHECK_OK(diffevent_events_slice_time(ev, 100, 900, &bad));
  diffevent_events_info_init(&info);
  CHECK_OK(diffevent_events_info_get(bad, &info));
  CHECK(info.count == 2 && info.t_end_us == 750);
  diffevent_events_destroy(bad);
  bad = SENTINEL(diffevent_events);
  CHECK_FAILS(diffevent_events_slice_time(ev, 900, 100, &bad), DIFFEVENT_E_INVALID_ARGUMENT,
              "before");
  CHECK(bad == SENTINEL(diffevent_events));

  /* The double integral against its closed form. */
  diffevent_edi_params_init(&ep);
  CHECK_FAILS(diffevent_double_integral(NULL, ev, &ep, &E), DIFFEVENT_E_INVALID_ARGUMENT,
              "state no exposure");
  CHECK(E == NULL);
  ep.has_exposure = 1;
  ep.exposure_t0_us = 0;
  ep.exposure_t1_us = 1000;
  ep.c_pos = ep.c_neg = c;
  CHECK_OK(diffevent_double_integral(NULL, ev, &ep, &E));
  CHECK_OK(diffevent_image_copy_data(E, e, 12));
  CHECK(fabs(e[2 * 4 + 1] - (750.0 + 250.0 * exp(c)) / 1000.0) < 1e-5);
  /* Pixel (0,0): ON at 100 before tau = 500: L = -c on [0,100), 0 after. */
  CHECK(fabs(e[0] - (100.0 * exp(-c) + 900.0) / 1000.0) < 1e-5);
  CHECK(fabs(e[1 * 4 + 0] - 1.0) < 1e-6); /* no events there */
  diffevent_image_destroy(E);
  E = NULL;
  ep.exposure_t1_us = 0;
  CHECK_FAILS(diffevent_double_integral(NULL, ev, &ep, &E), DIFFEVENT_E_INVALID_ARGUMENT, "empty");
  ep.exposure_t1_us = 1000;
  ep.c_pos = NAN;
  CHECK_FAILS(diffevent_double_integral(NULL, ev, &ep, &E), DIFFEVENT_E_INVALID_ARGUMENT,
              "c_pos must be finite");
  ep.c_pos = c;
  ep.min_integral = 0;
  CHECK_FAILS(diffevent_double_integral(NULL, ev, &ep, &E), DIFFEVENT_E_INVALID_ARGUMENT,
              "min_integral");
  ep.min_integral = 1e-3;
  ep.has_tau = 2;
  CHECK_FAILS(diffevent_double_integral(NULL, ev, &ep, &E), DIFFEVENT_E_INVALID_ARGUMENT,
              "has_tau must be 0 or 1");
  CHECK(E == NULL);
  /* tau at the end: the ON event at 750 is before tau, so L = -c on [0,750). */
  ep.has_tau = 1;
  ep.tau_us = 1000;
  CHECK_OK(diffevent_double_integral(NULL, ev, &ep, &E));
  CHECK_OK(diffevent_image_copy_data(E, e, 12));
  CHECK(fabs(e[2 * 4 + 1] - (750.0 * exp(-c) + 250.0) / 1000.0) < 1e-5);
  diffevent_image_destroy(E);
  /* Per-pixel threshold maps are read per pixel. */
  {
    float map[12];
    int k;
    for (k = 0; k < 12; ++k) map[k] = 0.2f;
    map[2 * 4 + 1] = 0.5f;
    ep.has_tau = 0;
    ep.c_pos_map = map;
    ep.c_neg_map = map;
    CHECK_OK(diffevent_double_integral(NULL, ev, &ep, &E));
    CHECK_OK(diffevent_image_copy_data(E, e, 12));
    CHECK(fabs(e[2 * 4 + 1] - (750.0 + 250.0 * exp(0.5)) / 1000.0) < 1e-5);
    diffevent_image_destroy(E);
    ep.c_pos_map = ep.c_neg_map = NULL;
  }

  /* EDI inverts blurry = E * sharp exactly: a constant 0.5 scene comes back. */
  {
    diffevent_image* blurry = NULL;
    diffevent_image* sharp = NULL;
    diffevent_image* frames[3] = {NULL, NULL, NULL};
    int64_t times[3] = {0, 0, 0};
    float b[12], s[12];
    int k;
    CHECK_OK(diffevent_double_integral(NULL, ev, &ep, &E));
    CHECK_OK(diffevent_image_copy_data(E, e, 12));
    for (k = 0; k < 12; ++k) b[k] = 0.5f * e[k];
    CHECK_OK(diffevent_image_create(1, 3, 4, b, &blurry));
    CHECK_OK(diffevent_edi_deblur(NULL, blurry, ev, &ep, &sharp));
    CHECK_OK(diffevent_image_copy_data(sharp, s, 12));
    for (k = 0; k < 12; ++k) CHECK(fabs(s[k] - 0.5) < 1e-5);
    diffevent_image_destroy(sharp);
    /* Frames at t_k = (k + 1/2) T / 3. */
    CHECK_OK(diffevent_edi_frames(NULL, blurry, ev, &ep, 3, frames, times));
    CHECK(times[0] == 166 || times[0] == 167);
    CHECK(times[1] == 500 && (times[2] == 833 || times[2] == 834));
    CHECK(frames[0] != NULL && frames[2] != NULL);
    /* At t_2 > 750 the pixel that saw the ON event is brighter by e^c. */
    CHECK_OK(diffevent_image_copy_data(frames[2], s, 12));
    CHECK(fabs(s[2 * 4 + 1] - 0.5 * exp(c)) < 1e-4);
    for (k = 0; k < 3; ++k) diffevent_image_destroy(frames[k]);
    frames[0] = SENTINEL(diffevent_image);
    CHECK_FAILS(diffevent_edi_frames(NULL, blurry, ev, &ep, 0, frames, times),
                DIFFEVENT_E_INVALID_ARGUMENT, "count");
    CHECK(frames[0] == SENTINEL(diffevent_image));
    /* A frame of the wrong size. */
    diffevent_image_destroy(blurry);
    CHECK_OK(diffevent_image_create(1, 4, 4, NULL, &blurry));
    sharp = SENTINEL(diffevent_image);
    CHECK_FAILS(diffevent_edi_deblur(NULL, blurry, ev, &ep, &sharp), DIFFEVENT_E_INVALID_ARGUMENT,
                "4x4");
    CHECK(sharp == SENTINEL(diffevent_image));
    diffevent_image_destroy(blurry);
    diffevent_image_destroy(E);
  }

  /* Write and read back through every writable format. */
  {
    const char* files[] = {"rt.txt", "rt.npz", "rt.npy", "rt.raw", "rt.dat", "rt.aedat4", "rt.h5"};
    size_t k;
    diffevent_write_params wp;
    diffevent_read_params rp;
    diffevent_write_params_init(&wp);
    diffevent_read_params_init(&rp);
    rp.width = 4;
    rp.height = 3;
    for (k = 0; k < sizeof files / sizeof files[0]; ++k) {
      diffevent_events* back = NULL;
      diffevent_status st = diffevent_events_write(NULL, ev, work_path(files[k]), &wp);
      if (st == DIFFEVENT_E_UNSUPPORTED) continue; /* HDF5 or compression not compiled in */
      CHECK(st == DIFFEVENT_OK);
      CHECK_OK(diffevent_events_read(NULL, work_path(files[k]), &rp, &back));
      CHECK_OK(diffevent_events_copy_arrays(back, t_back, x_back, y_back, p_back, 3));
      CHECK(memcmp(x, x_back, sizeof x) == 0 && memcmp(y, y_back, sizeof y) == 0 &&
            memcmp(p, p_back, sizeof p) == 0);
      CHECK(t_back[0] == 100 && t_back[2] == 900);
      diffevent_events_destroy(back);
    }
    wp.format = 42;
    CHECK_FAILS(diffevent_events_write(NULL, ev, work_path("bad.txt"), &wp),
                DIFFEVENT_E_INVALID_ARGUMENT, "format 42");
    CHECK(!file_exists(work_path("bad.txt")));
    diffevent_write_params_init(&wp);
    CHECK_FAILS(diffevent_events_write(NULL, ev, work_path("no_dir/a.txt"), &wp), DIFFEVENT_E_IO,
                "no_dir");
    CHECK_FAILS(diffevent_events_write(NULL, ev, work_path("a.unknown_ext"), &wp),
                DIFFEVENT_E_INVALID_ARGUMENT, "unknown_ext");
  }
  diffevent_events_destroy(ev);
}

static int64_t g_progress_calls = 0;
static int32_t count_progress(void* user_data, int64_t done, int64_t total) {
  (void)done;
  (void)total;
  ++g_progress_calls;
  return user_data != NULL; /* non-NULL user data: cancel at once */
}

static void test_reading_files(void) {
  diffevent_events* ev = SENTINEL(diffevent_events);
  diffevent_read_params rp;
  diffevent_events_info info;
  diffevent_image* img = NULL;
  int64_t t0 = -1, t1 = -1;
  FILE* f;

  CHECK_FAILS(diffevent_events_read(NULL, work_path("missing.h5"), NULL, &ev), DIFFEVENT_E_IO,
              "missing.h5");
  CHECK(ev == SENTINEL(diffevent_events));
  f = fopen(work_path("garbage.raw"), "wb");
  fputs("% evt 2.0\n% format EVT2\n% end\n\x01\x02\x03", f); /* truncated word */
  fclose(f);
  CHECK(diffevent_events_read(NULL, work_path("garbage.raw"), NULL, &ev) == DIFFEVENT_E_FORMAT);
  CHECK(strstr(diffevent_last_error(), "garbage.raw") != NULL);
  CHECK(ev == SENTINEL(diffevent_events));
  CHECK_FAILS(diffevent_events_read(NULL, NULL, NULL, &ev), DIFFEVENT_E_INVALID_ARGUMENT,
              "'path' is NULL");

  diffevent_read_params_init(&rp);
  rp.format = -3;
  CHECK_FAILS(diffevent_events_read(NULL, src_path("data/sample/events.h5"), &rp, &ev),
              DIFFEVENT_E_INVALID_ARGUMENT, "format -3");
  /* An older, smaller params struct (no progress fields) gets defaults for the rest. */
  diffevent_read_params_init(&rp);
  rp.struct_size = (uint32_t)offsetof(diffevent_read_params, progress);
  rp.progress = count_progress; /* beyond struct_size: must be ignored */
  g_progress_calls = 0;
  if (diffevent_events_read(NULL, src_path("data/sample/events.h5"), &rp, &ev) ==
      DIFFEVENT_E_UNSUPPORTED) {
    fprintf(stderr, "capi_test: HDF5 not compiled in; skipping the sample file checks\n");
    return;
  }
  CHECK(g_progress_calls == 0);
  diffevent_events_info_init(&info);
  CHECK_OK(diffevent_events_info_get(ev, &info));
  CHECK(info.count == 83700 && info.count_on == 35720 && info.width == 128 && info.height == 96);
  CHECK(info.format == DIFFEVENT_FORMAT_HDF5 && info.exposure_count == 1 && info.has_image == 1);
  CHECK_OK(diffevent_events_exposure(ev, 0, &t0, &t1));
  CHECK(t0 == 0 && t1 == 20000);
  CHECK_FAILS(diffevent_events_exposure(ev, 1, &t0, &t1), DIFFEVENT_E_OUT_OF_RANGE, "index 1");
  CHECK(t0 == 0 && t1 == 20000);
  CHECK_OK(diffevent_events_image(ev, &img));
  {
    int32_t c, h, w;
    CHECK_OK(diffevent_image_shape(img, &c, &h, &w));
    CHECK(c == 1 && h == 96 && w == 128);
  }
  diffevent_image_destroy(img);
  diffevent_events_destroy(ev);

  /* A host's event limit: refused by name before the events are stored; at the limit it reads. */
  diffevent_read_params_init(&rp);
  CHECK(rp.max_events == 0);
  rp.max_events = 83699;
  ev = SENTINEL(diffevent_events);
  CHECK_FAILS(diffevent_events_read(NULL, src_path("data/sample/events.h5"), &rp, &ev),
              DIFFEVENT_E_OUT_OF_RANGE, "more than 83699 events");
  CHECK(ev == SENTINEL(diffevent_events));
  rp.max_events = 83700;
  CHECK_OK(diffevent_events_read(NULL, src_path("data/sample/events.h5"), &rp, &ev));
  diffevent_events_destroy(ev);

  /* Progress is reported per chunk, and returning nonzero cancels. */
  diffevent_read_params_init(&rp);
  rp.progress = count_progress;
  g_progress_calls = 0;
  CHECK_OK(diffevent_events_read(NULL, src_path("data/sample/events.h5"), &rp, &ev));
  CHECK(g_progress_calls >= 1);
  diffevent_events_destroy(ev);
  ev = SENTINEL(diffevent_events);
  rp.progress_user_data = &rp;
  CHECK_FAILS(diffevent_events_read(NULL, src_path("data/sample/events.h5"), &rp, &ev),
              DIFFEVENT_E_CANCELLED, "cancel");
  CHECK(ev == SENTINEL(diffevent_events));
  {
    diffevent_events* none = NULL;
    CHECK_OK(diffevent_events_from_arrays(2, 2, NULL, NULL, NULL, NULL, 0, NULL, &none));
    img = SENTINEL(diffevent_image);
    CHECK_FAILS(diffevent_events_image(none, &img), DIFFEVENT_E_INVALID_ARGUMENT, "no frame");
    CHECK(img == SENTINEL(diffevent_image));
    diffevent_events_destroy(none);
  }
}

static void test_simulator_and_threshold(void) {
  float src[48 * 64];
  int yy, xx;
  diffevent_image* source = NULL;
  diffevent_image* blurry = NULL;
  diffevent_image* sharp = NULL;
  diffevent_events* ev = NULL;
  diffevent_simulator_params sp;
  diffevent_events_info info;
  diffevent_threshold_estimate est;
  diffevent_threshold_params tp;
  diffevent_edi_params ep;
  double psnr_blur = 0, psnr_edi = 0;
  diffevent_image* edi = NULL;

  for (yy = 0; yy < 48; ++yy)
    for (xx = 0; xx < 64; ++xx)
      src[yy * 64 + xx] = 0.1f + 0.8f * (float)(((xx / 8) + (yy / 8)) % 2); /* checkers */
  CHECK_OK(diffevent_image_create(1, 48, 64, src, &source));
  diffevent_simulator_params_init(&sp);
  sp.width = 56;
  sp.height = 40;
  sp.dx_px = 5;
  sp.dy_px = 2;
  sp.struct_size = 3; /* smaller than the struct_size field itself */
  CHECK_FAILS(diffevent_simulate(NULL, source, &sp, &ev, &blurry, &sharp),
              DIFFEVENT_E_INVALID_ARGUMENT, "struct_size is 3");
  sp.struct_size = sizeof sp;
  sp.log_eps = INFINITY;
  CHECK_FAILS(diffevent_simulate(NULL, source, &sp, &ev, &blurry, &sharp),
              DIFFEVENT_E_INVALID_ARGUMENT, "finite");
  CHECK(ev == NULL && blurry == NULL && sharp == NULL);
  sp.log_eps = 1e-3;
  CHECK_OK(diffevent_simulate(NULL, source, &sp, &ev, &blurry, &sharp));
  diffevent_events_info_init(&info);
  CHECK_OK(diffevent_events_info_get(ev, &info));
  CHECK(info.count > 1000 && info.width == 56 && info.height == 40 && info.exposure_count == 1);

  /* EDI with the true threshold recovers the sharp frame far better than the blur. */
  diffevent_edi_params_init(&ep);
  CHECK_OK(diffevent_edi_deblur(NULL, blurry, ev, &ep, &edi));
  CHECK_OK(diffevent_psnr(sharp, blurry, 1.0, &psnr_blur));
  CHECK_OK(diffevent_psnr(sharp, edi, 1.0, &psnr_edi));
  CHECK(psnr_edi > psnr_blur + 5.0);
  diffevent_image_destroy(edi);

  diffevent_threshold_estimate_init(&est);
  diffevent_threshold_params_init(&tp);
  CHECK_OK(diffevent_estimate_threshold(NULL, blurry, ev, &ep, &tp, &est));
  CHECK(est.evaluations > 3 && est.c >= tp.c_min && est.c <= tp.c_max);
  CHECK(fabs(est.c - 0.2) < 0.08);
  CHECK(est.std_error > 0 && est.std_error < 0.1);
  CHECK(info.threshold_pos == 0 && info.threshold_neg == 0); /* simulated: no file states one */
  est.struct_size = 0;
  CHECK_FAILS(diffevent_estimate_threshold(NULL, blurry, ev, &ep, &tp, &est),
              DIFFEVENT_E_INVALID_ARGUMENT, "diffevent_threshold_estimate.struct_size");
  diffevent_events_destroy(ev);
  diffevent_image_destroy(blurry);
  diffevent_image_destroy(sharp);
  ev = NULL;
  blurry = NULL;
  CHECK_OK(diffevent_simulate(NULL, source, &sp, &ev, &blurry, NULL)); /* out_sharp is optional */
  diffevent_events_destroy(ev);
  diffevent_image_destroy(blurry);
  diffevent_image_destroy(source);
}

/* The sensor's threshold: a simulated threshold of 0.3 with a per-pixel mismatch of 0.06 and
 * noise events, read from the blur the events explain; a frame without motion names why it
 * has none, and a bad option is refused by name. */
static void test_sensor_threshold(void) {
  static float src[110 * 140];
  int yy, xx;
  diffevent_image* source = NULL;
  diffevent_image* blurry = NULL;
  diffevent_events* ev = NULL;
  diffevent_simulator_params sp;
  diffevent_edi_params ep;
  diffevent_sensor_threshold_params op;
  diffevent_sensor_threshold_estimate est;

  for (yy = 0; yy < 110; ++yy)
    for (xx = 0; xx < 140; ++xx)
      src[yy * 140 + xx] =
          (float)(0.4 + 0.2 * sin(xx * 0.23) * cos(yy * 0.19) + 0.1 * sin((xx + 2 * yy) * 0.07));
  CHECK_OK(diffevent_image_create(1, 110, 140, src, &source));
  diffevent_simulator_params_init(&sp);
  sp.width = 120;
  sp.height = 90;
  sp.c_pos = sp.c_neg = 0.3;
  sp.threshold_sigma = 0.06;
  sp.shot_noise_hz = 10;
  sp.dx_px = 11;
  sp.dy_px = -6;
  sp.seed = 7;
  CHECK_OK(diffevent_simulate(NULL, source, &sp, &ev, &blurry, NULL));
  diffevent_edi_params_init(&ep);
  diffevent_sensor_threshold_params_init(&op);
  CHECK(op.block_px == 40 && op.min_peak == 1.5 && op.c_max == 20 && op.reference_at_start == 0);
  op.reference_at_start = 1; /* the simulator starts every pixel at its reference */
  diffevent_sensor_threshold_estimate_init(&est);
  CHECK_OK(diffevent_estimate_sensor_threshold(NULL, blurry, ev, &ep, &op, &est));
  CHECK(fabs(est.c - 0.3) < 0.3 * 0.15);
  CHECK(est.pixels >= 50 && est.blocks >= 3 && est.at_bound == 0 && est.std_error > 0);
  CHECK(est.pixels_pos + est.pixels_neg == est.pixels && fabs(est.c_pos - 0.3) < 0.3 * 0.2 &&
        fabs(est.c_neg - 0.3) < 0.3 * 0.2);
  CHECK(fabs(est.motion_px - sqrt(11.0 * 11 + 6 * 6)) < 2.5);
  op.block_px = 4;
  CHECK_FAILS(diffevent_estimate_sensor_threshold(NULL, blurry, ev, &ep, &op, &est),
              DIFFEVENT_E_INVALID_ARGUMENT, "block_px 4");
  diffevent_sensor_threshold_params_init(&op);
  ep.has_exposure = 1; /* the first 50 us: too few events for any velocity */
  ep.exposure_t0_us = 0;
  ep.exposure_t1_us = 50;
  CHECK_FAILS(diffevent_estimate_sensor_threshold(NULL, blurry, ev, &ep, &op, &est),
              DIFFEVENT_E_INVALID_ARGUMENT, "sensor threshold: only");
  diffevent_events_destroy(ev);
  diffevent_image_destroy(blurry);
  diffevent_image_destroy(source);
}

/* A struct of the version 1-6 layout gives the same frame as today's layout with the same
 * options, and a version-1 size (up to progress_user_data) gets the defaults after it. */
static void old_callers_are_served(const diffevent_image* blurry, const diffevent_events* ev) {
  struct deblur_params_v6 old;
  diffevent_deblur_params now;
  diffevent_edi_params edi;
  diffevent_image *a = NULL, *b = NULL;
  double db = 0;
  diffevent_deblur_params_init(&now);
  diffevent_edi_params_init(&edi);
  edi.c_pos = edi.c_neg = 0.3;
  now.edi = &edi;
  now.steps = 20;
  now.start = 0.2;
  now.seed = 7;
  now.samples = 1;
  now.antithetic = 0;
  memset(&old, 0, sizeof old);
  old.struct_size = (uint32_t)sizeof old;
  old.steps = now.steps;
  old.edi = edi;
  old.auto_threshold = now.auto_threshold;
  old.enhancer_kind = now.enhancer_kind;
  old.guided_radius = now.guided_radius;
  old.guidance = now.guidance;
  old.guided_eps = now.guided_eps;
  old.variance = now.variance;
  old.s = now.s;
  old.s_r = now.s_r;
  old.lambda_tv = now.lambda_tv;
  old.lambda_l1 = now.lambda_l1;
  old.min_prior_variance = now.min_prior_variance;
  old.clip = now.clip;
  old.seed = now.seed;
  old.start = now.start;
  old.threshold_sigma = now.threshold_sigma;
  old.samples = now.samples;
  old.antithetic = now.antithetic;
  CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &now, &a, NULL, NULL));
  CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, (const diffevent_deblur_params*)&old, &b,
                            NULL, NULL));
  CHECK_OK(diffevent_psnr(a, b, 1.0, &db));
  CHECK(db > 200.0); /* identical */
  diffevent_image_destroy(a);
  diffevent_image_destroy(b);
  /* Version 1: the fields from `start` on keep their defaults. */
  diffevent_deblur_params_init(&now);
  now.edi = &edi;
  now.steps = 20;
  now.seed = 7;
  old.struct_size = (uint32_t)offsetof(struct deblur_params_v6, start);
  CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &now, &a, NULL, NULL));
  CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, (const diffevent_deblur_params*)&old, &b,
                            NULL, NULL));
  CHECK_OK(diffevent_psnr(a, b, 1.0, &db));
  CHECK(db > 200.0);
  diffevent_image_destroy(a);
  diffevent_image_destroy(b);
  /* Between the layouts' sizes lies no valid size. */
  old.struct_size = 268;
  CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, (const diffevent_deblur_params*)&old,
                               &a, NULL, NULL),
              DIFFEVENT_E_INVALID_ARGUMENT, "struct_size is 268");
}

static void test_torch_half(void) {
  diffevent_edi_params edi;
  diffevent_prior* prior = SENTINEL(diffevent_prior);
  diffevent_prior* analytic = NULL;
  diffevent_prior_metadata meta;
  diffevent_prior_params pp;
  diffevent_image* E = NULL;
  diffevent_image* blurry = NULL;
  diffevent_image* fe = SENTINEL(diffevent_image);
  diffevent_enhancer_params enh;
  diffevent_deblur_params dp;
  diffevent_events* ev = NULL;
  diffevent_image* sharp = SENTINEL(diffevent_image);
  diffevent_image* residual = NULL;
  double threshold = -1;
  diffevent_status st;

  diffevent_prior_params_init(&pp);
  diffevent_prior_metadata_init(&meta);
  diffevent_enhancer_params_init(&enh);
  diffevent_deblur_params_init(&dp);
  /* The library's DeblurOptions (include/diffevent/diffusion/options.hpp), the CLI's too. */
  CHECK(dp.steps == 100 && dp.edi == NULL && dp.s == 7500.0 && dp.s_r == 1e3 &&
        dp.lambda_tv == 0.0 && dp.lambda_l1 > 141.42 && dp.lambda_l1 < 141.43 &&
        dp.enhancer_kind == DIFFEVENT_ENHANCER_GUIDED && dp.start == 0.02 &&
        dp.threshold_sigma == 0.01 && dp.start_threshold == 0.2 && dp.samples == 2 &&
        dp.antithetic == 1 && dp.residual_prior == 0 && dp.robust_residual == 10.0 &&
        dp.start_threshold_max == 1.0);
  {
    /* Presets: FAST averages fewer samples, BEST more; BALANCED is
     * _init's. */
    diffevent_deblur_params q;
    CHECK_OK(diffevent_deblur_params_init_preset(&q, DIFFEVENT_PRESET_FAST));
    CHECK(q.samples == 1 && q.antithetic == 0 && q.residual_prior == 0 && q.steps == dp.steps &&
          q.s == dp.s && q.start_threshold_max == 0.6);
    CHECK_OK(diffevent_deblur_params_init_preset(&q, DIFFEVENT_PRESET_BEST));
    CHECK(q.samples == 8 && q.antithetic == 1 && q.residual_prior == 0 &&
          q.robust_residual == dp.robust_residual && q.start_threshold_max == 1.0);
    /* PAPER: the slides' sampler, from pure noise with uniform data weights. */
    CHECK_OK(diffevent_deblur_params_init_preset(&q, DIFFEVENT_PRESET_PAPER));
    CHECK(q.samples == 1 && q.antithetic == 0 && q.residual_prior == 1 && q.start == 1.0 &&
          q.threshold_sigma == 0.0 && q.robust_residual == 0.0 && q.steps == dp.steps &&
          q.s == dp.s && q.start_threshold_max == 0.0);
    /* NOISY: BALANCED's pair trusting the events less and the prior more. */
    CHECK_OK(diffevent_deblur_params_init_preset(&q, DIFFEVENT_PRESET_NOISY));
    CHECK(q.samples == dp.samples && q.antithetic == 1 && q.residual_prior == 0 &&
          q.start == 0.05 && q.threshold_sigma == 0.05 && q.steps == dp.steps && q.s == dp.s &&
          q.start_threshold_max == 1.0);
    CHECK_OK(diffevent_deblur_params_init_preset(&q, DIFFEVENT_PRESET_BALANCED));
    CHECK(memcmp(&q, &dp, sizeof q) == 0);
    q.samples = 99;
    CHECK_FAILS(diffevent_deblur_params_init_preset(&q, 5), DIFFEVENT_E_INVALID_ARGUMENT,
                "preset 5 is not a DIFFEVENT_PRESET_*");
    CHECK(q.samples == 99);
    CHECK(diffevent_deblur_params_init_preset(NULL, DIFFEVENT_PRESET_FAST) ==
          DIFFEVENT_E_INVALID_ARGUMENT);
  }

  st = diffevent_prior_load(NULL, src_path("tests/data/tiny_prior.pt"), &pp, &prior);
  if (!diffevent_has_torch()) {
    CHECK(st == DIFFEVENT_E_UNSUPPORTED &&
          strstr(diffevent_last_error(), "without LibTorch") != NULL &&
          strstr(diffevent_last_error(), "libdiffevent_c_torch.so") != NULL);
    CHECK(prior == SENTINEL(diffevent_prior));
    CHECK(diffevent_prior_create_analytic(1, &prior) == DIFFEVENT_E_UNSUPPORTED);
    CHECK(diffevent_prior_get_metadata(NULL, &meta) == DIFFEVENT_E_INVALID_ARGUMENT);
    CHECK(diffevent_enhance(NULL, E, blurry, &enh, &fe) == DIFFEVENT_E_INVALID_ARGUMENT);
    CHECK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL) ==
          DIFFEVENT_E_INVALID_ARGUMENT);
    diffevent_prior_destroy(NULL);
    return;
  }
  CHECK(st == DIFFEVENT_OK);
  CHECK_OK(diffevent_prior_get_metadata(prior, &meta));
  CHECK(meta.channels == 1 && meta.num_timesteps == 1000 && meta.size_multiple == 4 &&
        meta.learned_sigma == 0);
  CHECK(meta.schedule == DIFFEVENT_SCHEDULE_LINEAR && meta.data_min == -1.0 &&
        meta.data_max == 1.0);
  {
    diffevent_prior* missing = SENTINEL(diffevent_prior);
    CHECK_FAILS(diffevent_prior_load(NULL, work_path("no_prior.pt"), &pp, &missing), DIFFEVENT_E_IO,
                "no_prior.pt");
    CHECK(missing == SENTINEL(diffevent_prior));
    pp.device = "tpu:0";
    CHECK_FAILS(diffevent_prior_load(NULL, src_path("tests/data/tiny_prior.pt"), &pp, &missing),
                DIFFEVENT_E_INVALID_ARGUMENT, "device 'tpu:0' is not a device");
    CHECK(missing == SENTINEL(diffevent_prior));
    pp.device = NULL;
  }
  CHECK_FAILS(diffevent_prior_create_analytic(2, &analytic), DIFFEVENT_E_INVALID_ARGUMENT,
              "channels must be 1 or 3");
  CHECK_OK(diffevent_prior_create_analytic(1, &analytic));

  /* Enhancer: identity returns E itself; guided smooths a noisy E towards its mean. */
  {
    float e[64], b[64], out[64];
    int k;
    for (k = 0; k < 64; ++k) {
      e[k] = 1.0f + ((k * 37) % 11 == 0 ? 0.5f : 0.0f);
      b[k] = 0.5f;
    }
    CHECK_OK(diffevent_image_create(1, 8, 8, e, &E));
    CHECK_OK(diffevent_image_create(1, 8, 8, b, &blurry));
    enh.kind = DIFFEVENT_ENHANCER_IDENTITY;
    CHECK_OK(diffevent_enhance(NULL, E, blurry, &enh, &fe));
    CHECK_OK(diffevent_image_copy_data(fe, out, 64));
    CHECK(memcmp(out, e, sizeof e) == 0);
    diffevent_image_destroy(fe);
    enh.kind = DIFFEVENT_ENHANCER_GUIDED;
    enh.guided_eps = 1.0; /* a large regulariser: a box mean */
    CHECK_OK(diffevent_enhance(NULL, E, blurry, &enh, &fe));
    CHECK_OK(diffevent_image_copy_data(fe, out, 64));
    CHECK(out[0] < e[0] - 0.05f); /* the spike is smoothed */
    diffevent_image_destroy(fe);
    fe = SENTINEL(diffevent_image);
    enh.kind = DIFFEVENT_ENHANCER_TORCHSCRIPT;
    CHECK_FAILS(diffevent_enhance(NULL, E, blurry, &enh, &fe), DIFFEVENT_E_INVALID_ARGUMENT,
                "a TorchScript enhancer needs its file");
    enh.path = src_path("tests/data/clamp_enhancer.pt");
    CHECK_OK(diffevent_enhance(NULL, E, blurry, &enh, &fe));
    diffevent_image_destroy(fe);
    fe = SENTINEL(diffevent_image);
    enh.kind = 9;
    CHECK_FAILS(diffevent_enhance(NULL, E, blurry, &enh, &fe), DIFFEVENT_E_INVALID_ARGUMENT,
                "enhancer kind 9");
    CHECK(fe == SENTINEL(diffevent_image));
    diffevent_image_destroy(E);
    diffevent_image_destroy(blurry);
  }

  /* Deblur on the bundled sample: few steps, with and without the learned prior. */
  if (diffevent_events_read(NULL, src_path("data/sample/events.h5"), NULL, &ev) == DIFFEVENT_OK) {
    CHECK_OK(diffevent_image_read(src_path("data/sample/blur.png"), &blurry));
    dp.steps = 4;
    dp.start = 1.0; /* from noise: all 4 steps run (the default warm start runs 1) */
    dp.samples = 1;
    dp.guidance = 5;
    CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, prior, NULL, &dp, &sharp, &residual, &threshold),
                DIFFEVENT_E_INVALID_ARGUMENT, "guidance 5");
    CHECK(sharp == SENTINEL(diffevent_image) && residual == NULL && threshold == -1);
    dp.guidance = DIFFEVENT_GUIDANCE_PROXIMAL;
    /* A progress callback that cancels: CANCELLED, outputs untouched, nothing leaked. */
    dp.progress = count_progress;
    dp.progress_user_data = &dp;
    g_progress_calls = 0;
    CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, prior, NULL, &dp, &sharp, &residual, &threshold),
                DIFFEVENT_E_CANCELLED, "cancel");
    CHECK(g_progress_calls == 1 && sharp == SENTINEL(diffevent_image) && threshold == -1);
    dp.progress_user_data = NULL;
    g_progress_calls = 0;
    CHECK_OK(
        diffevent_deblur(NULL, blurry, ev, prior, analytic, &dp, &sharp, &residual, &threshold));
    CHECK(g_progress_calls == 4 && threshold == 0.2);
    {
      int32_t c, h, w;
      CHECK_OK(diffevent_image_shape(sharp, &c, &h, &w));
      CHECK(c == 1 && h == 96 && w == 128);
      CHECK_OK(diffevent_image_shape(residual, &c, &h, &w));
      CHECK(c == 1 && h == 96 && w == 128);
    }
    diffevent_image_destroy(sharp);
    diffevent_image_destroy(residual);
    /* The analytic prior (NULL) beats the blurry frame against the ground truth. */
    {
      diffevent_image* gt = NULL;
      double p_blur = 0, p_sharp = 0;
      dp.steps = 20;
      dp.progress = NULL;
      CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL));
      CHECK_OK(diffevent_image_read(src_path("data/sample/sharp.png"), &gt));
      CHECK_OK(diffevent_psnr(gt, blurry, 1.0, &p_blur));
      CHECK_OK(diffevent_psnr(gt, sharp, 1.0, &p_sharp));
      CHECK(p_sharp > p_blur + 5.0);
      diffevent_image_destroy(gt);
      diffevent_image_destroy(sharp);
    }
    /* Automatic threshold. */
    dp.steps = 2;
    dp.auto_threshold = 1;
    threshold = -1;
    CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, &threshold));
    CHECK(threshold > 0.1 && threshold < 0.35);
    diffevent_image_destroy(sharp);
    /* Warm start (API version 2): out of range is named; a version-1 struct (struct_size up to
     * `start`) ignores the fields after it and gets their defaults. */
    dp.auto_threshold = 0;
    dp.start = 0.0;
    sharp = SENTINEL(diffevent_image);
    CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                DIFFEVENT_E_INVALID_ARGUMENT, "start = 0 must be in (0, 1]");
    CHECK(sharp == SENTINEL(diffevent_image));
    dp.struct_size = (uint32_t)sizeof dp;
    old_callers_are_served(blurry, ev);
    dp.start = 0.5;
    CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL));
    diffevent_image_destroy(sharp);
    /* The threshold noise model and posterior averaging (API version 2). */
    dp.threshold_sigma = 0.05;
    dp.samples = 2;
    CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL));
    diffevent_image_destroy(sharp);
    dp.samples = 65;
    CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                DIFFEVENT_E_INVALID_ARGUMENT, "samples must be in [1, 64], got 65");
    dp.samples = 1;
    /* edi.has_tau reaches the deblur: a reference time outside the exposure is named. */
    diffevent_edi_params_init(&edi);
    dp.edi = &edi;
    edi.has_tau = 1;
    edi.tau_us = (int64_t)1 << 40;
    CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                DIFFEVENT_E_OUT_OF_RANGE,
                "reference time tau = 1099511627776 us lies outside the exposure");
    edi.has_tau = 0;
    /* The integral: STEP and RAMP give different frames; an unknown kind is named. */
    {
      diffevent_image *a = NULL, *b = NULL;
      double diff = 0;
      dp.integral = DIFFEVENT_INTEGRAL_STEP;
      CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &a, NULL, NULL));
      dp.integral = DIFFEVENT_INTEGRAL_RAMP;
      CHECK_OK(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &b, NULL, NULL));
      CHECK_OK(diffevent_psnr(a, b, 1.0, &diff));
      CHECK(diff > 20.0 && diff < 200.0);
      diffevent_image_destroy(a);
      diffevent_image_destroy(b);
      dp.integral = 7;
      CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                  DIFFEVENT_E_INVALID_ARGUMENT, "integral = 7 must be one of DIFFEVENT_INTEGRAL_*");
      dp.integral = DIFFEVENT_INTEGRAL_DEFAULT;
    }
    /* Tiles (API version 4): 0 picks them from the prior and is the default; a size outside
       [8, 65536] and a negative pixel budget are named. */
    {
      diffevent_deblur_params fresh;
      diffevent_deblur_params_init(&fresh);
      CHECK(fresh.tile_size == 0 && fresh.tile_stride == 0 && fresh.tile_above_pixels == 0);
      dp.tile_size = 4;
      CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                  DIFFEVENT_E_INVALID_ARGUMENT, "tiles need size 0 (auto) or in [8, 65536]");
      /* (983788726 once overflowed the stride's arithmetic: found by fuzz_deblur_params) */
      dp.tile_size = 983788726;
      CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                  DIFFEVENT_E_INVALID_ARGUMENT, "got size 983788726, stride 0, above 0");
      dp.tile_size = 0;
      dp.tile_above_pixels = -1;
      CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                  DIFFEVENT_E_INVALID_ARGUMENT, "got size 0, stride 0, above -1");
      dp.tile_above_pixels = 0;
    }
    dp.threshold_sigma = 0.0;
    dp.start = 1.0;
    /* Nested struct sizes are checked too. */
    edi.struct_size = 1000;
    sharp = SENTINEL(diffevent_image);
    CHECK_FAILS(diffevent_deblur(NULL, blurry, ev, NULL, NULL, &dp, &sharp, NULL, NULL),
                DIFFEVENT_E_INVALID_ARGUMENT, "diffevent_deblur_params.edi.struct_size");
    CHECK(sharp == SENTINEL(diffevent_image));
    diffevent_image_destroy(blurry);
    diffevent_events_destroy(ev);
  }
  CHECK_FAILS(diffevent_prior_get_metadata(prior, NULL), DIFFEVENT_E_INVALID_ARGUMENT, "NULL");
  diffevent_prior_destroy(prior);
  diffevent_prior_destroy(analytic);
  diffevent_prior_destroy(NULL);
}

/* The shipped priors are found as the CLI finds them (a build tree: the source's models/). */
static void test_shipped_priors(void) {
  char path[4096];
  char expected[4096];
  size_t length = 0;
  diffevent_prior* prior = SENTINEL(diffevent_prior);
  CHECK_OK(diffevent_shipped_prior_path(DIFFEVENT_PRIOR_ROLE_X, 1, path, sizeof path, &length));
  snprintf(expected, sizeof expected, "%s/models/x_prior_grey.pt", g_src);
  CHECK(strcmp(path, expected) == 0 && length == strlen(expected) + 1);
  if (strcmp(path, expected) != 0) fprintf(stderr, "  got '%s', expected '%s'\n", path, expected);
  CHECK_OK(diffevent_shipped_prior_path(DIFFEVENT_PRIOR_ROLE_R, 3, path, sizeof path, NULL));
  CHECK(strstr(path, "/models/r_prior_rgb.pt") != NULL);
  /* A buffer too small says how large it must be and writes nothing. */
  length = 0;
  path[0] = 'Q';
  CHECK_FAILS(diffevent_shipped_prior_path(DIFFEVENT_PRIOR_ROLE_X, 1, path, 4, &length),
              DIFFEVENT_E_BUFFER_TOO_SMALL, "the buffer holds 4");
  CHECK(length == strlen(expected) + 1 && path[0] == 'Q');
  CHECK_FAILS(diffevent_shipped_prior_path(DIFFEVENT_PRIOR_ROLE_X, 1, NULL, 0, &length),
              DIFFEVENT_E_BUFFER_TOO_SMALL, "needs");
  CHECK_FAILS(diffevent_shipped_prior_path(7, 1, path, sizeof path, NULL),
              DIFFEVENT_E_INVALID_ARGUMENT, "role 7 is not a DIFFEVENT_PRIOR_ROLE_*");
  CHECK_FAILS(diffevent_shipped_prior_path(DIFFEVENT_PRIOR_ROLE_X, 2, path, sizeof path, NULL),
              DIFFEVENT_E_INVALID_ARGUMENT, "not 2 channels");
  CHECK_FAILS(diffevent_prior_load_shipped(NULL, 9, 1, NULL, &prior), DIFFEVENT_E_INVALID_ARGUMENT,
              "role 9");
  CHECK(prior == SENTINEL(diffevent_prior));
  if (diffevent_has_torch()) {
    diffevent_prior_metadata meta;
    diffevent_prior_metadata_init(&meta);
    CHECK_OK(diffevent_prior_load_shipped(NULL, DIFFEVENT_PRIOR_ROLE_X, 1, NULL, &prior));
    CHECK_OK(diffevent_prior_get_metadata(prior, &meta));
    CHECK(meta.channels == 1);
    diffevent_prior_destroy(prior);
  }
}

static void test_recordings(void) {
  diffevent_recording* rec = SENTINEL(diffevent_recording);
  diffevent_recording_params rp;
  diffevent_events* ev = NULL;
  diffevent_image* img = NULL;
  diffevent_image* sharp = NULL;
  uint64_t frames = 0;
  int32_t w = 0, h = 0;
  int64_t t0 = -1, t1 = -1, e0 = -1, e1 = -1;
  char name[8];
  diffevent_events_info info;

  CHECK(diffevent_api_version() >= 8);
  CHECK_FAILS(diffevent_recording_open(NULL, work_path("no_such_recording"), NULL, &rec),
              DIFFEVENT_E_IO, "no_such_recording");
  CHECK(rec == SENTINEL(diffevent_recording));
  diffevent_recording_params_init(&rp);
  CHECK(rp.struct_size == sizeof rp && rp.exposure_us == 0 && rp.format == 0);
  rp.exposure_us = -1;
  CHECK_FAILS(diffevent_recording_open(NULL, src_path("data/ni-joint"), &rp, &rec),
              DIFFEVENT_E_INVALID_ARGUMENT, "exposure_us");
  /* The ni-joint folder: one .mat of events per blurry frame. */
  CHECK_OK(diffevent_recording_open(NULL, src_path("data/ni-joint"), NULL, &rec));
  CHECK(strcmp(diffevent_recording_layout(rec), "per-frame") == 0);
  CHECK(strcmp(diffevent_recording_layout(NULL), "") == 0);
  CHECK_OK(diffevent_recording_info(rec, &frames, &w, &h));
  CHECK(frames >= 6 && w == 346 && h == 260); /* the first frame's sensor (DAVIS346) */
  CHECK_OK(diffevent_recording_frame(rec, 0, &t0, &t1, name, sizeof name));
  CHECK(strcmp(name, "badmint") == 0); /* "badminton" truncated to the buffer */
  CHECK(t0 < t1);
  CHECK_FAILS(diffevent_recording_frame(rec, frames, &t0, &t1, NULL, 0), DIFFEVENT_E_OUT_OF_RANGE,
              "frame");
  CHECK_OK(diffevent_recording_image(NULL, rec, 0, &img));
  CHECK_OK(diffevent_recording_events(NULL, rec, 0, &ev));
  diffevent_events_info_init(&info);
  CHECK_OK(diffevent_events_info_get(ev, &info));
  CHECK(info.count > 1000 && info.width == 346 && info.exposure_count == 1);
  CHECK_OK(diffevent_events_exposure(ev, 0, &e0, &e1));
  CHECK(e0 == t0 && e1 == t1);
  /* The frame's exposure travels with its events: EDI needs nothing else. */
  CHECK_OK(diffevent_edi_deblur(NULL, img, ev, NULL, &sharp));
  diffevent_image_destroy(sharp);
  diffevent_events_destroy(ev);
  diffevent_image_destroy(img);
  ev = SENTINEL(diffevent_events);
  CHECK_FAILS(diffevent_recording_events_between(NULL, rec, 0, 10, &ev), DIFFEVENT_E_UNSUPPORTED,
              "per-frame");
  CHECK(ev == SENTINEL(diffevent_events));
  CHECK_FAILS(diffevent_recording_info(NULL, &frames, NULL, NULL), DIFFEVENT_E_INVALID_ARGUMENT,
              "recording is NULL");
  diffevent_recording_destroy(rec);
  diffevent_recording_destroy(NULL);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: capi_test SOURCE_DIR WORK_DIR\n");
    return 2;
  }
  snprintf(g_src, sizeof g_src, "%s", argv[1]);
  snprintf(g_work, sizeof g_work, "%s", argv[2]);
  test_versions();
  test_context();
  test_images();
  test_events_and_integral();
  test_reading_files();
  test_recordings();
  test_simulator_and_threshold();
  test_sensor_threshold();
  test_shipped_priors();
  test_torch_half();
  printf("capi_test: %d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
