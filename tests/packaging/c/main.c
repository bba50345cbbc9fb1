/* A consumer of the C API (find_package(diffevent COMPONENTS c) or pkg-config diffevent-c):
 * builds a stream from arrays and checks the library's API version against the header's. */
#include <stdio.h>

#include "diffevent/diffevent.h"

int main(void) {
  const int64_t t[3] = {10, 20, 30};
  const uint16_t x[3] = {0, 1, 2}, y[3] = {0, 1, 2};
  const int8_t p[3] = {1, 0, 1};
  diffevent_events* ev = NULL;
  diffevent_events_info info;
  if (diffevent_api_version() < DIFFEVENT_API_VERSION) {
    fprintf(stderr, "library API %u older than header %u\n", diffevent_api_version(), (unsigned)DIFFEVENT_API_VERSION);
    return 1;
  }
  if (diffevent_events_from_arrays(3, 3, t, x, y, p, 3, NULL, &ev) != DIFFEVENT_OK) {
    fprintf(stderr, "from_arrays: %s\n", diffevent_last_error());
    return 1;
  }
  diffevent_events_info_init(&info);
  diffevent_events_info_get(ev, &info);
  printf("diffevent %s (C API %u, torch %d): %llu events, %llu ON\n", diffevent_version_string(),
         diffevent_api_version(), diffevent_has_torch(), (unsigned long long)info.count,
         (unsigned long long)info.count_on);
  diffevent_events_destroy(ev);
  return info.count == 3 && info.count_on == 2 ? 0 : 1;
}
