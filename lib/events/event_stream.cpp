#include "diffevent/events/event_stream.hpp"

#include <algorithm>
#include <numeric>

#include "core/check.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

void check_sensor(int width, int height) {
  DIFFEVENT_CHECK(
      width >= 1 && width <= 65535 && height >= 1 && height <= 65535, ErrorCode::kInvalidArgument,
      "events: sensor size {}x{} is invalid (each side must be in [1, 65535])", width, height);
}

int8_t normalize_polarity(int64_t raw, size_t index, PolarityEncoding enc) {
  const bool zero_one = raw == 0 || raw == 1;
  const bool plus_minus = raw == -1 || raw == 1;
  bool ok = false;
  switch (enc) {
    case PolarityEncoding::kAuto:
      ok = zero_one || plus_minus;
      break;
    case PolarityEncoding::kZeroOne:
      ok = zero_one;
      break;
    case PolarityEncoding::kMinusPlusOne:
      ok = plus_minus;
      break;
  }
  DIFFEVENT_CHECK(ok, ErrorCode::kInvalidArgument,
                  "events: polarity at index {} is {} (expected {})", index, raw,
                  enc == PolarityEncoding::kZeroOne        ? "0 or 1"
                  : enc == PolarityEncoding::kMinusPlusOne ? "-1 or +1"
                                                           : "0/1 or -1/+1");
  return raw == 1 ? int8_t{1} : int8_t{-1};
}

}  // namespace

EventStream::EventStream(int width, int height) : width_(width), height_(height) {
  check_sensor(width, height);
}

EventStream EventStream::from_arrays(int width, int height, std::vector<TimestampUs> t_us,
                                     std::vector<uint16_t> x, std::vector<uint16_t> y,
                                     std::vector<int8_t> p, const IngestOptions& options) {
  check_sensor(width, height);
  const size_t n = t_us.size();
  DIFFEVENT_CHECK(x.size() == n && y.size() == n && p.size() == n, ErrorCode::kInvalidArgument,
                  "events: array lengths differ (t: {}, x: {}, y: {}, p: {})", n, x.size(),
                  y.size(), p.size());
  // One branch-free pass over the arrays checks coordinates, polarities and order (it
  // vectorises: ingesting runs at memory speed); only arrays that fail are walked again, event
  // by event, to name the first bad one.
  uint16_t max_x = 0, max_y = 0;
  bool polarity_ok = true, decreasing = false;
  for (size_t i = 0; i < n; ++i) {
    max_x = std::max(max_x, x[i]);
    max_y = std::max(max_y, y[i]);
    polarity_ok &= p[i] == 1 || p[i] == -1;
  }
  for (size_t i = 1; i < n; ++i) decreasing |= t_us[i] < t_us[i - 1];
  // Polarities already +1/-1 stay as they are, unless the encoding is 0/1 (where -1 is refused).
  const bool polarity_final = polarity_ok && options.polarity != PolarityEncoding::kZeroOne;
  if (n > 0 && (max_x >= width || max_y >= height || !polarity_final)) {
    for (size_t i = 0; i < n; ++i) {
      DIFFEVENT_CHECK(x[i] < width && y[i] < height, ErrorCode::kOutOfRange,
                      "events: event at index {} has (x, y) = ({}, {}) outside the {}x{} sensor", i,
                      x[i], y[i], width, height);
      p[i] = normalize_polarity(p[i], i, options.polarity);
    }
  }
  size_t bad = n;
  if (decreasing) {
    for (size_t i = 1; i < n; ++i) {
      if (t_us[i] < t_us[i - 1]) {
        bad = i;
        break;
      }
    }
  }
  if (bad != n) {
    DIFFEVENT_CHECK(
        options.sort_if_unsorted, ErrorCode::kInvalidArgument,
        "events: timestamp at index {} ({} us) is earlier than the one before it ({} us)", bad,
        t_us[bad], t_us[bad - 1]);
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return t_us[a] < t_us[b]; });
    auto permute = [&](auto& v) {
      std::remove_reference_t<decltype(v)> out(n);
      for (size_t i = 0; i < n; ++i) out[i] = v[order[i]];
      v.swap(out);
    };
    permute(t_us);
    permute(x);
    permute(y);
    permute(p);
  }
  EventStream s(width, height);
  s.t_ = std::move(t_us);
  s.x_ = std::move(x);
  s.y_ = std::move(y);
  s.p_ = std::move(p);
  return s;
}

EventStream EventStream::from_arrays_checked(int width, int height, std::vector<TimestampUs> t_us,
                                             const std::vector<int64_t>& x,
                                             const std::vector<int64_t>& y,
                                             const std::vector<int64_t>& p,
                                             const IngestOptions& options) {
  check_sensor(width, height);
  const size_t n = t_us.size();
  DIFFEVENT_CHECK(x.size() == n && y.size() == n && p.size() == n, ErrorCode::kInvalidArgument,
                  "events: array lengths differ (t: {}, x: {}, y: {}, p: {})", n, x.size(),
                  y.size(), p.size());
  std::vector<uint16_t> xs(n), ys(n);
  std::vector<int8_t> ps(n);
  for (size_t i = 0; i < n; ++i) {
    DIFFEVENT_CHECK(x[i] >= 0 && x[i] < width && y[i] >= 0 && y[i] < height, ErrorCode::kOutOfRange,
                    "events: event at index {} has (x, y) = ({}, {}) outside the {}x{} sensor", i,
                    x[i], y[i], width, height);
    xs[i] = static_cast<uint16_t>(x[i]);
    ys[i] = static_cast<uint16_t>(y[i]);
    ps[i] = normalize_polarity(p[i], i, options.polarity);
  }
  IngestOptions o = options;
  o.polarity = PolarityEncoding::kMinusPlusOne;
  return from_arrays(width, height, std::move(t_us), std::move(xs), std::move(ys), std::move(ps),
                     o);
}

EventStream EventStream::with_sensor_size(int width, int height) && {
  check_sensor(width, height);
  DIFFEVENT_CHECK(width >= width_ && height >= height_, ErrorCode::kInvalidArgument,
                  "events: a {}x{} sensor cannot hold events of a {}x{} one", width, height, width_,
                  height_);
  width_ = width;
  height_ = height;
  return std::move(*this);
}

TimestampUs EventStream::t_begin() const {
  DIFFEVENT_CHECK(!t_.empty(), ErrorCode::kOutOfRange, "events: the stream is empty");
  return t_.front();
}

TimestampUs EventStream::t_end() const {
  DIFFEVENT_CHECK(!t_.empty(), ErrorCode::kOutOfRange, "events: the stream is empty");
  return t_.back();
}

std::pair<size_t, size_t> EventStream::index_range(TimestampUs t0_us, TimestampUs t1_us) const {
  DIFFEVENT_CHECK(t0_us <= t1_us, ErrorCode::kInvalidArgument,
                  "events: time window [{}, {}) us has its end before its start", t0_us, t1_us);
  const auto first = std::lower_bound(t_.begin(), t_.end(), t0_us);
  const auto last = std::lower_bound(first, t_.end(), t1_us);
  return {static_cast<size_t>(first - t_.begin()), static_cast<size_t>(last - t_.begin())};
}

EventStream EventStream::slice_time(TimestampUs t0_us, TimestampUs t1_us) const {
  const auto [a, b] = index_range(t0_us, t1_us);
  return slice_index(a, b);
}

EventStream EventStream::slice_index(size_t first, size_t last) const {
  DIFFEVENT_CHECK(first <= last && last <= size(), ErrorCode::kOutOfRange,
                  "events: index range [{}, {}) is outside [0, {})", first, last, size());
  EventStream s(width_, height_);
  const auto a = static_cast<std::ptrdiff_t>(first);
  const auto b = static_cast<std::ptrdiff_t>(last);
  s.t_.assign(t_.begin() + a, t_.begin() + b);
  s.x_.assign(x_.begin() + a, x_.begin() + b);
  s.y_.assign(y_.begin() + a, y_.begin() + b);
  s.p_.assign(p_.begin() + a, p_.begin() + b);
  return s;
}

void EventStream::append(const EventStream& other) {
  DIFFEVENT_CHECK(other.width_ == width_ && other.height_ == height_, ErrorCode::kInvalidArgument,
                  "events: cannot append a {}x{} stream to a {}x{} stream", other.width_,
                  other.height_, width_, height_);
  if (other.empty()) return;
  DIFFEVENT_CHECK(t_.empty() || other.t_.front() >= t_.back(), ErrorCode::kInvalidArgument,
                  "events: timestamp at index {} ({} us) is earlier than the one before it ({} us)",
                  t_.size(), other.t_.front(), t_.back());
  t_.insert(t_.end(), other.t_.begin(), other.t_.end());
  x_.insert(x_.end(), other.x_.begin(), other.x_.end());
  y_.insert(y_.end(), other.y_.begin(), other.y_.end());
  p_.insert(p_.end(), other.p_.begin(), other.p_.end());
}

void EventStream::shift_time(TimestampUs offset_us) {
  for (auto& t : t_) t += offset_us;
}

void EventStream::reserve(size_t n) {
  t_.reserve(n);
  x_.reserve(n);
  y_.reserve(n);
  p_.reserve(n);
}

void EventStream::push_back(TimestampUs t_us, int x, int y, int polarity) {
  const size_t i = t_.size();
  DIFFEVENT_CHECK(x >= 0 && x < width_ && y >= 0 && y < height_, ErrorCode::kOutOfRange,
                  "events: event at index {} has (x, y) = ({}, {}) outside the {}x{} sensor", i, x,
                  y, width_, height_);
  DIFFEVENT_CHECK(t_.empty() || t_us >= t_.back(), ErrorCode::kInvalidArgument,
                  "events: timestamp at index {} ({} us) is earlier than the one before it ({} us)",
                  i, t_us, t_.empty() ? 0 : t_.back());
  const int8_t p = normalize_polarity(polarity, i, PolarityEncoding::kAuto);
  t_.push_back(t_us);
  x_.push_back(static_cast<uint16_t>(x));
  y_.push_back(static_cast<uint16_t>(y));
  p_.push_back(p);
}

}  // namespace v1
}  // namespace diffevent
