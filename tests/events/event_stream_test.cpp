#include "test_util.hpp"

using namespace diffevent;

TEST(EventStream, AcceptsZeroOnePolarityAndNormalises) {
  // Given events with 0/1 polarity, when ingested, then polarity becomes -1/+1.
  auto s = EventStream::from_arrays(4, 3, {1, 2, 3}, {0, 1, 3}, {0, 2, 1}, {0, 1, 0});
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.p()[0], -1);
  EXPECT_EQ(s.p()[1], 1);
  EXPECT_EQ(s.memory_bytes(), 39u);
}

TEST(EventStream, RejectsCoordinateOutsideSensorNamingIndex) {
  EXPECT_DIFFEVENT_ERROR(EventStream::from_arrays(4, 3, {1, 2}, {0, 4}, {0, 0}, {1, 1}),
                         ErrorCode::kOutOfRange,
                         "index 1 has (x, y) = (4, 0) outside the 4x3 sensor");
  EXPECT_DIFFEVENT_ERROR(EventStream::from_arrays_checked(4, 3, {1}, {-1}, {0}, {1}),
                         ErrorCode::kOutOfRange, "(-1, 0)");
}

TEST(EventStream, RejectsDecreasingTimestampsUnlessSortRequested) {
  EXPECT_DIFFEVENT_ERROR(EventStream::from_arrays(4, 3, {5, 9, 7}, {0, 1, 2}, {0, 0, 0}, {1, 1, 0}),
                         ErrorCode::kInvalidArgument,
                         "timestamp at index 2 (7 us) is earlier than the one before it (9 us)");
  IngestOptions o;
  o.sort_if_unsorted = true;
  auto s = EventStream::from_arrays(4, 3, {5, 9, 7}, {0, 1, 2}, {0, 0, 0}, {1, 1, 0}, o);
  EXPECT_EQ(s.t_us(), (std::vector<TimestampUs>{5, 7, 9}));
  EXPECT_EQ(s.x(), (std::vector<uint16_t>{0, 2, 1}));  // payload moved with its time
}

TEST(EventStream, RejectsBadPolarityAndMismatchedLengths) {
  EXPECT_DIFFEVENT_ERROR(EventStream::from_arrays(4, 3, {1}, {0}, {0}, {2}),
                         ErrorCode::kInvalidArgument, "polarity at index 0 is 2");
  IngestOptions o;
  o.polarity = PolarityEncoding::kZeroOne;
  EXPECT_DIFFEVENT_ERROR(EventStream::from_arrays(4, 3, {1}, {0}, {0}, {-1}, o),
                         ErrorCode::kInvalidArgument, "expected 0 or 1");
  EXPECT_DIFFEVENT_ERROR(EventStream::from_arrays(4, 3, {1, 2}, {0}, {0}, {1}),
                         ErrorCode::kInvalidArgument, "array lengths differ");
  EXPECT_DIFFEVENT_ERROR(EventStream(0, 3), ErrorCode::kInvalidArgument, "sensor size 0x3");
}

TEST(EventStream, SlicesByTimeWithHalfOpenWindows) {
  auto s = EventStream::from_arrays(2, 2, {10, 20, 20, 30, 40}, {0, 1, 0, 1, 0}, {0, 0, 1, 1, 0},
                                    {1, 1, 0, 0, 1});
  EXPECT_EQ(s.index_range(20, 40), (std::pair<size_t, size_t>{1, 4}));
  EXPECT_EQ(s.slice_time(20, 30).size(), 2u);
  EXPECT_EQ(s.slice_time(0, 10).size(), 0u);
  EXPECT_EQ(s.slice_time(41, 100).size(), 0u);
  EXPECT_DIFFEVENT_ERROR(s.index_range(30, 20), ErrorCode::kInvalidArgument,
                         "end before its start");
  EXPECT_DIFFEVENT_ERROR(EventStream(2, 2).t_begin(), ErrorCode::kOutOfRange, "empty");
}

TEST(EventStream, SliceMatchesLinearScanOnRandomStream) {
  const auto s = test::random_stream(30, 20, 5000, 0, 100000, 7);
  for (TimestampUs a : {0, 1234, 50000, 99999}) {
    const TimestampUs b = a + 7777;
    size_t expect = 0;
    for (auto t : s.t_us()) expect += (t >= a && t < b);
    EXPECT_EQ(s.slice_time(a, b).size(), expect);
  }
}

TEST(EventStream, PushBackAndAppendKeepOrder) {
  EventStream s(3, 3);
  s.push_back(5, 1, 1, 1);
  EXPECT_DIFFEVENT_ERROR(s.push_back(4, 1, 1, 1), ErrorCode::kInvalidArgument, "earlier than");
  EXPECT_DIFFEVENT_ERROR(s.push_back(6, 3, 1, 1), ErrorCode::kOutOfRange, "outside the 3x3 sensor");
  auto more = EventStream::from_arrays(3, 3, {7}, {0}, {0}, {0});
  s.append(more);
  EXPECT_EQ(s.size(), 2u);
  s.shift_time(-5);
  EXPECT_EQ(s.t_begin(), 0);
  EXPECT_DIFFEVENT_ERROR(s.append(EventStream(4, 3)), ErrorCode::kInvalidArgument, "cannot append");
}

TEST(EventStream, MovesToALargerSensorOnly) {
  auto s = EventStream::from_arrays(4, 3, {1, 2}, {3, 0}, {2, 0}, {1, 0});
  const TimestampUs* data = s.t_us().data();
  EventStream big = std::move(s).with_sensor_size(8, 6);
  EXPECT_EQ(big.width(), 8);
  EXPECT_EQ(big.height(), 6);
  EXPECT_EQ(big.t_us().data(), data);  // moved, not copied
  EXPECT_EQ(big.x(), (std::vector<uint16_t>{3, 0}));
  EXPECT_DIFFEVENT_ERROR(std::move(big).with_sensor_size(8, 5), ErrorCode::kInvalidArgument,
                         "a 8x5 sensor cannot hold events of a 8x6 one");
}
