/* A consumer of the C API (find_package(diffevent COMPONENTS c) or pkg-config diffevent-c).
 * Always: builds a stream from arrays and checks the library's API version against the header's.
 * With BLUR EVENTS OUT_DIR [PRESET] [SEED]: writes OUT_DIR/edi.png and, with LibTorch,
 * OUT_DIR/deblur.png (PRESET fast, balanced or best, default fast; the shipped priors found by the
 * library, as `diffevent deblur --preset PRESET --seed SEED`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffevent/diffevent.h"

static int fail(const char* what) {
  fprintf(stderr, "%s: %s\n", what, diffevent_last_error());
  return 1;
}

static int deblur_files(const char* blur_path, const char* events_path, const char* out_dir,
                        int32_t preset, uint64_t seed) {
  diffevent_image *blurry = NULL, *edi = NULL, *sharp = NULL, *residual = NULL;
  diffevent_events* events = NULL;
  diffevent_prior *prior = NULL, *r_prior = NULL;
  diffevent_deblur_params params;
  char path[4096];
  int32_t c = 0, h = 0, w = 0;
  double threshold = 0;
  int rc = 1;
  if (diffevent_image_read(blur_path, &blurry) != DIFFEVENT_OK) {
    rc = fail("reading the frame");
    goto done;
  }
  if (diffevent_events_read(NULL, events_path, NULL, &events) != DIFFEVENT_OK) {
    rc = fail("reading events");
    goto done;
  }
  if (diffevent_edi_deblur(NULL, blurry, events, NULL, &edi) != DIFFEVENT_OK) {
    rc = fail("EDI");
    goto done;
  }
  snprintf(path, sizeof path, "%s/edi.png", out_dir);
  if (diffevent_image_write(edi, path, 8) != DIFFEVENT_OK) {
    rc = fail("writing edi.png");
    goto done;
  }
  if (diffevent_has_torch()) {
    diffevent_image_shape(blurry, &c, &h, &w);
    if (diffevent_prior_load_shipped(NULL, DIFFEVENT_PRIOR_ROLE_X, c, NULL, &prior) !=
        DIFFEVENT_OK) {
      rc = fail("loading the shipped prior");
      goto done;
    }
    diffevent_deblur_params_init_preset(&params, preset);
    params.seed = seed;
    if (params.residual_prior && diffevent_prior_load_shipped(NULL, DIFFEVENT_PRIOR_ROLE_R, c, NULL,
                                                              &r_prior) != DIFFEVENT_OK) {
      rc = fail("loading the shipped residual prior");
      goto done;
    }
    if (diffevent_deblur(NULL, blurry, events, prior, r_prior, &params, &sharp, &residual,
                         &threshold) != DIFFEVENT_OK) {
      rc = fail("deblur");
      goto done;
    }
    snprintf(path, sizeof path, "%s/deblur.png", out_dir);
    if (diffevent_image_write(sharp, path, 8) != DIFFEVENT_OK) {
      rc = fail("writing deblur.png");
      goto done;
    }
  }
  rc = 0;
done:
  diffevent_image_destroy(blurry);
  diffevent_image_destroy(edi);
  diffevent_image_destroy(sharp);
  diffevent_image_destroy(residual);
  diffevent_events_destroy(events);
  diffevent_prior_destroy(prior);
  diffevent_prior_destroy(r_prior);
  return rc;
}

int main(int argc, char** argv) {
  const int64_t t[3] = {10, 20, 30};
  const uint16_t x[3] = {0, 1, 2}, y[3] = {0, 1, 2};
  const int8_t p[3] = {1, 0, 1};
  diffevent_events* ev = NULL;
  diffevent_events_info info;
  if (diffevent_api_version() < DIFFEVENT_API_VERSION) {
    fprintf(stderr, "library API %u older than header %u\n", diffevent_api_version(),
            (unsigned)DIFFEVENT_API_VERSION);
    return 1;
  }
  if (diffevent_events_from_arrays(3, 3, t, x, y, p, 3, NULL, &ev) != DIFFEVENT_OK)
    return fail("from_arrays");
  diffevent_events_info_init(&info);
  diffevent_events_info_get(ev, &info);
  printf("diffevent %s (C API %u, torch %d): %llu events, %llu ON\n", diffevent_version_string(),
         diffevent_api_version(), diffevent_has_torch(), (unsigned long long)info.count,
         (unsigned long long)info.count_on);
  diffevent_events_destroy(ev);
  if (info.count != 3 || info.count_on != 2) return 1;
  if (argc >= 4) {
    const char* name = argc > 4 ? argv[4] : "fast";
    const int32_t preset = strcmp(name, "fast") == 0       ? DIFFEVENT_PRESET_FAST
                           : strcmp(name, "balanced") == 0 ? DIFFEVENT_PRESET_BALANCED
                           : strcmp(name, "best") == 0     ? DIFFEVENT_PRESET_BEST
                                                           : -1;
    if (preset < 0) {
      fprintf(stderr, "preset '%s': expected fast, balanced or best\n", name);
      return 64;
    }
    return deblur_files(argv[1], argv[2], argv[3], preset,
                        argc > 5 ? strtoull(argv[5], NULL, 10) : 0);
  }
  return 0;
}
