#pragma once
/// \file exposure.hpp
/// The exposure window of a frame.

#include <cstdint>

#include "diffevent/events/event_stream.hpp"

namespace diffevent {
inline namespace v1 {

/// An exposure window [t0_us, t1_us] in microseconds. Every function that takes one checks
/// valid() first; duration_us() and mid_us() never overflow, whatever the values.
struct Exposure {
  TimestampUs t0_us = 0;
  TimestampUs t1_us = 0;
  /// t0 < t1, and t1 - t0 fits in a TimestampUs (below 2^63 us).
  bool valid() const noexcept {
    return t0_us < t1_us && span() <= static_cast<uint64_t>(INT64_MAX);
  }
  /// t1 - t0 (for a valid exposure; 0 otherwise).
  TimestampUs duration_us() const noexcept {
    return valid() ? static_cast<TimestampUs>(span()) : 0;
  }
  /// t0 + (t1 - t0) / 2, rounded towards t0 (for t1 >= t0; t0 otherwise).
  TimestampUs mid_us() const noexcept {
    return t1_us >= t0_us ? static_cast<TimestampUs>(static_cast<uint64_t>(t0_us) + span() / 2)
                          : t0_us;
  }

 private:
  uint64_t span() const noexcept {
    return static_cast<uint64_t>(t1_us) - static_cast<uint64_t>(t0_us);
  }
};

}  // namespace v1
}  // namespace diffevent
