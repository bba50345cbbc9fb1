#include "core/check.hpp"
#include "io/event_builder.hpp"

#include <algorithm>
#include <new>
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

template <typename T>
EventBuilder::Block<T>::Block() {
#ifdef __linux__
  void* p = mmap(nullptr, kChunk * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  p_ = static_cast<T*>(p);
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
    : source_(std::move(source)), width_(width), height_(height), sort_(options.sort_if_unsorted),
      sink_(options.on_chunk), max_events_(static_cast<size_t>(std::max<int64_t>(options.max_events, 0))) {
  DIFFEVENT_CHECK(!(sink_ && sort_), ErrorCode::kInvalidArgument,
                  "'{}': streaming (on_chunk) cannot sort events; read without on_chunk to sort", source_);
}

void EventBuilder::too_many() const {
  throw Error(ErrorCode::kOutOfRange,
              fmt::format("'{}': more than {} events (ReadOptions::max_events; raise it to read this file)", source_,
                          max_events_));
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
  const EventStream chunk = EventStream::from_arrays(
      width_, height_, std::vector<TimestampUs>(c.t.get(), c.t.get() + n),
      std::vector<uint16_t>(c.x.get(), c.x.get() + n), std::vector<uint16_t>(c.y.get(), c.y.get() + n),
      std::vector<int8_t>(c.p.get(), c.p.get() + n), io);
  DIFFEVENT_CHECK(sink_(chunk), ErrorCode::kCancelled, "'{}': reading cancelled by the chunk callback after {} events",
                  source_, count_);
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
  auto gather = [&](auto field, auto& out) {
    out.resize(n);
    size_t at = 0;
    for (size_t c = 0; c < chunks_.size(); ++c) {
      const size_t m = (c + 1 == chunks_.size()) ? fill_ : kChunk;
      auto& block = chunks_[c].*field;
      std::memcpy(out.data() + at, block.get(), m * sizeof(out[0]));
      block.reset();
      at += m;
    }
  };
  std::vector<TimestampUs> t;
  std::vector<uint16_t> x, y;
  std::vector<int8_t> p;
  gather(&Chunk::t, t);
  gather(&Chunk::x, x);
  gather(&Chunk::y, y);
  gather(&Chunk::p, p);
  chunks_.clear();
  count_ = 0;
  fill_ = kChunk;
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
