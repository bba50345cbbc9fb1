/* The C API end to end: read a blurry frame and its events, write the EDI frame and (with
 * LibTorch) the DiffEvent frame with the shipped priors, found as the CLI finds them. The
 * bindings in bindings/ do the same job; tests check that all of them write the CLI's bytes.
 * Usage: deblur_sample BLUR.png EVENTS OUT_DIR [fast|balanced|best] [SEED] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffevent/diffevent.h"

static int fail(const char* what, diffevent_status st) {
  fprintf(stderr, "deblur_sample: %s failed (%s): %s\n", what, diffevent_status_name(st),
          diffevent_last_error());
  return 1;
}

static int32_t show_progress(void* user_data, int64_t done, int64_t total) {
  (void)user_data;
  fprintf(stderr, "step %lld/%lld\n", (long long)done, (long long)total);
  return 0; /* nonzero would cancel */
}

int main(int argc, char** argv) {
  diffevent_context* ctx = NULL;
  diffevent_events* events = NULL;
  diffevent_image* blurry = NULL;
  diffevent_image* sharp = NULL;
  diffevent_prior* x_prior = NULL;
  diffevent_prior* r_prior = NULL;
  const char* preset = argc > 4 ? argv[4] : "fast";
  int32_t channels = 0, height = 0, width = 0;
  diffevent_edi_params edi;
  diffevent_deblur_params db;
  diffevent_status st;
  char path[4096];
  int rc = 1;

  if (argc < 4) {
    fprintf(stderr, "usage: deblur_sample BLUR.png EVENTS OUT_DIR [fast|balanced|best] [SEED]\n");
    return 64;
  }
  if ((st = diffevent_context_create(NULL, &ctx)) != DIFFEVENT_OK) return fail("context", st);
  if ((st = diffevent_image_read(argv[1], &blurry)) != DIFFEVENT_OK) {
    rc = fail("reading the frame", st);
    goto done;
  }
  if ((st = diffevent_events_read(ctx, argv[2], NULL, &events)) != DIFFEVENT_OK) {
    rc = fail("reading events", st);
    goto done;
  }

  diffevent_edi_params_init(&edi); /* threshold 0.2, exposure from the events file */
  if ((st = diffevent_edi_deblur(ctx, blurry, events, &edi, &sharp)) != DIFFEVENT_OK) {
    rc = fail("EDI", st);
    goto done;
  }
  snprintf(path, sizeof path, "%s/edi.png", argv[3]);
  if ((st = diffevent_image_write(sharp, path, 8)) != DIFFEVENT_OK) {
    rc = fail("writing edi.png", st);
    goto done;
  }
  diffevent_image_destroy(sharp);
  sharp = NULL;

  if (diffevent_has_torch()) {
    /* A preset's options; every other field keeps the CLI's default. */
    st = diffevent_deblur_params_init_preset(
        &db, strcmp(preset, "best") == 0       ? DIFFEVENT_PRESET_BEST
             : strcmp(preset, "balanced") == 0 ? DIFFEVENT_PRESET_BALANCED
             : strcmp(preset, "fast") == 0     ? DIFFEVENT_PRESET_FAST
                                               : -1);
    if (st != DIFFEVENT_OK) {
      rc = fail("the preset (fast, balanced or best)", st);
      goto done;
    }
    db.seed = argc > 5 ? (uint64_t)strtoull(argv[5], NULL, 10) : 0;
    db.progress = show_progress;
    /* The shipped priors for the frame's channels; r only when the preset runs it. */
    diffevent_image_shape(blurry, &channels, &height, &width);
    if ((st = diffevent_prior_load_shipped(ctx, DIFFEVENT_PRIOR_ROLE_X, channels, NULL,
                                           &x_prior)) != DIFFEVENT_OK ||
        (db.residual_prior &&
         (st = diffevent_prior_load_shipped(ctx, DIFFEVENT_PRIOR_ROLE_R, channels, NULL,
                                            &r_prior)) != DIFFEVENT_OK)) {
      rc = fail("loading the shipped priors", st);
      goto done;
    }
    if ((st = diffevent_deblur(ctx, blurry, events, x_prior, r_prior, &db, &sharp, NULL, NULL)) !=
        DIFFEVENT_OK) {
      rc = fail("deblur", st);
      goto done;
    }
    snprintf(path, sizeof path, "%s/deblur.png", argv[3]);
    if ((st = diffevent_image_write(sharp, path, 8)) != DIFFEVENT_OK) {
      rc = fail("writing deblur.png", st);
      goto done;
    }
  }
  rc = 0;
done:
  diffevent_prior_destroy(x_prior);
  diffevent_prior_destroy(r_prior);
  diffevent_image_destroy(sharp);
  diffevent_image_destroy(blurry);
  diffevent_events_destroy(events);
  diffevent_context_destroy(ctx);
  return rc;
}
