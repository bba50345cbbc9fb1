/* diffevent/c/recording.h: the C API's recordings: frames with their exposures and the events
 * of any window, read on demand. Part of diffevent/diffevent.h, which documents the
 * conventions every function follows; include that. */
#ifndef DIFFEVENT_C_RECORDING_H_
#define DIFFEVENT_C_RECORDING_H_

#include "diffevent/c/events.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Recordings (API version 8)                                                                 */
/* ------------------------------------------------------------------------------------------ */

/** A recording: an AEDAT4 file with a frames stream, an event_utils/EFNet HDF5 file with
 *  images/, a folder of numbered images with one event file and timestamps.txt, or a folder of
 *  per-frame event files beside their images (docs/recordings.md). Only its index is held in
 *  memory; images and events are read per call. Every function taking a const handle may be
 *  called from several threads at once. */
typedef struct diffevent_recording diffevent_recording;

/** Options for diffevent_recording_open. */
typedef struct diffevent_recording_params {
  uint32_t struct_size;
  int32_t format; /**< The event data's DIFFEVENT_FORMAT_*; AUTO (default) detects it. */
  int32_t width;  /**< Sensor size when the event data state none (0: from the frames). */
  int32_t height;
  int64_t exposure_us; /**< Exposure of frames that give only a timestamp (0: an error). */
  uint64_t max_events; /**< Most events one window may hold (0: the library's default). */
} diffevent_recording_params;

DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_recording_params_init(diffevent_recording_params* params);
/** Opens a recording (reads its frame index). params: may be NULL. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_recording_open(diffevent_context* ctx, const char* path,
                         const diffevent_recording_params* params, diffevent_recording** out);
/** Destroys a recording (NULL: no-op). */
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_recording_destroy(diffevent_recording* recording);
/** Frame count and sensor size (any pointer may be NULL). */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_recording_info(const diffevent_recording* recording, uint64_t* out_frames,
                         int32_t* out_width, int32_t* out_height);
/** "aedat4", "hdf5", "folder" or "per-frame" (valid while the recording lives); "" for NULL. */
DIFFEVENT_C_API const char* DIFFEVENT_CALL
diffevent_recording_layout(const diffevent_recording* recording);
/** Frame index's exposure window in microseconds, and its name (NUL-terminated, truncated to
 *  name_capacity - 1 bytes; name may be NULL). */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_recording_frame(const diffevent_recording* recording, uint64_t index, int64_t* out_t0_us,
                          int64_t* out_t1_us, char* name, size_t name_capacity);
/** Frame index's image, values in [0, 1] as stored. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_recording_image(diffevent_context* ctx, const diffevent_recording* recording,
                          uint64_t index, diffevent_image** out);
/** The events of frame index's exposure (t0 <= t < t1), carrying that exposure
 *  (diffevent_events_exposure 0) so diffevent_deblur and diffevent_edi_deblur use it by
 *  default. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_recording_events(diffevent_context* ctx, const diffevent_recording* recording,
                           uint64_t index, diffevent_events** out);
/** The events with t0_us <= t < t1_us (not for per-frame folders). out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_recording_events_between(diffevent_context* ctx, const diffevent_recording* recording,
                                   int64_t t0_us, int64_t t1_us, diffevent_events** out);

#ifdef __cplusplus
}
#endif

#endif /* DIFFEVENT_C_RECORDING_H_ */
