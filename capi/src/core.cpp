// The C API: versions, error messages and contexts. Every entry point of the C API runs its
// body through guard() (internal.hpp), so no exception crosses the boundary, and assigns its
// out-parameters only after all work succeeded (Note [Untouched outputs]).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "diffevent/diffevent.h"
#include "diffevent/events.hpp"
#include "internal.hpp"
#include "plugin_loader.hpp"

using diffevent::Error;
using diffevent::ErrorCode;
using namespace diffevent_capi;

extern "C" {

// Versions and errors

uint32_t diffevent_version(void) { return DIFFEVENT_VERSION; }
const char* diffevent_version_string(void) { return DIFFEVENT_VERSION_STRING; }
uint32_t diffevent_api_version(void) { return DIFFEVENT_API_VERSION; }
int32_t diffevent_has_torch(void) { return torch_plugin_available() ? 1 : 0; }

const char* diffevent_last_error(void) { return last_error().c_str(); }

const char* diffevent_status_name(diffevent_status status) {
  switch (status) {
    case DIFFEVENT_E_OUT_OF_MEMORY:
      return "out of memory";
    case DIFFEVENT_E_BUFFER_TOO_SMALL:
      return "buffer too small";
    default:
      break;
  }
  if (status < DIFFEVENT_OK || status > DIFFEVENT_E_INTERNAL) return "unknown";
  return diffevent::error_code_name(static_cast<ErrorCode>(status));
}

// ---------------------------------------------------------------------------------------------
// Context

void diffevent_context_params_init(diffevent_context_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  p->num_threads = 1;
  p->log_level = DIFFEVENT_LOG_INFO;
}

diffevent_status diffevent_context_create(const diffevent_context_params* params,
                                          diffevent_context** out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(out);
    const auto p = read_params(params, diffevent_context_params_init, "diffevent_context_params");
    DIFFEVENT_CHECK(p.num_threads >= 1 && p.num_threads <= 1024, ErrorCode::kInvalidArgument,
                    "num_threads must be in [1, 1024], got {}", p.num_threads);
    DIFFEVENT_CHECK(p.reserved0 == 0, ErrorCode::kInvalidArgument, "reserved0 must be 0");
    DIFFEVENT_CHECK(p.log_level >= DIFFEVENT_LOG_ERROR && p.log_level <= DIFFEVENT_LOG_DEBUG,
                    ErrorCode::kInvalidArgument,
                    "log_level must be a DIFFEVENT_LOG_* value, got {}", p.log_level);
    auto ctx = std::make_unique<diffevent_context>();
    ctx->num_threads = p.num_threads;
    ctx->log = p.log;
    ctx->log_user_data = p.log_user_data;
    ctx->log_level = p.log_level;
    *out = ctx.release();
  });
}

void diffevent_context_destroy(diffevent_context* ctx) { delete ctx; }

diffevent_status diffevent_context_cancel(diffevent_context* ctx) {
  if (ctx == nullptr) return guard(__func__, [&] { REQUIRE_ARG(ctx); });
  ctx->cancel.store(true);
  return DIFFEVENT_OK;
}

diffevent_status diffevent_context_reset_cancel(diffevent_context* ctx) {
  if (ctx == nullptr) return guard(__func__, [&] { REQUIRE_ARG(ctx); });
  ctx->cancel.store(false);
  return DIFFEVENT_OK;
}

diffevent_status diffevent_context_is_cancelled(const diffevent_context* ctx, int32_t* out) {
  return guard(__func__, [&] {
    REQUIRE_ARG(ctx);
    REQUIRE_ARG(out);
    *out = ctx->cancel.load() ? 1 : 0;
  });
}

}  // extern "C"
