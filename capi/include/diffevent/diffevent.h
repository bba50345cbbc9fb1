/*
 * diffevent.h: the stable C API of diffevent (C99).
 *
 * Event-guided deblurring: event files and arrays, the EDI double integral, EDI deblurring and
 * its threshold search, the event simulator, enhancers, diffusion priors and the DiffEvent
 * alternating sampler, PSNR and SSIM. See docs/c-api.md for a walk-through and the rules below
 * in full.
 *
 * Conventions
 * - Every fallible function returns a diffevent_status: DIFFEVENT_OK (0) or a positive error
 *   code. The message of the last failure on the calling thread is diffevent_last_error().
 * - On failure, out-parameters are left untouched and nothing is leaked.
 * - Handles are opaque. Each X_create/X_read/... has an X_destroy, which accepts NULL.
 * - Parameter structs start with `uint32_t struct_size` and are filled with defaults by
 *   diffevent_X_params_init(). The library reads only the fields that lie within struct_size
 *   (older, smaller structs get defaults for the rest) and rejects a struct_size larger than it
 *   knows. Passing NULL for a params pointer means "all defaults".
 * - Images are float32, planar [C,H,W] (C = 1 grey or 3 RGB), linear intensity in [0,1] unless
 *   a function says otherwise. Times are int64 microseconds.
 * - Buffers passed in are only read during the call; the library keeps no pointer to them.
 *   Output arrays are caller-owned; their sizes come from the matching *_info function.
 * - Strings are UTF-8 and NUL-terminated. Strings returned by the library are owned by it.
 *
 * Threading
 * - Functions without a context are thread-safe.
 * - A diffevent_context may be used by one thread at a time; diffevent_context_cancel() may be
 *   called from any thread at any time. Use one context per thread.
 * - diffevent_events, diffevent_image and diffevent_prior handles are read-only after
 *   creation (except diffevent_image_srgb_* which modify the image) and may be shared by
 *   threads; a prior serialises concurrent sampling runs internally.
 */
#ifndef DIFFEVENT_DIFFEVENT_H_
#define DIFFEVENT_DIFFEVENT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(DIFFEVENT_C_BUILDING)
#define DIFFEVENT_C_API __declspec(dllexport)
#else
#define DIFFEVENT_C_API __declspec(dllimport)
#endif
#define DIFFEVENT_CALL __cdecl
#elif defined(__GNUC__)
#define DIFFEVENT_C_API __attribute__((visibility("default")))
#define DIFFEVENT_CALL
#else
#define DIFFEVENT_C_API
#define DIFFEVENT_CALL
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Versions                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/** Version of this header's API. Grows when functions or struct fields are added, or a field
    accepts values it refused before. */
#define DIFFEVENT_API_VERSION 7

/** Library version as MAJOR * 10000 + MINOR * 100 + PATCH. */
DIFFEVENT_C_API uint32_t DIFFEVENT_CALL diffevent_version(void);
/** Library version as "MAJOR.MINOR.PATCH". Static storage; do not free. */
DIFFEVENT_C_API const char* DIFFEVENT_CALL diffevent_version_string(void);
/** DIFFEVENT_API_VERSION of the library at run time (>= the header's when compatible). */
DIFFEVENT_C_API uint32_t DIFFEVENT_CALL diffevent_api_version(void);
/** 1 when the library was built with LibTorch (priors, enhancers, deblur), else 0. Without
 *  it those functions fail with DIFFEVENT_E_UNSUPPORTED. */
DIFFEVENT_C_API int32_t DIFFEVENT_CALL diffevent_has_torch(void);

/* ------------------------------------------------------------------------------------------ */
/* Status and errors                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef int32_t diffevent_status;
#define DIFFEVENT_OK 0
#define DIFFEVENT_E_INVALID_ARGUMENT 1 /**< A value is out of range, NULL or malformed. */
#define DIFFEVENT_E_IO 2               /**< A file could not be opened, read or written. */
#define DIFFEVENT_E_FORMAT 3           /**< A file's content is malformed or truncated. */
#define DIFFEVENT_E_OUT_OF_RANGE 4     /**< An index, coordinate or time is out of range. */
#define DIFFEVENT_E_UNSUPPORTED 5      /**< Not compiled in, or not implemented for this input. */
#define DIFFEVENT_E_CANCELLED 6        /**< A progress callback or diffevent_context_cancel. */
#define DIFFEVENT_E_INTERNAL 7         /**< A bug in diffevent (please report). */
#define DIFFEVENT_E_OUT_OF_MEMORY 8    /**< An allocation failed. */
#define DIFFEVENT_E_BUFFER_TOO_SMALL 9 /**< A caller buffer is smaller than required. */

/** The message of the last failure on this thread ("" if none). Thread-local storage owned by
 *  the library, valid until the next diffevent call on this thread. May be stale after a call
 *  that succeeded: check the status first. */
DIFFEVENT_C_API const char* DIFFEVENT_CALL diffevent_last_error(void);
/** A short static name of a status ("ok", "invalid argument", ...); "unknown" otherwise. */
DIFFEVENT_C_API const char* DIFFEVENT_CALL diffevent_status_name(diffevent_status status);

/* ------------------------------------------------------------------------------------------ */
/* Callbacks                                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Progress of a long call: `done` of `total` units (steps, or events when total is -1).
 *  Return 0 to continue, nonzero to cancel (the call then fails with DIFFEVENT_E_CANCELLED).
 *  Called on the calling thread. */
typedef int32_t(DIFFEVENT_CALL* diffevent_progress_fn)(void* user_data, int64_t done,
                                                       int64_t total);

#define DIFFEVENT_LOG_ERROR 0
#define DIFFEVENT_LOG_WARNING 1
#define DIFFEVENT_LOG_INFO 2
#define DIFFEVENT_LOG_DEBUG 3
/** A log line (no trailing newline) from a call on a context, on the calling thread.
 *  `message` is valid only during the callback. */
typedef void(DIFFEVENT_CALL* diffevent_log_fn)(void* user_data, int32_t level, const char* message);

/* ------------------------------------------------------------------------------------------ */
/* Context                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** A context: cancellation flag, log callback and thread settings for the calls made with it. */
typedef struct diffevent_context diffevent_context;

typedef struct diffevent_context_params {
  uint32_t struct_size; /**< sizeof(diffevent_context_params); set by _init. */
  int32_t num_threads;  /**< Threads for the double integral (default 1, >= 1). */
  diffevent_log_fn log; /**< Log callback; NULL (default) = silent. */
  void* log_user_data;  /**< Passed to `log`. */
  int32_t log_level;    /**< Most verbose level delivered (default DIFFEVENT_LOG_INFO). */
  int32_t reserved0;    /**< Must be 0. */
} diffevent_context_params;

/** Fills `params` with defaults (struct_size included). No-op for NULL. */
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_context_params_init(diffevent_context_params* params);
/** Creates a context. params: in, may be NULL. out: receives the new context (caller destroys). */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_context_create(const diffevent_context_params* params, diffevent_context** out);
/** Destroys a context (NULL: no-op). No call may be running on it. */
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_context_destroy(diffevent_context* ctx);
/** Asks the calls running on `ctx` to stop, and every later call on it to fail with
 *  DIFFEVENT_E_CANCELLED until diffevent_context_reset_cancel. Thread-safe, async-signal-safe.
 *  Sampling stops between steps, reading between chunks of 2^20 events; other calls check
 *  at entry. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_context_cancel(diffevent_context* ctx);
/** Clears the cancellation flag. Thread-safe. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_context_reset_cancel(diffevent_context* ctx);
/** out: 1 when cancellation is requested, else 0. Thread-safe. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_context_is_cancelled(const diffevent_context* ctx, int32_t* out);

/* ------------------------------------------------------------------------------------------ */
/* Images                                                                                     */
/* ------------------------------------------------------------------------------------------ */

/** A float32 image, planar [C,H,W]. */
typedef struct diffevent_image diffevent_image;

/** Creates a channels x height x width image from `data` (copied; C*H*W floats, planar), or
 *  filled with zeros when data is NULL. channels 1..4, sides 1..65535. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_image_create(
    int32_t channels, int32_t height, int32_t width, const float* data, diffevent_image** out);
/** Reads a PNG (8/16 bit, grey or RGB; values scaled to [0,1] as stored) or PFM file, within
 *  the default limits of diffevent_image_read_params. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_image_read(const char* path,
                                                                     diffevent_image** out);

/** What an image read accepts before it allocates anything (API version 6). Beyond these, a
 *  file must be able to hold what its header declares (a PNG's compressed data, a PFM's
 *  length) or the read fails before any pixel buffer exists. Set them lower for untrusted
 *  files. */
typedef struct diffevent_image_read_params {
  uint32_t struct_size;
  int32_t reserved0;
  int64_t max_pixels; /**< width x height at most (default 2^28; 0: the default). */
  int64_t max_side;   /**< width and height each at most (default 2^20; 0: the default). */
} diffevent_image_read_params;

DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_image_read_params_init(diffevent_image_read_params* params);
/** diffevent_image_read with limits (params may be NULL: the defaults). A size beyond them is
 *  DIFFEVENT_ERROR_FORMAT naming the size and the limit. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_image_read_with_params(
    const char* path, const diffevent_image_read_params* params, diffevent_image** out);
/** Writes PNG (bit_depth 8 or 16; values clamped to [0,1]) or PFM (by extension), atomically:
 *  the file appears complete or not at all. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_image_write(const diffevent_image* image,
                                                                      const char* path,
                                                                      int32_t bit_depth);
/** Destroys an image (NULL: no-op). */
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_image_destroy(diffevent_image* image);
/** out_channels/out_height/out_width: receive the shape (any may be NULL). */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_image_shape(const diffevent_image* image,
                                                                      int32_t* out_channels,
                                                                      int32_t* out_height,
                                                                      int32_t* out_width);
/** Copies the C*H*W floats into `out` (caller-owned, `capacity` floats). Fails with
 *  DIFFEVENT_E_BUFFER_TOO_SMALL when capacity < C*H*W. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_image_copy_data(const diffevent_image* image, float* out, size_t capacity);
/** In place: sRGB-encoded to linear, or linear to sRGB-encoded. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_image_srgb_to_linear(diffevent_image* image);
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_image_linear_to_srgb(diffevent_image* image);
/** out: a new grey image (Rec. 709 luminance of RGB; a copy of grey). Caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_image_to_grey(const diffevent_image* image, diffevent_image** out);

/** PSNR in dB of `test` against `reference` (same shape), with the given data range (> 0;
 *  1 for [0,1] images). Identical images give +infinity. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_psnr(const diffevent_image* reference,
                                                               const diffevent_image* test,
                                                               double data_range, double* out_db);
/** Mean SSIM (Gaussian 11x11 window, sigma 1.5, per channel). */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_ssim(const diffevent_image* reference,
                                                               const diffevent_image* test,
                                                               double data_range, double* out_ssim);

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
  uint64_t aedat_packet_events; /**< AEDAT4 events per packet (default 8192). */
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

/* ------------------------------------------------------------------------------------------ */
/* Double integral and EDI                                                                    */
/* ------------------------------------------------------------------------------------------ */

/** Thresholds and exposure shared by the double integral, EDI and deblurring. */
typedef struct diffevent_edi_params {
  uint32_t struct_size;
  int32_t has_exposure; /**< 0 (default): the exposure the events file stated. */
  int64_t exposure_t0_us;
  int64_t exposure_t1_us;
  int32_t has_tau;        /**< 0 (default): tau = mid-exposure. */
  int32_t linearize_srgb; /**< 1: the blurry frame is sRGB-encoded (default 0). */
  int64_t tau_us;
  double c_pos;           /**< ON threshold in log units (_init: the library's nominal one). */
  double c_neg;           /**< OFF threshold (_init: as c_pos). */
  const float* c_pos_map; /**< Optional per-pixel thresholds (H*W floats; NULL = scalar). */
  const float* c_neg_map;
  double min_integral; /**< E is clamped below at this, in (0, 1). */
} diffevent_edi_params;

/** Options for the threshold search (diffevent_estimate_threshold). */
typedef struct diffevent_threshold_params {
  uint32_t struct_size;
  int32_t num_times; /**< Times across the exposure (default 5). */
  double c_min;      /**< Search interval (defaults 0.05 and 1.0). */
  double c_max;
  double tolerance; /**< Bracket width at which to stop (default 1e-3). */
  double lambda_tv; /**< TV weight of the energy (default 0.2). */
} diffevent_threshold_params;

/** Result of the threshold search. */
typedef struct diffevent_threshold_estimate {
  uint32_t struct_size;
  int32_t evaluations; /**< Energy evaluations spent. */
  double c;            /**< The symmetric threshold found. */
  double energy;       /**< The energy at c. */
  int32_t at_bound;    /**< 1 when c is at the end of the interval: suspect. */
  int32_t reserved0;
} diffevent_threshold_estimate;

DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_edi_params_init(diffevent_edi_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_threshold_params_init(diffevent_threshold_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_threshold_estimate_init(diffevent_threshold_estimate* estimate);

/** The double integral E over the exposure (grey, H x W, > 0; 1 where no events fired).
 *  out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_double_integral(diffevent_context* ctx, const diffevent_events* events,
                          const diffevent_edi_params* params, diffevent_image** out);
/** EDI: the sharp frame at tau = blurry / max(E, min_integral). `blurry` must match the sensor.
 *  out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_edi_deblur(
    diffevent_context* ctx, const diffevent_image* blurry, const diffevent_events* events,
    const diffevent_edi_params* params, diffevent_image** out);
/** `count` EDI frames at t_k = t0 + (k + 1/2) T / count. out_frames: caller array of `count`
 *  slots, each receiving an image the caller destroys. out_times_us: caller array of `count`
 *  (may be NULL). */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_edi_frames(diffevent_context* ctx, const diffevent_image* blurry,
                     const diffevent_events* events, const diffevent_edi_params* params,
                     int32_t count, diffevent_image** out_frames, int64_t* out_times_us);
/** Estimates a symmetric threshold by EDI's sharpness energy (thresholds in `params` are
 *  ignored). out: filled up to out->struct_size. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_estimate_threshold(
    diffevent_context* ctx, const diffevent_image* blurry, const diffevent_events* events,
    const diffevent_edi_params* params, const diffevent_threshold_params* search,
    diffevent_threshold_estimate* out);

/* ------------------------------------------------------------------------------------------ */
/* Simulator                                                                                  */
/* ------------------------------------------------------------------------------------------ */

typedef struct diffevent_simulator_params {
  uint32_t struct_size;
  int32_t width;         /**< Sensor size; 0 (default) = the source's size (the source */
  int32_t height;        /**<   is cropped around its centre otherwise). */
  int32_t min_samples;   /**< Motion samples at least (default 64). */
  int64_t exposure_us;   /**< Exposure (default 20000). */
  int64_t refractory_us; /**< Refractory period (default 0). */
  double c_pos;          /**< Thresholds (defaults 0.2). */
  double c_neg;
  double threshold_sigma; /**< Per-pixel threshold mismatch (default 0). */
  double shot_noise_hz;   /**< Spurious events per pixel per second (default 0). */
  double leak_hz;         /**< Leak events per pixel per second (default 0). */
  double log_eps;         /**< L = log(I + log_eps) (default 1e-3). */
  double max_step_px;     /**< Motion per rendered sample (default 0.05). */
  double dx_px;           /**< Camera motion over the exposure: translation, */
  double dy_px;
  double rotation_rad; /**<   rotation and */
  double zoom;         /**<   zoom (default 1 = none). */
  uint64_t seed;       /**< Noise seed (default 0). */
} diffevent_simulator_params;

DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_simulator_params_init(diffevent_simulator_params* params);
/** Simulates a blurry frame and its events from a sharp linear source image moving as the
 *  params say. out_events, out_blurry, out_sharp: each receives a new handle the caller
 *  destroys (out_sharp may be NULL). The events carry the exposure [0, exposure_us]. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_simulate(
    diffevent_context* ctx, const diffevent_image* source, const diffevent_simulator_params* params,
    diffevent_events** out_events, diffevent_image** out_blurry, diffevent_image** out_sharp);

/* ------------------------------------------------------------------------------------------ */
/* Enhancers, priors and the deblurring sampler (need LibTorch)                               */
/* ------------------------------------------------------------------------------------------ */

#define DIFFEVENT_ENHANCER_IDENTITY 0    /**< f(E) = E. */
#define DIFFEVENT_ENHANCER_GUIDED 1      /**< Self-guided filter of E. */
#define DIFFEVENT_ENHANCER_TORCHSCRIPT 2 /**< A TorchScript module forward(E, y) -> f(E). */

typedef struct diffevent_enhancer_params {
  uint32_t struct_size;
  int32_t kind;          /**< DIFFEVENT_ENHANCER_* (_init: deblur's f(E)). */
  int32_t guided_radius; /**< Guided filter radius in pixels. */
  int32_t reserved0;
  double guided_eps; /**< Guided filter regulariser. */
  const char* path;  /**< TORCHSCRIPT: the module file. Copied. */
} diffevent_enhancer_params;

DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_enhancer_params_init(diffevent_enhancer_params* params);
/** f(E) for a double integral E (1 x H x W) and the blurry frame y (C x H x W, linear).
 *  out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_enhance(
    diffevent_context* ctx, const diffevent_image* integral, const diffevent_image* blurry,
    const diffevent_enhancer_params* params, diffevent_image** out);

/** A diffusion prior (noise-prediction network or the analytic Gaussian prior). */
typedef struct diffevent_prior diffevent_prior;

typedef struct diffevent_prior_params {
  uint32_t struct_size;
  int32_t half_precision;       /**< Run in float16 (CUDA only; default 0). */
  const char* device;           /**< "cpu" (default, also for NULL) or "cuda:N". Copied. */
  int32_t intra_op_threads;     /**< 0 (default): leave LibTorch's setting. */
  int32_t keep_malloc_settings; /**< 0 (default): on the CPU, keep the network's freed memory in
                                     the heap between calls (glibc malloc thresholds, process-wide;
                                     3.5x faster); diffevent_deblur releases it when it returns.
                                     1: leave malloc as the host set it. (API version 5; was
                                     reserved0: same layout.) */
} diffevent_prior_params;

#define DIFFEVENT_SCHEDULE_LINEAR 0
#define DIFFEVENT_SCHEDULE_COSINE 1
typedef struct diffevent_prior_metadata {
  uint32_t struct_size;
  int32_t channels;      /**< Image channels the network models. */
  int32_t schedule;      /**< DIFFEVENT_SCHEDULE_*. */
  int32_t num_timesteps; /**< Training steps T. */
  int32_t learned_sigma; /**< 1: outputs eps and the variance interpolation v. */
  int32_t size_multiple; /**< Inputs are padded to a multiple of this. */
  double data_min;       /**< Data range the network was trained on. */
  double data_max;
} diffevent_prior_metadata;

DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_prior_params_init(diffevent_prior_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_prior_metadata_init(diffevent_prior_metadata* metadata);
/** Loads a TorchScript prior with its metadata JSON (extra file "metadata.json").
 *  out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_prior_load(diffevent_context* ctx, const char* path, const diffevent_prior_params* params,
                     diffevent_prior** out);
/** Roles of the shipped priors (API version 6). */
#define DIFFEVENT_PRIOR_ROLE_X 0 /**< The sharp image x. */
#define DIFFEVENT_PRIOR_ROLE_R 1 /**< The residual r. */

/** The path of the shipped prior for a role and channel count (1: grey, 3: RGB), as the CLI
 *  finds it (API version 6): in $DIFFEVENT_MODELS when set, then in the models folder of this
 *  library's install (LIBDIR/../share/diffevent/models), then in the source tree it was built
 *  from. Copies the NUL-terminated path into `out` (may be NULL when capacity is 0) and its
 *  length, NUL included, into *out_length (may be NULL). A buffer too small:
 *  DIFFEVENT_E_BUFFER_TOO_SMALL with *out_length set. None found: DIFFEVENT_E_IO naming the
 *  folders looked in. Needs no LibTorch. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_shipped_prior_path(
    int32_t role, int32_t channels, char* out, size_t capacity, size_t* out_length);
/** diffevent_prior_load of the shipped prior (diffevent_shipped_prior_path). out: caller
 *  destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_prior_load_shipped(diffevent_context* ctx, int32_t role, int32_t channels,
                             const diffevent_prior_params* params, diffevent_prior** out);
/** The analytic prior: x ~ N(0, 1) per pixel in the network's [-1, 1] units (what
 *  diffevent_deblur uses when given no x prior). channels 1 or 3. out: caller destroys. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_prior_create_analytic(int32_t channels, diffevent_prior** out);
/** Destroys a prior (NULL: no-op). No sampling run may be using it. */
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_prior_destroy(diffevent_prior* prior);
/** out: filled up to out->struct_size. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_prior_get_metadata(const diffevent_prior* prior, diffevent_prior_metadata* out);

#define DIFFEVENT_GUIDANCE_PROXIMAL 0 /**< Closed-form proximal step (default). */
#define DIFFEVENT_GUIDANCE_SIGMA2 1   /**< Gradient step scaled by sigma_t^2 (slides eq. 13). */
#define DIFFEVENT_GUIDANCE_CONSTANT 2 /**< Gradient step with constant scale (GDP). */

/** How E interpolates the log intensity between a pixel's events (docs/edi.md). */
#define DIFFEVENT_INTEGRAL_DEFAULT 0 /**< The library's default (RAMP). */
#define DIFFEVENT_INTEGRAL_STEP 1    /**< EDI's jumps at events. */
#define DIFFEVENT_INTEGRAL_RAMP 2    /**< Ramps into each event's level. */

#define DIFFEVENT_VARIANCE_FIXED_SMALL 0
#define DIFFEVENT_VARIANCE_FIXED_LARGE 1

/** Options of diffevent_deblur. Every default is set by diffevent_deblur_params_init (or
 *  _init_preset) from the library's own options (the C++ DeblurOptions), the same values the
 *  CLI shows in `diffevent deblur --help`; the comments below say what each field means.
 *
 *  API version 7 changed this layout: the EDI options are referred to through `edi` instead of
 *  being embedded, so diffevent_edi_params can grow. A struct_size of at most 264 bytes is read
 *  as the layout of versions 1 to 6 (with its embedded EDI parameters), so programs built
 *  against those headers keep working unchanged; this layout's sizes start at 272. */
typedef struct diffevent_deblur_params {
  uint32_t struct_size;
  int32_t steps; /**< Steps spaced over the whole schedule (a warm start runs start * steps). */
  const diffevent_edi_params* edi; /**< Exposure, reference time (has_tau), thresholds, sRGB,
                                        min_integral. NULL: diffevent_edi_params_init's. Read
                                        during the call only. */
  int32_t auto_threshold;          /**< 1: estimate c first (edi's thresholds ignored). */
  int32_t enhancer_kind;           /**< DIFFEVENT_ENHANCER_*: f(E). */
  const char* enhancer_path;       /**< TORCHSCRIPT enhancer file. Copied. */
  int32_t guided_radius;           /**< Guided filter window radius (pixels). */
  int32_t guidance;                /**< DIFFEVENT_GUIDANCE_*. */
  double guided_eps;               /**< Guided filter regulariser. */
  const char* respacing;     /**< guided-diffusion respacing ("100", "ddim25"); NULL/"" = steps. */
  int32_t ddim;              /**< 1: DDIM steps. */
  int32_t variance;          /**< DIFFEVENT_VARIANCE_* for priors without learned sigma. */
  double eta;                /**< DDIM noise, in [0, 1]. */
  double s;                  /**< Data weight of the x step (per unit data weight). */
  double s_r;                /**< Data weight of the r step. */
  double lambda_tv;          /**< TV weight on x, relative to s. */
  double lambda_l1;          /**< L1 weight on r. */
  double min_prior_variance; /**< Variance floor of the clean prediction. */
  int32_t clip;              /**< 1: clamp clean predictions to [-1, 1]. */
  int32_t tile_size;         /**< Network tile size and stride; 0: from the prior */
  int32_t tile_stride;       /**<   (docs/sampler.md, "Options"). */
  int32_t integral;          /**< DIFFEVENT_INTEGRAL_*: how E interpolates between events. */
  int64_t tile_above_pixels; /**< Tile frames larger than this; 0: from the prior. */
  uint64_t seed;             /**< Random seed. */
  diffevent_progress_fn progress; /**< Called after each step with (done, total). */
  void* progress_user_data;
  double start;           /**< Start of sampling as a fraction of the schedule, in (0, 1]: 1
                               from pure noise; below 1 a warm start from the EDI estimate,
                               running about start * steps steps. */
  double threshold_sigma; /**< Threshold noise model: the sensor's per-pixel threshold
                               mismatch std, weighting each pixel's data by the residual the
                               thresholds leave there; 0 = off. */
  int32_t samples;        /**< Posterior samples averaged, 1 to 64 (the preset's): one batch,
                               the same network calls. */
  int32_t antithetic;     /**< 1: the samples' noise in antithetic pairs, whose average cancels
                               the noise's first-order effect (the preset's). */
  int32_t residual_prior; /**< 1: run the r prior passed to diffevent_deblur; 0: r = 0, half the
                               network calls (the preset's). */
  int32_t reserved0;
  uint64_t reserved_layout[10]; /**< Keeps this layout's sizes apart from the version 1-6
                                     layout's; must be 0. */
} diffevent_deblur_params;

/** Presets of diffevent_deblur_params_init_preset: samples, antithetic and residual_prior
 *  (docs/sampler.md, "Presets", with their measured seconds and PSNR). */
#define DIFFEVENT_PRESET_FAST 0     /**< One sample, no residual prior. */
#define DIFFEVENT_PRESET_BALANCED 1 /**< An antithetic pair, no residual prior: _init's. */
#define DIFFEVENT_PRESET_BEST 2     /**< Four antithetic pairs and the residual prior. */

/** Fills params with the library's defaults (the BALANCED preset; edi = NULL). */
DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_deblur_params_init(diffevent_deblur_params* params);
/** Fills params with the defaults of a DIFFEVENT_PRESET_* (API version 5). An unknown preset
 *  is DIFFEVENT_ERROR_INVALID_ARGUMENT, params untouched. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL
diffevent_deblur_params_init_preset(diffevent_deblur_params* params, int32_t preset);
/** Deblurs one frame with the EBRD model y = f(E) x + r and the alternating sampler.
 *  x_prior: NULL = analytic prior. r_prior: NULL = no residual (r = 0).
 *  out_sharp: receives x in [0,1] (sRGB-encoded when edi.linearize_srgb). out_residual: may be
 *  NULL; receives r (zero-centred, linear). Both caller-destroyed. out_threshold: may be NULL;
 *  receives the threshold used. Deterministic for a fixed seed, prior and device; the same
 *  bytes as `diffevent deblur` with the same options. Cancellable between steps. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_deblur(
    diffevent_context* ctx, const diffevent_image* blurry, const diffevent_events* events,
    diffevent_prior* x_prior, diffevent_prior* r_prior, const diffevent_deblur_params* params,
    diffevent_image** out_sharp, diffevent_image** out_residual, double* out_threshold);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DIFFEVENT_DIFFEVENT_H_ */
