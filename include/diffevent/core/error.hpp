#pragma once
/// \file error.hpp
/// The one exception type diffevent throws, and its error codes.

#include <stdexcept>
#include <string>

#include "diffevent/core/export.hpp"

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
