/* diffevent/c/diffusion.h: the C API's enhancers, priors and DiffEvent deblurring (run in the
 * LibTorch plugin). Part of diffevent/diffevent.h, which documents the conventions every function
 * follows; include that. */
#ifndef DIFFEVENT_C_DIFFUSION_H_
#define DIFFEVENT_C_DIFFUSION_H_

#include "diffevent/c/edi.h"

#ifdef __cplusplus
extern "C" {
#endif

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
  int32_t auto_threshold;          /**< 1: estimate c first (edi's thresholds ignored), over
                                        the default interval; for another, call
                                        diffevent_estimate_threshold and pass its c. */
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
  double start_threshold;       /**< The threshold at which `start` holds (default 0.2): for
                                     another threshold c the warm start's noise level scales by
                                     c / start_threshold; 0 = `start` as given (API 11). */
  double robust_residual;       /**< Without a residual prior: residuals beyond this many
                                     deviations of the threshold noise model become r (a soft
                                     threshold), so pixels whose events are far off stop pulling
                                     x; 0 = off, r = 0 (the preset's: 10; API 12). */
  double start_threshold_max;   /**< The largest threshold the warm start follows: a larger c
                                     starts where this one does; 0 = no limit (the preset's: 1,
                                     FAST 0.6, PAPER 0; API 13). */
} diffevent_deblur_params;

/** Presets of diffevent_deblur_params_init_preset: samples, antithetic, residual_prior, start,
 *  threshold_sigma, robust_residual and start_threshold_max (docs/sampler.md, "Presets", with
 *  their measured seconds and PSNR). */
#define DIFFEVENT_PRESET_FAST 0     /**< One sample, no residual prior. */
#define DIFFEVENT_PRESET_BALANCED 1 /**< An antithetic pair, no residual prior: _init's. */
#define DIFFEVENT_PRESET_BEST 2     /**< Four antithetic pairs, no residual prior (API 12). */
#define DIFFEVENT_PRESET_PAPER                                 \
  3 /**< The slides' Algorithm 1: from pure noise, one sample, \
         uniform data weights, the residual prior (API 9). */
#define DIFFEVENT_PRESET_NOISY                                     \
  4 /**< BALANCED's pair trusting the events less (threshold_sigma \
         0.05, start 0.05): for sensors with strong threshold      \
         mismatch or many noise events (API 11). */

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

#endif /* DIFFEVENT_C_DIFFUSION_H_ */
