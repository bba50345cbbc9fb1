/* diffevent/c/simulator.h: the C API's the event simulator. Part of diffevent/diffevent.h, which
 * documents the conventions every function follows; include that. */
#ifndef DIFFEVENT_C_SIMULATOR_H_
#define DIFFEVENT_C_SIMULATOR_H_

#include "diffevent/c/events.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DIFFEVENT_C_SIMULATOR_H_ */
