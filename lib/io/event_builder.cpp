#include "io/event_builder.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

// Note [Reader memory bound]
// Readers never grow std::vectors by doubling (a 3x peak). They decode into 1M-event chunks,
// then finish() allocates the final arrays once and frees each chunk right after copying it,
// so the peak is the final stream plus at most all chunks: twice the in-memory size.

EventBuilder::EventBuilder(std::string source, int width, int height, bool sort_if_unsorted)
    : source_(std::move(source)), width_(width), height_(height), sort_(sort_if_unsorted) {}

void EventBuilder::new_chunk() {
  chunks_.push_back(std::make_unique<Chunk>());
  fill_ = 0;
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
  const size_t n = count_;
  std::vector<TimestampUs> t(n);
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  size_t at = 0;
  for (size_t c = 0; c < chunks_.size(); ++c) {
    const size_t m = (c + 1 == chunks_.size()) ? fill_ : kChunk;
    std::memcpy(t.data() + at, chunks_[c]->t, m * sizeof(TimestampUs));
    std::memcpy(x.data() + at, chunks_[c]->x, m * sizeof(uint16_t));
    std::memcpy(y.data() + at, chunks_[c]->y, m * sizeof(uint16_t));
    std::memcpy(p.data() + at, chunks_[c]->p, m);
    at += m;
    chunks_[c].reset();
  }
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
