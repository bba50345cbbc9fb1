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

#include "diffevent/c/base.h"
#include "diffevent/c/diffusion.h"
#include "diffevent/c/edi.h"
#include "diffevent/c/events.h"
#include "diffevent/c/image.h"
#include "diffevent/c/recording.h"
#include "diffevent/c/simulator.h"

#endif /* DIFFEVENT_DIFFEVENT_H_ */
