#pragma once
/// \file check.hpp
/// The checking macros used at every API boundary. Private to the library and its tools: the
/// public headers stay free of fmt.

#include <fmt/format.h>

#include "diffevent/core/error.hpp"

/// Throws diffevent::Error(code, fmt::format(...)) when `cond` is false. For user errors.
#define DIFFEVENT_CHECK(cond, code, ...)                            \
  do {                                                              \
    if (!(cond)) {                                                  \
      throw ::diffevent::Error((code), ::fmt::format(__VA_ARGS__)); \
    }                                                               \
  } while (0)

/// Throws diffevent::Error(kInternal) when an invariant is broken (a bug, not a user error).
#define DIFFEVENT_ASSERT(cond)                                                             \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      throw ::diffevent::Error(                                                            \
          ::diffevent::ErrorCode::kInternal,                                               \
          ::fmt::format("internal error: {} failed at {}:{}", #cond, __FILE__, __LINE__)); \
    }                                                                                      \
  } while (0)

#ifndef NDEBUG
#define DIFFEVENT_DEBUG_ASSERT(cond) DIFFEVENT_ASSERT(cond)
#else
#define DIFFEVENT_DEBUG_ASSERT(cond) \
  do {                               \
  } while (0)
#endif
