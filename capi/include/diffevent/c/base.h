/* diffevent/c/base.h: the C API's versions, status codes and errors, callbacks, contexts, and the
 * export macros. Part of diffevent/diffevent.h, which documents the conventions every function
 * follows; include that. */
#ifndef DIFFEVENT_C_BASE_H_
#define DIFFEVENT_C_BASE_H_

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
#define DIFFEVENT_API_VERSION 14

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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DIFFEVENT_C_BASE_H_ */
