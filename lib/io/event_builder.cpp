#include "io/event_builder.hpp"

#include <algorithm>
#include <new>
#include <type_traits>

#include "core/check.hpp"
#ifdef __linux__
#include <sys/mman.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {

// Note [Reader memory bound]
// Readers never grow std::vectors by doubling (a 3x peak). They decode into 1M-event chunks
// whose four fields are separate blocks; finish() builds the final arrays one field at a time
// and frees each chunk's field right after copying it. The peak is all chunks plus the final
// timestamps (13 + 8 bytes per event, about 1.6x the in-memory size), measured in
// docs/performance.md.

namespace {
// Asks for transparent huge pages over a large buffer about to be filled: one fault per 2 MiB
// instead of per 4 KiB (first-touch faults were most of a fast reader's time).
void advise_huge_pages(const void* data, size_t bytes) {
#ifdef __linux__
  constexpr uintptr_t kPage = 4096;
  const uintptr_t a = (reinterpret_cast<uintptr_t>(data) + kPage - 1) & ~(kPage - 1);
  const uintptr_t b = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kPage - 1);
  if (b > a + (uintptr_t{2} << 20)) madvise(reinterpret_cast<void*>(a), b - a, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}
}  // namespace

template <typename T>
EventBuilder::Block<T>::Block() {
#ifdef __linux__
  void* p =
      mmap(nullptr, kChunk * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  p_ = static_cast<T*>(p);
  advise_huge_pages(p_, kChunk * sizeof(T));
#else
  p_ = new T[kChunk];
#endif
}

template <typename T>
void EventBuilder::Block<T>::reset() {
  if (!p_) return;
#ifdef __linux__
  munmap(p_, kChunk * sizeof(T));
#else
  delete[] p_;
#endif
  p_ = nullptr;
}

template class EventBuilder::Block<TimestampUs>;
template class EventBuilder::Block<uint16_t>;
template class EventBuilder::Block<int8_t>;

EventBuilder::EventBuilder(std::string source, int width, int height, const ReadOptions& options)
    : source_(std::move(source)),
      width_(width),
      height_(height),
      sort_(options.sort_if_unsorted),
      sink_(options.on_chunk),
      max_events_(static_cast<size_t>(std::max<int64_t>(options.max_events, 0))) {
  DIFFEVENT_CHECK(!(sink_ && sort_), ErrorCode::kInvalidArgument,
                  "'{}': streaming (on_chunk) cannot sort events; read without on_chunk to sort",
                  source_);
}

void EventBuilder::too_many() const {
  throw Error(
      ErrorCode::kOutOfRange,
      fmt::format("'{}': more than {} events (ReadOptions::max_events; raise it to read this file)",
                  source_, max_events_));
}

void EventBuilder::next_chunk() {
  // Streaming with a known sensor size hands each full chunk over and reuses it; without one,
  // chunks are kept until finish() can infer the size (memory then grows as for a whole read).
  if (sink_ && !chunks_.empty() && width_ > 0 && height_ > 0) {
    flush(chunks_.back(), fill_);
    fill_ = 0;
  } else {
    chunks_.emplace_back();
    fill_ = 0;
  }
}

void EventBuilder::flush(const Chunk& c, size_t n) {
  IngestOptions io;
  io.polarity = PolarityEncoding::kMinusPlusOne;
  const EventStream chunk =
      EventStream::from_arrays(width_, height_, std::vector<TimestampUs>(c.t.get(), c.t.get() + n),
                               std::vector<uint16_t>(c.x.get(), c.x.get() + n),
                               std::vector<uint16_t>(c.y.get(), c.y.get() + n),
                               std::vector<int8_t>(c.p.get(), c.p.get() + n), io);
  DIFFEVENT_CHECK(sink_(chunk), ErrorCode::kCancelled,
                  "'{}': reading cancelled by the chunk callback after {} events", source_, count_);
}

void EventBuilder::bad_coordinate(TimestampUs t, int64_t x, int64_t y) const {
  if (width_ > 0) {
    throw Error(ErrorCode::kOutOfRange,
                fmt::format("'{}': event at index {} (t = {} us) has (x, y) = ({}, {}) outside "
                            "the {}x{} sensor",
                            source_, count_, t, x, y, width_, height_));
  }
  throw Error(ErrorCode::kOutOfRange,
              fmt::format("'{}': event at index {} (t = {} us) has invalid coordinates ({}, {})",
                          source_, count_, t, x, y));
}

void EventBuilder::bad_order(TimestampUs t) const {
  throw Error(ErrorCode::kFormatError,
              fmt::format("'{}': timestamp at index {} ({} us) is earlier than the one before it "
                          "({} us); pass the sort option to sort the events",
                          source_, count_, t, last_t_));
}

void EventBuilder::expect(size_t n) {
  if (sink_ || n > max_events_ || count_ > 0) return;
  direct_ = true;
  direct_t_.reserve(n);
  direct_x_.reserve(n);
  direct_y_.reserve(n);
  direct_p_.reserve(n);
  advise_huge_pages(direct_t_.data(), n * sizeof(TimestampUs));
  advise_huge_pages(direct_x_.data(), n * sizeof(uint16_t));
  advise_huge_pages(direct_y_.data(), n * sizeof(uint16_t));
  advise_huge_pages(direct_p_.data(), n);
}

void EventBuilder::expect_about(size_t n) {
  if (sink_ || direct_ || prefix_) return;
  n = std::min(std::max(n, count_), max_events_);
  if (n == 0) return;
  try {
    direct_t_.reserve(n);
    direct_x_.reserve(n);
    direct_y_.reserve(n);
    direct_p_.reserve(n);
  } catch (const std::bad_alloc&) {  // an estimate beyond what the system grants: chunks
    std::vector<TimestampUs>().swap(direct_t_);
    std::vector<uint16_t>().swap(direct_x_);
    std::vector<uint16_t>().swap(direct_y_);
    std::vector<int8_t>().swap(direct_p_);
    return;
  }
  advise_huge_pages(direct_t_.data(), n * sizeof(TimestampUs));
  advise_huge_pages(direct_x_.data(), n * sizeof(uint16_t));
  advise_huge_pages(direct_y_.data(), n * sizeof(uint16_t));
  advise_huge_pages(direct_p_.data(), n);
  // The events so far (a first block or two) move from their chunks.
  for (size_t c = 0; c < chunks_.size(); ++c) {
    const size_t m = (c + 1 == chunks_.size()) ? fill_ : kChunk;
    Chunk& ch = chunks_[c];
    direct_t_.insert(direct_t_.end(), ch.t.get(), ch.t.get() + m);
    direct_x_.insert(direct_x_.end(), ch.x.get(), ch.x.get() + m);
    direct_y_.insert(direct_y_.end(), ch.y.get(), ch.y.get() + m);
    direct_p_.insert(direct_p_.end(), ch.p.get(), ch.p.get() + m);
  }
  chunks_.clear();
  fill_ = kChunk;
  direct_ = true;
}

void EventBuilder::spill_if_full(size_t m) {
  // Beyond the reservation the events go to chunks (never a doubling reallocation); finish()
  // joins the two.
  if (direct_ && direct_t_.size() + m > direct_t_.capacity()) {
    direct_ = false;
    prefix_ = true;
    fill_ = kChunk;
  }
}

namespace {
// One branch-free pass over a block: whether any coordinate lies outside the sensor (compared
// as unsigned, so a negative one wraps above any limit; an unknown side, 0, allows 65536),
// whether time decreases anywhere, and the largest coordinates.
template <typename Coord>
struct BlockScan {
  bool outside = false, decreasing = false;
  Coord mx = 0, my = 0;
};
template <typename Coord>
BlockScan<Coord> scan_block(const TimestampUs* t, const Coord* x, const Coord* y, size_t m,
                            int width, int height) {
  using U = std::make_unsigned_t<Coord>;
  using Limit = std::conditional_t<(sizeof(Coord) > 4), uint64_t, uint32_t>;
  const Limit x_limit = width > 0 ? static_cast<Limit>(width) : Limit{65536};
  const Limit y_limit = height > 0 ? static_cast<Limit>(height) : Limit{65536};
  BlockScan<Coord> s;
  TimestampUs prev = t[0];
  for (size_t i = 0; i < m; ++i) {
    s.outside |= (static_cast<Limit>(static_cast<U>(x[i])) >= x_limit) |
                 (static_cast<Limit>(static_cast<U>(y[i])) >= y_limit);
    s.decreasing |= t[i] < prev;
    prev = t[i];
    s.mx = std::max(s.mx, x[i]);
    s.my = std::max(s.my, y[i]);
  }
  return s;
}
}  // namespace

void EventBuilder::add_batch(const TimestampUs* t, const int64_t* x, const int64_t* y,
                             const int8_t* p, size_t m) {
  if (m == 0) return;
  const BlockScan<int64_t> s = scan_block(t, x, y, m, width_, height_);
  if (s.outside || m > max_events_ - count_ || (s.decreasing && !sort_)) {
    for (size_t i = 0; i < m; ++i) add(t[i], x[i], y[i], p[i]);  // throws at the first bad event
    return;
  }
  // Narrowed into scratch, then appended as a checked block.
  narrow_x_.resize(m);
  narrow_y_.resize(m);
  for (size_t i = 0; i < m; ++i) {
    narrow_x_[i] = static_cast<uint16_t>(x[i]);
    narrow_y_[i] = static_cast<uint16_t>(y[i]);
  }
  add_checked(t, narrow_x_.data(), narrow_y_.data(), p, m, static_cast<uint16_t>(s.mx),
              static_cast<uint16_t>(s.my), s.decreasing);
}

void EventBuilder::add_batch16(const TimestampUs* t, const uint16_t* x, const uint16_t* y,
                               const int8_t* p, size_t m) {
  if (m == 0) return;
  const BlockScan<uint16_t> s = scan_block(t, x, y, m, width_, height_);
  if (s.outside || (s.decreasing && !sort_)) {
    for (size_t i = 0; i < m; ++i) add(t[i], x[i], y[i], p[i]);  // throws at the first bad event
    return;
  }
  add_checked(t, x, y, p, m, s.mx, s.my, s.decreasing);
}

void EventBuilder::add_checked(const TimestampUs* t, const uint16_t* x, const uint16_t* y,
                               const int8_t* p, size_t m, uint16_t max_x, uint16_t max_y,
                               bool decreasing) {
  if (m == 0) return;
  DIFFEVENT_CHECK(!decreasing || sort_, ErrorCode::kInternal,
                  "'{}': add_checked given events out of order without the sort option", source_);
  if (m > max_events_ - count_) {
    // The limit falls inside this block: the event that passes it is named as add() names it.
    while (count_ < max_events_) {
      add(*t++, *x++, *y++, *p++);
      --m;
    }
    too_many();
  }
  if (count_ > 0 && t[0] < last_t_) {
    if (!sort_) bad_order(t[0]);
    unsorted_ = true;
  }
  unsorted_ = unsorted_ || decreasing;
  last_t_ = t[m - 1];
  max_x_ = std::max<int64_t>(max_x_, max_x);
  max_y_ = std::max<int64_t>(max_y_, max_y);
  spill_if_full(m);
  if (direct_) {
    direct_t_.insert(direct_t_.end(), t, t + m);
    direct_x_.insert(direct_x_.end(), x, x + m);
    direct_y_.insert(direct_y_.end(), y, y + m);
    direct_p_.insert(direct_p_.end(), p, p + m);
    count_ += m;
    return;
  }
  for (size_t done = 0; done < m;) {
    if (fill_ == kChunk) next_chunk();
    const size_t k = std::min(m - done, kChunk - fill_);
    Chunk& c = chunks_.back();
    std::memcpy(c.t.get() + fill_, t + done, k * sizeof(TimestampUs));
    std::memcpy(c.x.get() + fill_, x + done, k * sizeof(uint16_t));
    std::memcpy(c.y.get() + fill_, y + done, k * sizeof(uint16_t));
    std::memcpy(c.p.get() + fill_, p + done, k);
    fill_ += k;
    count_ += k;
    done += k;
  }
}

EventStream EventBuilder::finish(bool* inferred) {
  bool was_inferred = false;
  if (width_ <= 0 || height_ <= 0) {
    was_inferred = true;
    width_ = static_cast<int>(std::max<int64_t>(max_x_ + 1, 1));
    height_ = static_cast<int>(std::max<int64_t>(max_y_ + 1, 1));
  }
  if (inferred) *inferred = was_inferred;
  if (sink_) {
    // Every chunk but the last is full; each is released once delivered.
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const size_t n = (c + 1 == chunks_.size()) ? fill_ : kChunk;
      if (n > 0) flush(chunks_[c], n);
      chunks_[c].t.reset();
      chunks_[c].x.reset();
      chunks_[c].y.reset();
      chunks_[c].p.reset();
    }
    chunks_.clear();
    return EventStream(width_, height_);
  }
  const size_t n = count_;
  auto gather = [&](auto field, auto& prefix, auto& out) {
    out.reserve(n);  // appended below: no zero-filling pass over the final arrays
    advise_huge_pages(out.data(), n * sizeof(out[0]));
    out.insert(out.end(), prefix.begin(), prefix.end());  // the reserved part, if it overflowed
    std::remove_reference_t<decltype(prefix)>().swap(prefix);
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const size_t m = (c + 1 == chunks_.size()) ? fill_ : kChunk;
      auto& block = chunks_[c].*field;
      out.insert(out.end(), block.get(), block.get() + m);
      block.reset();
    }
  };
  std::vector<TimestampUs> t;
  std::vector<uint16_t> x, y;
  std::vector<int8_t> p;
  if (direct_) {
    t.swap(direct_t_);
    x.swap(direct_x_);
    y.swap(direct_y_);
    p.swap(direct_p_);
    direct_ = false;
  } else {
    gather(&Chunk::t, direct_t_, t);
    gather(&Chunk::x, direct_x_, x);
    gather(&Chunk::y, direct_y_, y);
    gather(&Chunk::p, direct_p_, p);
    prefix_ = false;
  }
  chunks_.clear();
  count_ = 0;
  fill_ = kChunk;
  if (!(sort_ && unsorted_) && width_ > 0 && height_ > 0) {
    // Every event passed add() or add_batch(): inside the sensor, +1/-1, in time order.
    EventStream s(width_, height_);
    s.t_ = std::move(t);
    s.x_ = std::move(x);
    s.y_ = std::move(y);
    s.p_ = std::move(p);
    return s;
  }
  IngestOptions io;
  io.sort_if_unsorted = sort_ && unsorted_;
  io.polarity = PolarityEncoding::kMinusPlusOne;
  try {
    return EventStream::from_arrays(width_, height_, std::move(t), std::move(x), std::move(y),
                                    std::move(p), io);
  } catch (const Error& e) {
    throw Error(e.code(), fmt::format("'{}': {}", source_, e.what()));
  }
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
