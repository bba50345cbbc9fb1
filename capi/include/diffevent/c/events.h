/* diffevent/c/events.h: the C API's event streams, their files and arrays. Part of
 * diffevent/diffevent.h, which documents the conventions every function follows; include that. */
#ifndef DIFFEVENT_C_EVENTS_H_
#define DIFFEVENT_C_EVENTS_H_

#include "diffevent/c/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Events                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** A validated, time-sorted event stream from one sensor, with what its file stated
 *  (exposure windows, a frame). */
typedef struct diffevent_events diffevent_events;

#define DIFFEVENT_FORMAT_AUTO 0
#define DIFFEVENT_FORMAT_TEXT 1
#define DIFFEVENT_FORMAT_HDF5 2
#define DIFFEVENT_FORMAT_EVT2 3
#define DIFFEVENT_FORMAT_EVT3 4
#define DIFFEVENT_FORMAT_DAT 5
#define DIFFEVENT_FORMAT_AEDAT4 6
#define DIFFEVENT_FORMAT_MAT 7
#define DIFFEVENT_FORMAT_NPY 8
#define DIFFEVENT_FORMAT_NPZ 9

/** Options for diffevent_events_read. */
typedef struct diffevent_read_params {
  uint32_t struct_size;
  int32_t format;                 /**< DIFFEVENT_FORMAT_*; AUTO (default) detects from content. */
  int32_t sort_if_unsorted;       /**< 1: sort instead of rejecting decreasing times (default 0). */
  int32_t width;                  /**< Sensor size when the file states none; 0 (default) = */
  int32_t height;                 /**<   infer as max coordinate + 1. */
  int32_t time_shift;             /**< Prophesee RAW: subtract the first time high (default 0). */
  int32_t swap_xy;                /**< NumPy .npz: swap x and y arrays (default 0). */
  int32_t float_time_is_seconds;  /**< .npy/.npz/.mat float times: 1 seconds (default), 0 us. */
  diffevent_progress_fn progress; /**< Called after each chunk with (events so far, -1). */
  void* progress_user_data;
  /* API version 6 */
  uint64_t max_events; /**< Refuse a file of more events, before storing them (about
                            13 bytes each); 0 (default): 2^30. */
} diffevent_read_params;

/** Options for diffevent_events_from_arrays. */
#define DIFFEVENT_POLARITY_AUTO 0       /**< {0,1} or {-1,+1}; 0 is OFF. */
#define DIFFEVENT_POLARITY_ZERO_ONE 1   /**< Only 0 (OFF) and 1 (ON). */
#define DIFFEVENT_POLARITY_MINUS_PLUS 2 /**< Only -1 (OFF) and +1 (ON). */
typedef struct diffevent_ingest_params {
  uint32_t struct_size;
  int32_t polarity_encoding; /**< DIFFEVENT_POLARITY_* (default AUTO). */
  int32_t sort_if_unsorted;  /**< 1: stable-sort by time instead of rejecting (default 0). */
} diffevent_ingest_params;

/** Options for diffevent_events_write. */
#define DIFFEVENT_COMPRESSION_NONE 0
#define DIFFEVENT_COMPRESSION_LZ4 1
#define DIFFEVENT_COMPRESSION_ZSTD 2
typedef struct diffevent_write_params {
  uint32_t struct_size;
  int32_t format;            /**< DIFFEVENT_FORMAT_*; AUTO (default): from the extension. */
  int32_t has_exposure;      /**< HDF5: store exposure_t0_us..t1_us with the image. */
  int32_t aedat_compression; /**< AEDAT4 packets: DIFFEVENT_COMPRESSION_* (default LZ4). */
  int64_t exposure_t0_us;
  int64_t exposure_t1_us;
  const diffevent_image* image; /**< HDF5: store this frame (NULL: none). Not retained. */
  uint64_t aedat_packet_events; /**< AEDAT4 events per packet, 1 to 1048576 (default 8192). */
} diffevent_write_params;

/** What diffevent_events_info reports. */
typedef struct diffevent_events_info {
  uint32_t struct_size; /**< Set by the caller (diffevent_events_info_init). */
  int32_t width;
  int32_t height;
  int32_t format;        /**< Format read from (AUTO for arrays and simulations). */
  int32_t size_inferred; /**< 1 when the sensor size was inferred from coordinates. */
  int32_t has_image;     /**< 1 when the file carried a frame (diffevent_events_image). */
  uint64_t count;        /**< Number of events. */
  uint64_t count_on;     /**< Number of ON events. */
  int64_t t_begin_us;    /**< First and last timestamp (0 when empty). */
  int64_t t_end_us;
  uint64_t exposure_count; /**< Exposure windows stated (diffevent_events_exposure). */
  /** The contrast thresholds the file states (HDF5 root attributes contrast_threshold_pos and
   *  contrast_threshold_neg), 0 when it states none (version 10). */
  double threshold_pos;
  double threshold_neg;
} diffevent_events_info;

DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_read_params_init(diffevent_read_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_ingest_params_init(diffevent_ingest_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_write_params_init(diffevent_write_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_events_info_init(diffevent_events_info* info);

/** Reads an event file (any supported format). ctx: may be NULL (not cancellable, silent).
 *  params: may be NULL. out: caller destroys. Errors name the file and the problem. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_events_read(diffevent_context* ctx, const char* path, const diffevent_read_params* params,
                      diffevent_events** out);
/** Builds a stream from caller arrays (structure of arrays, `count` events; copied).
 *  Coordinates must lie in the width x height sensor (sides 1..65535); times must not
 *  decrease unless sort_if_unsorted. Arrays may be NULL when count is 0. Errors name the first
 *  offending index. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_events_from_arrays(int32_t width, int32_t height, const int64_t* t_us, const uint16_t* x,
                             const uint16_t* y, const int8_t* polarity, size_t count,
                             const diffevent_ingest_params* params, diffevent_events** out);
/** Writes events (text .txt, HDF5 .h5, .npy, .npz, EVT2 .raw, .dat, .aedat4) atomically. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_events_write(diffevent_context* ctx, const diffevent_events* events, const char* path,
                       const diffevent_write_params* params);
/** Destroys an event stream (NULL: no-op). */
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_events_destroy(diffevent_events* events);
/** out: filled up to out->struct_size (set it with diffevent_events_info_init). */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_events_info_get(const diffevent_events* events, diffevent_events_info* out);
/** Copies the arrays into caller buffers of `capacity` events each (any pointer may be NULL
 *  to skip that array). Polarity is -1/+1. Fails with BUFFER_TOO_SMALL when capacity < count. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_events_copy_arrays(const diffevent_events* events, int64_t* t_us, uint16_t* x,
                             uint16_t* y, int8_t* polarity, size_t capacity);
/** The index-th exposure window the file stated. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_events_exposure(
    const diffevent_events* events, uint64_t index, int64_t* out_t0_us, int64_t* out_t1_us);
/** A copy of the frame the file carried (has_image). out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_events_image(const diffevent_events* events, diffevent_image** out);
/** A new stream with the events at t0_us <= t < t1_us. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_events_slice_time(
    const diffevent_events* events, int64_t t0_us, int64_t t1_us, diffevent_events** out);
/** Short lowercase name of a DIFFEVENT_FORMAT_* ("hdf5", ...); "unknown" otherwise. */
DIFFEVENT_C_API const char* DIFFEVENT_CALL diffevent_format_name(int32_t format);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DIFFEVENT_C_EVENTS_H_ */
