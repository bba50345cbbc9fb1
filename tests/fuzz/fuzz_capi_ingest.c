/* libFuzzer harness for the C API's array ingest (diffevent_events_from_arrays), as plain C.
 * Input layout: 2 bytes width, 2 bytes height, 1 byte flags (polarity encoding, sorting), then
 * records of 13 bytes (int64 t, uint16 x, uint16 y, int8 p) turned into the SoA arrays. An
 * accepted stream is read back (info, arrays, image, time slice) and checked against the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diffevent/diffevent.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  diffevent_ingest_params params;
  diffevent_events* ev = NULL;
  diffevent_events_info info;
  int64_t* t;
  uint16_t *x, *y;
  int8_t* p;
  size_t n, i;
  int32_t w, h;
  if (size < 5) return 0;
  w = (int32_t)(data[0] | (data[1] << 8)) - 8; /* also negative and zero sizes */
  h = (int32_t)(data[2] | (data[3] << 8)) - 8;
  diffevent_ingest_params_init(&params);
  params.polarity_encoding = data[4] % 4; /* 3 is out of range: must be rejected */
  params.sort_if_unsorted = (data[4] >> 2) & 1;
  if ((data[4] >> 3) & 1) params.struct_size = (uint32_t)(data[4] >> 4); /* odd struct sizes */
  data += 5;
  size -= 5;
  n = size / 13;
  t = (int64_t*)malloc((n ? n : 1) * sizeof *t);
  x = (uint16_t*)malloc((n ? n : 1) * sizeof *x);
  y = (uint16_t*)malloc((n ? n : 1) * sizeof *y);
  p = (int8_t*)malloc(n ? n : 1);
  for (i = 0; i < n; ++i) {
    memcpy(&t[i], data + 13 * i, 8);
    memcpy(&x[i], data + 13 * i + 8, 2);
    memcpy(&y[i], data + 13 * i + 10, 2);
    p[i] = (int8_t)data[13 * i + 12];
  }
  if (diffevent_events_from_arrays(w, h, n ? t : NULL, x, y, p, n, &params, &ev) == DIFFEVENT_OK) {
    diffevent_image* img = NULL;
    diffevent_events* part = NULL;
    int64_t* t2 = (int64_t*)malloc((n ? n : 1) * sizeof *t2);
    uint16_t* x2 = (uint16_t*)malloc((n ? n : 1) * sizeof *x2);
    diffevent_events_info_init(&info);
    if (diffevent_events_info_get(ev, &info) != DIFFEVENT_OK || info.count != (uint64_t)n) abort();
    if (diffevent_events_copy_arrays(ev, t2, x2, NULL, NULL, n) != DIFFEVENT_OK) abort();
    for (i = 0; i < n; ++i) {
      if ((int32_t)x2[i] >= w) abort();
      if (i && t2[i] < t2[i - 1]) abort();
    }
    if (n && !params.sort_if_unsorted && memcmp(t, t2, n * sizeof *t) != 0) abort();
    if (diffevent_events_image(ev, &img) == DIFFEVENT_OK) abort(); /* arrays carry no frame */
    diffevent_image_destroy(img);
    if (n) (void)diffevent_events_slice_time(ev, t2[0], t2[n - 1] / 2 + t2[0] / 2, &part);
    diffevent_events_destroy(part);
    free(t2);
    free(x2);
    diffevent_events_destroy(ev);
  }
  free(t);
  free(x);
  free(y);
  free(p);
  return 0;
}
