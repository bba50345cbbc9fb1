/* diffevent/c/edi.h: the C API's the double integral, EDI deblurring and the threshold search. Part
 * of diffevent/diffevent.h, which documents the conventions every function follows; include that.
 */
#ifndef DIFFEVENT_C_EDI_H_
#define DIFFEVENT_C_EDI_H_

#include "diffevent/c/events.h"

#ifdef __cplusplus
extern "C" {
#endif

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
  double c_min;      /**< Search interval (defaults 0.05 and 4.0). */
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
  /** Standard error of c: the spread of the minimisers over a 3 x 3 grid of cells (version
   *  10; docs/edi.md). */
  double std_error;
} diffevent_threshold_estimate;

/** Options of the sensor-threshold estimate (diffevent_estimate_sensor_threshold; version 14;
 *  docs/edi.md, "The sensor's threshold"). */
typedef struct diffevent_sensor_threshold_params {
  uint32_t struct_size;
  int32_t block_px;         /**< Side of the blocks that get their own velocity (default 40). */
  double max_motion_px;     /**< Largest motion over the exposure searched, per axis (32). */
  double min_peak;          /**< A block's velocity counts when its best contrast is this many
                                 times the median over the velocities searched (1.5). */
  double gradient_quantile; /**< Pixels used: |v . grad y| / y at or above this quantile (0.9). */
  double c_min;             /**< Range of the per-pixel thresholds (0.01 and 20). */
  double c_max;
  int32_t reference_at_start; /**< 1: every pixel's reference level was reset when the exposure
                                   began (simulated data); 0: a random phase (a sensor). */
  int32_t reserved0;
} diffevent_sensor_threshold_params;

/** Result of the sensor-threshold estimate. */
typedef struct diffevent_sensor_threshold_estimate {
  uint32_t struct_size;
  int32_t blocks;   /**< Blocks whose events gave a clear velocity. */
  double c;         /**< The sensor's median threshold (log units). */
  double std_error; /**< Spread of the blocks' medians / sqrt(count); 0 below 3 blocks. */
  int64_t pixels;   /**< Pixels in the median. */
  double motion_px; /**< Median motion over the exposure of the blocks (pixels). */
  int32_t at_bound; /**< 1 when c is at c_min or c_max: suspect. */
  int32_t reserved0;
  double c_pos;       /**< Median over the pixels that brightened (ON); 0 below 25 of them. */
  double c_neg;       /**< Median over the pixels that darkened (OFF); 0 below 25 of them. */
  int64_t pixels_pos; /**< Pixels in c_pos and in c_neg. */
  int64_t pixels_neg;
} diffevent_sensor_threshold_estimate;

DIFFEVENT_C_API void DIFFEVENT_CALL diffevent_edi_params_init(diffevent_edi_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_threshold_params_init(diffevent_threshold_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_threshold_estimate_init(diffevent_threshold_estimate* estimate);
DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_sensor_threshold_params_init(diffevent_sensor_threshold_params* params);
DIFFEVENT_C_API void DIFFEVENT_CALL
diffevent_sensor_threshold_estimate_init(diffevent_sensor_threshold_estimate* estimate);

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

/** Estimates the sensor's own threshold (the median of its pixels' thresholds) from the blur
 *  the events explain, not from sharpness; under a strong per-pixel mismatch it differs from
 *  diffevent_estimate_threshold's, which optimises the image (of `params` its exposure and
 *  linearize_srgb are used; the context's threads run the blocks). DIFFEVENT_E_INVALID_ARGUMENT
 *  naming the count when fewer than 50 pixels qualify (no moving edges, too few events).
 *  out: filled up to out->struct_size. */
DIFFEVENT_C_API diffevent_status DIFFEVENT_CALL diffevent_estimate_sensor_threshold(
    diffevent_context* ctx, const diffevent_image* blurry, const diffevent_events* events,
    const diffevent_edi_params* params, const diffevent_sensor_threshold_params* options,
    diffevent_sensor_threshold_estimate* out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DIFFEVENT_C_EDI_H_ */
