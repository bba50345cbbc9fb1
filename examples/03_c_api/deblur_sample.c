/* The C API end to end: read a blurry frame and its events, write the EDI frame and (with
 * LibTorch) the DiffEvent frame from the analytic prior. The bindings in bindings/ do the same
 * job; tests check that all of them write the CLI's bytes.
 * Usage: deblur_sample BLUR.png EVENTS OUT_DIR [STEPS] [SEED] */
#include <stdio.h>
#include <stdlib.h>

#include "diffevent/diffevent.h"

static int fail(const char* what, diffevent_status st) {
  fprintf(stderr, "deblur_sample: %s failed (%s): %s\n", what, diffevent_status_name(st),
          diffevent_last_error());
  return 1;
}

static int32_t show_progress(void* user_data, int64_t done, int64_t total) {
  (void)user_data;
  fprintf(stderr, "\rstep %lld/%lld", (long long)done, (long long)total);
  if (done == total) fputc('\n', stderr);
  return 0; /* nonzero would cancel */
}

int main(int argc, char** argv) {
  diffevent_context* ctx = NULL;
  diffevent_events* events = NULL;
  diffevent_image* blurry = NULL;
  diffevent_image* sharp = NULL;
  diffevent_edi_params edi;
  diffevent_deblur_params db;
  diffevent_status st;
  char path[4096];
  int rc = 1;

  if (argc < 4) {
    fprintf(stderr, "usage: deblur_sample BLUR.png EVENTS OUT_DIR [STEPS] [SEED]\n");
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
    diffevent_deblur_params_init(&db);
    db.steps = argc > 4 ? atoi(argv[4]) : 50;
    db.seed = argc > 5 ? (uint64_t)strtoull(argv[5], NULL, 10) : 0;
    db.progress = show_progress;
    if ((st = diffevent_deblur(ctx, blurry, events, NULL, NULL, &db, &sharp, NULL, NULL)) !=
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
  diffevent_image_destroy(sharp);
  diffevent_image_destroy(blurry);
  diffevent_events_destroy(events);
  diffevent_context_destroy(ctx);
  return rc;
}
