/* diffevent/c/image.h: the C API's images, their files and metrics. Part of diffevent/diffevent.h,
 * which documents the conventions every function follows; include that. */
#ifndef DIFFEVENT_C_IMAGE_H_
#define DIFFEVENT_C_IMAGE_H_

#include "diffevent/c/base.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DIFFEVENT_C_IMAGE_H_ */
