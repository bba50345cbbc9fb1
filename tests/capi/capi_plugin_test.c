/* LibTorch enters the process only when the C API needs it: reading events, EDI and images
 * leave it out; the first prior loads the plugin beside the library; a missing plugin is an
 * UNSUPPORTED error that names the file looked for.
 * Usage: capi_plugin_test SOURCE_DIR loads     (a build with LibTorch: the plugin loads on use)
 *        capi_plugin_test SOURCE_DIR missing   (run with DIFFEVENT_TORCH_PLUGIN naming no file)
 *        capi_plugin_test SOURCE_DIR absent    (a build without LibTorch: there is no plugin) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diffevent/diffevent.h"

static int g_failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++g_failures;                                                            \
    }                                                                          \
  } while (0)

/* 1 when a mapped file of this process has `name` in its path (/proc/self/maps). */
static int mapped(const char* name) {
  char line[4096];
  int found = 0;
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (strstr(line, name) != NULL) found = 1;
  fclose(f);
  return found;
}

int main(int argc, char** argv) {
  char path[4096];
  diffevent_events* events = NULL;
  diffevent_image *blurry = NULL, *sharp = NULL;
  diffevent_prior* prior = NULL;
  const char* mode;
  if (argc != 3) {
    fprintf(stderr, "usage: capi_plugin_test SOURCE_DIR loads|missing|absent\n");
    return 64;
  }
  mode = argv[2];
  /* Given the event half at work: events, a frame, EDI */
  snprintf(path, sizeof path, "%s/data/sample/events.h5", argv[1]);
  if (diffevent_events_read(NULL, path, NULL, &events) != DIFFEVENT_OK) {
    fprintf(stderr, "capi_plugin_test: HDF5 not compiled in (%s); skipped\n",
            diffevent_last_error());
    return 0;
  }
  snprintf(path, sizeof path, "%s/data/sample/blur.png", argv[1]);
  CHECK(diffevent_image_read(path, &blurry) == DIFFEVENT_OK);
  CHECK(diffevent_edi_deblur(NULL, blurry, events, NULL, &sharp) == DIFFEVENT_OK);
  /* Then no LibTorch library is in the process */
  CHECK(mapped("libtorch") == 0);
  CHECK(mapped("libc10") == 0);
  CHECK(mapped("libdiffevent_c_torch") == 0);

  /* When a prior is asked for */
  if (strcmp(mode, "loads") == 0) {
    /* Then the plugin and LibTorch load, and the prior works */
    CHECK(diffevent_prior_create_analytic(1, &prior) == DIFFEVENT_OK);
    CHECK(mapped("libdiffevent_c_torch") == 1);
    CHECK(mapped("libtorch") == 1);
    CHECK(diffevent_has_torch() == 1);
    diffevent_prior_destroy(prior);
  } else {
    /* Then it is UNSUPPORTED, naming the plugin looked for and why */
    const char* expected =
        strcmp(mode, "missing") == 0 ? getenv("DIFFEVENT_TORCH_PLUGIN") : "libdiffevent_c_torch.so";
    prior = (diffevent_prior*)&path; /* untouched on failure */
    CHECK(diffevent_prior_create_analytic(1, &prior) == DIFFEVENT_E_UNSUPPORTED);
    CHECK(prior == (diffevent_prior*)&path);
    CHECK(expected != NULL && strstr(diffevent_last_error(), expected) != NULL);
    CHECK(strstr(diffevent_last_error(), "could not be loaded") != NULL);
    CHECK(strstr(diffevent_last_error(), "diffevent_prior_create_analytic") != NULL);
    fprintf(stderr, "capi_plugin_test: the error reads: %s\n", diffevent_last_error());
    CHECK(diffevent_has_torch() == 0);
    /* And the same answer on every later call, with the event half still working */
    CHECK(diffevent_deblur(NULL, blurry, events, NULL, NULL, NULL, &sharp, NULL, NULL) ==
          DIFFEVENT_E_UNSUPPORTED);
    CHECK(strstr(diffevent_last_error(), "diffevent_deblur") != NULL);
    diffevent_prior_destroy(NULL);
    CHECK(mapped("libtorch") == 0);
  }
  diffevent_image_destroy(sharp);
  diffevent_image_destroy(blurry);
  diffevent_events_destroy(events);
  if (g_failures) fprintf(stderr, "capi_plugin_test: %d check(s) failed\n", g_failures);
  return g_failures ? 1 : 0;
}
