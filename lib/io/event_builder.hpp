#pragma once
// Private: accumulates decoded events in fixed-size chunks, validating as it goes, and turns
// them into an EventStream with one exact allocation. Peak memory is at most twice the final
// stream (chunks are freed while they are copied), which keeps readers within the documented
// bound whatever the file size. See Note [Reader memory bound].

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "diffevent/events/event_io.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

class EventBuilder {
 public:
  /// `source` names the file in error messages. width/height 0 = not yet known.
  EventBuilder(std::string source, int width, int height, const ReadOptions& options);

  void set_size(int width, int height) {
    width_ = width;
    height_ = height;
  }
  int width() const { return width_; }
  int height() const { return height_; }
  size_t size() const { return count_; }
  /// Whether events out of time order are sorted (else they are an error).
  bool sorts() const { return sort_; }

  /// Appends one event; p must already be +1/-1. Coordinates are checked here when the size
  /// is known, else at finish().
  void add(TimestampUs t, int64_t x, int64_t y, int p) {
    if (fill_ == kChunk) next_chunk();
    if (count_ == max_events_) too_many();
    Chunk& c = chunks_.back();
    if (x < 0 || y < 0 || x > 65535 || y > 65535 || (width_ > 0 && (x >= width_ || y >= height_)))
      bad_coordinate(t, x, y);
    if (count_ > 0 && t < last_t_) {
      if (!sort_) bad_order(t);
      unsorted_ = true;
    }
    last_t_ = t;
    c.t[fill_] = t;
    c.x[fill_] = static_cast<uint16_t>(x);
    c.y[fill_] = static_cast<uint16_t>(y);
    c.p[fill_] = p > 0 ? int8_t{1} : int8_t{-1};
    if (x > max_x_) max_x_ = x;
    if (y > max_y_) max_y_ = y;
    ++fill_;
    ++count_;
  }

  /// The number of events the file declares, known before decoding (.npy). Without a
  /// streaming sink, and within max_events, add_batch then appends straight to the final
  /// arrays, reserved once: one copy of the events in memory instead of chunks plus the result.
  void expect(size_t n);

  /// Like expect(), for a count only estimated (from a file's size and its first blocks):
  /// the events so far move to the reserved arrays, and events beyond the reservation go to
  /// chunks that finish() joins (one more copy, as without a reservation).
  void expect_about(size_t n);

  /// Appends m events decoded from one block of a file (p already +1/-1): the same checks as
  /// add(), in one branch-free pass over the block; a block that fails them is replayed
  /// through add(), which names the first bad event.
  void add_batch(const TimestampUs* t, const int64_t* x, const int64_t* y, const int8_t* p,
                 size_t m);

  /// add_batch() for 16-bit coordinates (the library's own type): checked in one pass and
  /// appended as they are through add_checked(); a block that fails is replayed through add().
  void add_batch16(const TimestampUs* t, const uint16_t* x, const uint16_t* y, const int8_t* p,
                   size_t m);

  /// Appends m events the caller has already checked as add_batch() would, in one copy:
  /// every coordinate inside the sensor (below 65536 when its size is not known yet), p
  /// +1/-1, max_x/max_y their largest coordinates. `decreasing` says a timestamp inside the
  /// block is earlier than the one before it, which is allowed only with the sort option (a
  /// caller replays such a block through add_batch to name the event). Checks here only what
  /// spans blocks: the order against the last event, and max_events.
  void add_checked(const TimestampUs* t, const uint16_t* x, const uint16_t* y, const int8_t* p,
                   size_t m, uint16_t max_x, uint16_t max_y, bool decreasing);

  /// Builds the stream. With no known size, infers max coordinate + 1 and sets *inferred.
  EventStream finish(bool* inferred = nullptr);

 private:
  static constexpr size_t kChunk = size_t{1} << 20;
  // A block of memory mapped straight from the OS, so that freeing it returns it at once
  // (glibc may otherwise serve and keep such blocks in its heap once its dynamic mmap
  // threshold has grown, which broke the 2x bound after a first streaming attempt).
  template <typename T>
  class Block {
   public:
    Block();
    ~Block() { reset(); }
    Block(Block&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
    Block& operator=(Block&&) = delete;
    Block(const Block&) = delete;
    T* get() const { return p_; }
    T& operator[](size_t i) const { return p_[i]; }
    void reset();

   private:
    T* p_ = nullptr;
  };
  // Fields in separate blocks so finish() can free each as soon as it has been copied.
  struct Chunk {
    Block<TimestampUs> t;
    Block<uint16_t> x;
    Block<uint16_t> y;
    Block<int8_t> p;
  };
  void next_chunk();
  void spill_if_full(size_t m);          // a reservation too small for m more: chunks from here on
  void flush(const Chunk& c, size_t n);  // streaming: hand n events of a chunk to the sink
  [[noreturn]] void bad_coordinate(TimestampUs t, int64_t x, int64_t y) const;
  [[noreturn]] void bad_order(TimestampUs t) const;
  [[noreturn]] void too_many() const;

  std::string source_;
  int width_, height_;
  bool sort_;
  bool unsorted_ = false;
  std::function<bool(const EventStream&)> sink_;
  std::vector<Chunk> chunks_;
  bool direct_ = false;  // expect(): events go to the final arrays below
  bool prefix_ = false;  // they overflowed: the arrays below hold the first events, chunks the rest
  std::vector<TimestampUs> direct_t_;
  std::vector<uint16_t> direct_x_, direct_y_;
  std::vector<int8_t> direct_p_;
  std::vector<uint16_t> narrow_x_, narrow_y_;  // add_batch's scratch
  size_t fill_ = kChunk;
  size_t count_ = 0;
  size_t max_events_;
  TimestampUs last_t_ = 0;
  int64_t max_x_ = -1, max_y_ = -1;
};

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
