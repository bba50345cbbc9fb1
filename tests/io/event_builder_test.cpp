// The readers' builder (lib/io/event_builder.hpp): reservations exact or estimated, overflow to
// chunks, and checked blocks, against the same events added one at a time.
#include "io/event_builder.hpp"

#include "test_util.hpp"

using namespace diffevent;
using diffevent::detail::EventBuilder;

namespace {

struct Events {
  std::vector<TimestampUs> t;
  std::vector<int64_t> x, y;
  std::vector<uint16_t> x16, y16;
  std::vector<int8_t> p;
};

Events make(size_t n) {
  Events e;
  for (size_t i = 0; i < n; ++i) {
    e.t.push_back(static_cast<TimestampUs>(10 + i / 2));
    e.x.push_back(static_cast<int64_t>((i * 7) % 64));
    e.y.push_back(static_cast<int64_t>((i * 5) % 48));
    e.x16.push_back(static_cast<uint16_t>(e.x.back()));
    e.y16.push_back(static_cast<uint16_t>(e.y.back()));
    e.p.push_back(i % 3 ? 1 : -1);
  }
  return e;
}

void expect_events(const EventStream& s, const Events& e) {
  ASSERT_EQ(s.size(), e.t.size());
  EXPECT_EQ(s.t_us(), e.t);
  EXPECT_EQ(s.x(), e.x16);
  EXPECT_EQ(s.y(), e.y16);
  EXPECT_EQ(s.p(), e.p);
}

// Adds e in blocks of `block`, in turn through add_batch, add_batch16 and add_checked.
void add_all(EventBuilder& b, const Events& e, size_t block) {
  for (size_t a = 0, k = 0; a < e.t.size(); a += block, ++k) {
    const size_t m = std::min(block, e.t.size() - a);
    if (k % 3 == 0) {
      b.add_batch(&e.t[a], &e.x[a], &e.y[a], &e.p[a], m);
    } else if (k % 3 == 1) {
      b.add_batch16(&e.t[a], &e.x16[a], &e.y16[a], &e.p[a], m);
    } else {
      uint16_t mx = 0, my = 0;
      for (size_t i = a; i < a + m; ++i) {
        mx = std::max(mx, e.x16[i]);
        my = std::max(my, e.y16[i]);
      }
      b.add_checked(&e.t[a], &e.x16[a], &e.y16[a], &e.p[a], m, mx, my, false);
    }
  }
}

}  // namespace

TEST(EventBuilder, EstimatedReservationsTooSmallOrTooLargeGiveTheSameStream) {
  // Given 2.5 million events (more than two chunks of 2^20): an estimate of 1,000 (overflows
  // at once), of 1.2 million (overflows into chunks after the first), of 10 million (never
  // filled), none at all, and an exact one, each made after the first block, give the stream
  // the events make.
  const Events e = make(2500000);
  for (size_t estimate : {size_t{0}, size_t{1000}, size_t{1200000}, size_t{10000000}}) {
    SCOPED_TRACE(estimate);
    EventBuilder b("test", 64, 48, ReadOptions{});
    b.add_batch(&e.t[0], &e.x[0], &e.y[0], &e.p[0], 777);  // in a chunk before the estimate
    if (estimate > 0) b.expect_about(estimate);
    Events rest;
    rest.t.assign(e.t.begin() + 777, e.t.end());
    rest.x.assign(e.x.begin() + 777, e.x.end());
    rest.y.assign(e.y.begin() + 777, e.y.end());
    rest.x16.assign(e.x16.begin() + 777, e.x16.end());
    rest.y16.assign(e.y16.begin() + 777, e.y16.end());
    rest.p.assign(e.p.begin() + 777, e.p.end());
    add_all(b, rest, 100003);
    expect_events(b.finish(), e);
  }
  EventBuilder exact("test", 64, 48, ReadOptions{});
  exact.expect(e.t.size());
  add_all(exact, e, 65536);
  expect_events(exact.finish(), e);
}

TEST(EventBuilder, CheckedBlocksStillCheckOrderAcrossBlocksAndTheEventLimit) {
  const Events e = make(1000);
  {
    // A 16-bit block with a coordinate outside the sensor names it by its index.
    EventBuilder b("f", 64, 40, ReadOptions{});
    EXPECT_DIFFEVENT_ERROR(b.add_batch16(&e.t[0], &e.x16[0], &e.y16[0], &e.p[0], 100),
                           ErrorCode::kOutOfRange,
                           "'f': event at index 8 (t = 14 us) has (x, y) = (56, 40) outside the "
                           "64x40 sensor");
  }
  {
    // A block whose first event is earlier than the last one before it.
    EventBuilder b("f", 64, 48, ReadOptions{});
    b.add_checked(&e.t[500], &e.x16[500], &e.y16[500], &e.p[500], 10, 63, 47, false);
    EXPECT_DIFFEVENT_ERROR(b.add_checked(&e.t[0], &e.x16[0], &e.y16[0], &e.p[0], 10, 63, 47, false),
                           ErrorCode::kFormatError,
                           "'f': timestamp at index 10 (10 us) is earlier than the one "
                           "before it (264 us)");
  }
  {
    // The sort option takes it and sorts at the end.
    ReadOptions ro;
    ro.sort_if_unsorted = true;
    EventBuilder b("f", 64, 48, ro);
    b.add_checked(&e.t[500], &e.x16[500], &e.y16[500], &e.p[500], 10, 63, 47, false);
    b.add_checked(&e.t[0], &e.x16[0], &e.y16[0], &e.p[0], 10, 63, 47, false);
    const EventStream s = b.finish();
    ASSERT_EQ(s.size(), 20u);
    EXPECT_EQ(s.t_us().front(), 10);
    EXPECT_EQ(s.t_us().back(), 264);
  }
  {
    // max_events reached inside a block.
    ReadOptions ro;
    ro.max_events = 15;
    EventBuilder b("f", 64, 48, ro);
    b.add_checked(&e.t[0], &e.x16[0], &e.y16[0], &e.p[0], 10, 63, 47, false);
    EXPECT_DIFFEVENT_ERROR(
        b.add_checked(&e.t[10], &e.x16[10], &e.y16[10], &e.p[10], 10, 63, 47, false),
        ErrorCode::kOutOfRange, "'f': more than 15 events");
  }
}
