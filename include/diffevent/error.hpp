#pragma once
/// \file error.hpp
/// Error type and the checking macros used at every API boundary.

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "diffevent/export.hpp"

namespace diffevent {
inline namespace v1 {

/// Category of a failure. The numeric values are stable and reused by the C API.
enum class ErrorCode : int {
  kOk = 0,
  kInvalidArgument = 1,  ///< A caller-supplied value is out of range or malformed.
  kIoError = 2,          ///< A file could not be opened, read or written.
  kFormatError = 3,      ///< A file's content is malformed, truncated or unsupported.
  kOutOfRange = 4,       ///< An index, coordinate or time lies outside its valid range.
  kUnsupported = 5,      ///< The feature was not compiled in or is not implemented for this input.
  kCancelled = 6,        ///< A progress callback asked to stop.
  kInternal = 7,         ///< A broken invariant: a bug in diffevent.
  kOutOfMemory = 8,      ///< An allocation failed; the message names the file or the step.
};

/// Returns a short stable name for a code, e.g. "invalid argument".
DIFFEVENT_API const char* error_code_name(ErrorCode code) noexcept;

/// The one exception type diffevent throws. `what()` is a complete, one-line message.
class DIFFEVENT_API Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace v1
}  // namespace diffevent

/// Throws diffevent::Error(code, fmt::format(...)) when `cond` is false. For user errors.
#define DIFFEVENT_CHECK(cond, code, ...)                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      throw ::diffevent::Error((code), ::fmt::format(__VA_ARGS__));        \
    }                                                                      \
  } while (0)

/// Throws diffevent::Error(kInternal) when an invariant is broken (a bug, not a user error).
#define DIFFEVENT_ASSERT(cond)                                                                   \
  do {                                                                                           \
    if (!(cond)) {                                                                               \
      throw ::diffevent::Error(::diffevent::ErrorCode::kInternal,                                \
                               ::fmt::format("internal error: {} failed at {}:{}", #cond,        \
                                             __FILE__, __LINE__));                               \
    }                                                                                            \
  } while (0)

#ifndef NDEBUG
#define DIFFEVENT_DEBUG_ASSERT(cond) DIFFEVENT_ASSERT(cond)
#else
#define DIFFEVENT_DEBUG_ASSERT(cond) \
  do {                               \
  } while (0)
#endif
