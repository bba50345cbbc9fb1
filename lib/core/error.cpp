#include "diffevent/core/error.hpp"

namespace diffevent {
inline namespace v1 {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kIoError:
      return "i/o error";
    case ErrorCode::kFormatError:
      return "format error";
    case ErrorCode::kOutOfRange:
      return "out of range";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kCancelled:
      return "cancelled";
    case ErrorCode::kInternal:
      return "internal error";
    case ErrorCode::kOutOfMemory:
      return "out of memory";
  }
  return "unknown error";
}

}  // namespace v1
}  // namespace diffevent
