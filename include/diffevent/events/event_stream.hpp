#pragma once
/// \file event_stream.hpp
/// EventStream: a validated structure-of-arrays of events from one sensor.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "diffevent/core/error.hpp"
#include "diffevent/core/export.hpp"

namespace diffevent {
inline namespace v1 {

/// Time in microseconds. Every timestamp in the library uses this unit.
using TimestampUs = int64_t;

/// How polarities are encoded in the arrays handed to EventStream::from_arrays.
enum class PolarityEncoding {
  kAuto,         ///< Accept {0,1} and {-1,+1} (0 means OFF); anything else is an error.
  kZeroOne,      ///< Only 0 (OFF) and 1 (ON).
  kMinusPlusOne  ///< Only -1 (OFF) and +1 (ON).
};

/// Options for EventStream::from_arrays.
struct IngestOptions {
  /// When true, a stream whose timestamps decrease is stably sorted instead of rejected.
  bool sort_if_unsorted = false;
  PolarityEncoding polarity = PolarityEncoding::kAuto;
};

namespace detail {
class EventBuilder;
}  // namespace detail

/// A time-sorted stream of events from a width x height sensor, stored as four parallel arrays.
///
/// Invariants (established by from_arrays and kept by every method): all arrays have the same
/// length; 0 <= x < width and 0 <= y < height; timestamps are non-decreasing; polarity is +1
/// (brightness increased by one contrast threshold) or -1 (decreased).
///
/// \code
///   auto ev = EventStream::from_arrays(346, 260, t_us, xs, ys, ps);
///   EventStream window = ev.slice_time(1000, 21000);   // [1000, 21000) us
/// \endcode
class DIFFEVENT_API EventStream {
 public:
  EventStream() = default;
  /// An empty stream for a width x height sensor (both must be in [1, 65535]).
  EventStream(int width, int height);

  /// Validates and takes the arrays. Errors name the first offending index and values.
  /// `p` accepts {0,1} or {-1,+1} as set by options.polarity.
  static EventStream from_arrays(int width, int height, std::vector<TimestampUs> t_us,
                                 std::vector<uint16_t> x, std::vector<uint16_t> y,
                                 std::vector<int8_t> p, const IngestOptions& options = {});

  /// Same as from_arrays but from wider integer coordinates, range-checked before narrowing.
  static EventStream from_arrays_checked(int width, int height, std::vector<TimestampUs> t_us,
                                         const std::vector<int64_t>& x,
                                         const std::vector<int64_t>& y,
                                         const std::vector<int64_t>& p,
                                         const IngestOptions& options = {});

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  size_t size() const noexcept { return t_.size(); }
  bool empty() const noexcept { return t_.empty(); }

  const std::vector<TimestampUs>& t_us() const noexcept { return t_; }
  const std::vector<uint16_t>& x() const noexcept { return x_; }
  const std::vector<uint16_t>& y() const noexcept { return y_; }
  const std::vector<int8_t>& p() const noexcept { return p_; }

  /// First and last timestamp; throws kOutOfRange on an empty stream.
  TimestampUs t_begin() const;
  TimestampUs t_end() const;

  /// Index range [first, last) of events with t0 <= t < t1 (binary search, O(log n)).
  std::pair<size_t, size_t> index_range(TimestampUs t0_us, TimestampUs t1_us) const;
  /// Copy of the events with t0 <= t < t1.
  EventStream slice_time(TimestampUs t0_us, TimestampUs t1_us) const;
  /// Copy of events [first, last) by index.
  EventStream slice_index(size_t first, size_t last) const;

  /// Appends events already validated elsewhere; checks order against the current last event.
  void append(const EventStream& other);
  /// The same events on a sensor at least as large in both sides (a file that did not state its
  /// size, read for a frame whose size is known). Moves the arrays: O(1). Throws
  /// kInvalidArgument if the new size is smaller or invalid.
  EventStream with_sensor_size(int width, int height) &&;
  /// Adds a constant to every timestamp (e.g. to shift sensor time to exposure-relative time).
  void shift_time(TimestampUs offset_us);
  /// Reserves capacity for n events in every array.
  void reserve(size_t n);
  /// Appends one event, validating coordinates, polarity and time order.
  void push_back(TimestampUs t_us, int x, int y, int polarity);

  /// Bytes held by the four arrays (what "in-memory size" means in the docs): 13 per event.
  size_t memory_bytes() const noexcept {
    return t_.size() * (sizeof(TimestampUs) + 2 * sizeof(uint16_t) + 1);
  }

 private:
  // The readers' builder hands over arrays it has already checked event by event.
  friend class detail::EventBuilder;
  int width_ = 0;
  int height_ = 0;
  std::vector<TimestampUs> t_;
  std::vector<uint16_t> x_;
  std::vector<uint16_t> y_;
  std::vector<int8_t> p_;
};

}  // namespace v1
}  // namespace diffevent
