#include "io/event_builder.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

// Note [Reader memory bound]
// Readers never grow std::vectors by doubling (a 3x peak). They decode into 1M-event chunks
// whose four fields are separate blocks; finish() builds the final arrays one field at a time
// and frees each chunk's field right after copying it. The peak is all chunks plus the final
// timestamps (13 + 8 bytes per event, about 1.6x the in-memory size), measured in
// docs/performance.md.

EventBuilder::EventBuilder(std::string source, int width, int height, bool sort_if_unsorted)
    : source_(std::move(source)), width_(width), height_(height), sort_(sort_if_unsorted) {}

void EventBuilder::new_chunk() {
  chunks_.emplace_back();
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
