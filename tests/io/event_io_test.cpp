#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "encoders.hpp"
#include "test_util.hpp"

using namespace diffevent;

namespace {

using test::expect_same;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

using test::encode_evt3;

}  // namespace

TEST(EventIo, RoundTripsEveryWriterReaderPair) {
  test::TempDir dir;
  const auto ev = test::random_stream(346, 260, 5000, 1000, 3000000, 3);
  std::vector<std::string> names = {"e.txt", "e.npy", "e.npz", "e.raw", "e.dat"};
  if (hdf5_supported()) names.push_back("e.h5");
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    write_events(dir.file(name), ev);
    ReadOptions ro;
    if (name == "e.npy") ro.width = 346, ro.height = 260;  // .npy carries no sensor size
    const EventFile f = read_events(dir.file(name), ro);
    expect_same(ev, f.events);
    EXPECT_FALSE(f.size_inferred);
  }
}

TEST(EventIo, Evt3DecoderHandlesVectorsAndTimeWraparound) {
  test::TempDir dir;
  // Times cross the 2^24 us EVT3 wrap twice.
  std::vector<TimestampUs> t = {10,           4096,          16777000,       16777215,
                                16777216 + 5, 33554432 + 77, 33554432 + 8000};
  auto ev = EventStream::from_arrays(640, 480, t, {1, 2, 639, 4, 5, 6, 7}, {0, 0, 479, 3, 3, 9, 9},
                                     {1, 0, 1, 0, 1, 0, 1});
  write_bytes(dir.file("a.raw"),
              encode_evt3(ev, "% evt 3.0\n% format EVT3;height=480;width=640\n% end\n"));
  const auto f = read_events(dir.file("a.raw"));
  EXPECT_EQ(f.format, EventFormat::kEvt3);
  expect_same(ev, f.events);
  // time_shift subtracts the first TIME_HIGH (OpenEB's default behaviour).
  ReadOptions ro;
  ro.time_shift = true;
  EXPECT_EQ(read_events(dir.file("a.raw"), ro).events.t_us()[0], 10);
}

TEST(EventIo, Evt2HandlesTimeHighWraparound) {
  test::TempDir dir;
  const TimestampUs wrap = TimestampUs{1} << 34;
  auto ev = EventStream::from_arrays(100, 100, {wrap - 70, wrap - 1, wrap + 3, wrap + 100},
                                     {1, 2, 3, 4}, {5, 6, 7, 8}, {1, 0, 1, 0});
  write_events(dir.file("w.raw"), ev);
  expect_same(ev, read_events(dir.file("w.raw")).events);
}

TEST(EventIo, TextReaderAcceptsRpgConventions) {
  test::TempDir dir;
  write_bytes(dir.file("a.txt"), "# comment\n0.000001 1 2 1\n0.5 3 4 0\n1.2500005 0 0 1\n");
  const auto f = read_events(dir.file("a.txt"));
  EXPECT_TRUE(f.size_inferred);
  EXPECT_EQ(f.events.width(), 4);
  EXPECT_EQ(f.events.height(), 5);
  EXPECT_EQ(f.events.t_us(), (std::vector<TimestampUs>{1, 500000, 1250001}));
  EXPECT_EQ(f.events.p()[1], -1);
}

TEST(EventIo, ExposureAndImageTravelThroughHdf5) {
  if (!hdf5_supported()) GTEST_SKIP() << "HDF5 not compiled in";
  test::TempDir dir;
  const auto ev = test::random_stream(20, 10, 100, 0, 20000, 1);
  WriteOptions wo;
  wo.exposure = Exposure{123, 20123};
  wo.image = test::synthetic_photo(1, 10, 20, 1);
  write_events(dir.file("x.h5"), ev, wo);
  const auto f = read_events(dir.file("x.h5"));
  ASSERT_EQ(f.exposures.size(), 1u);
  EXPECT_EQ(f.exposures[0].t0_us, 123);
  EXPECT_EQ(f.exposures[0].t1_us, 20123);
  ASSERT_TRUE(f.image.has_value());
  EXPECT_NEAR(f.image->at(0, 3, 4), wo.image->at(0, 3, 4), 0.5 / 255 + 1e-6);
}

TEST(EventIo, StatedThresholdsTravelThroughHdf5) {
  if (!hdf5_supported()) GTEST_SKIP() << "HDF5 not compiled in";
  test::TempDir dir;
  const auto ev = test::random_stream(20, 10, 100, 0, 20000, 1);
  // Given a file written without thresholds, then one with them
  write_events(dir.file("none.h5"), ev);
  EXPECT_FALSE(read_events(dir.file("none.h5")).thresholds.has_value());
  WriteOptions wo;
  wo.thresholds = Thresholds{0.25, 0.15, {}, {}};
  write_events(dir.file("x.h5"), ev, wo);
  // Then they come back as stated, from the event file and from the recording
  const auto f = read_events(dir.file("x.h5"));
  ASSERT_TRUE(f.thresholds.has_value());
  EXPECT_EQ(f.thresholds->c_pos, 0.25);
  EXPECT_EQ(f.thresholds->c_neg, 0.15);
  write_recording(dir.file("rec.h5"), ev, {{test::synthetic_photo(1, 10, 20, 1), {0, 20000}}}, wo);
  const Recording rec = Recording::open(dir.file("rec.h5"));
  ASSERT_TRUE(rec.thresholds().has_value());
  EXPECT_EQ(rec.thresholds()->c_neg, 0.15);
  // And an invalid threshold is refused before anything is written
  wo.thresholds = Thresholds{std::nan(""), 0.15, {}, {}};
  EXPECT_DIFFEVENT_ERROR(write_events(dir.file("bad.h5"), ev, wo), ErrorCode::kInvalidArgument,
                         "c_pos");
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.h5")));
}

TEST(EventIo, HostileNumpyDtypesAndShapesAreNamed) {
  // Given .npy files written to break the reader: raw-byte dtypes, negative padding, huge
  // shapes, non-finite float times (each once crashed, over-read or overflowed)
  test::TempDir dir;
  ReadOptions ro;
  ro.format = EventFormat::kNpy;
  ro.width = 64, ro.height = 48;
  auto expect = [&](const std::string& name, const std::string& bytes, ErrorCode code,
                    const std::string& text) {
    SCOPED_TRACE(name);
    write_bytes(dir.file(name), bytes);
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file(name), ro), code, text);
  };
  // Then each gets an error that names the problem
  expect("v0.npy",
         test::npy_file("{'descr': '|V0', 'fortran_order': False, 'shape': (10, 4), }", ""),
         ErrorCode::kUnsupported, "dtype '|V0' (raw bytes) cannot hold event data");
  expect("v1.npy",
         test::npy_file("{'descr': '|V1', 'fortran_order': False, 'shape': (70000, 4), }",
                        std::string(16, 'x')),
         ErrorCode::kUnsupported, "(raw bytes) cannot hold event data");
  expect("pad.npy",
         test::npy_file("{'descr': [('t', '<i8'), ('', '|V-13'), ('x', '<u2'), ('y', '<u2'), ('p', "
                        "'|i1')], 'fortran_order': "
                        "False, 'shape': (3,), }",
                        std::string(64, '\0')),
         ErrorCode::kFormatError, "dtype '|V-13' has no valid item size");
  expect("field.npy",
         test::npy_file("{'descr': [('t', '<i8'), ('x', '|V2'), ('y', '<u2'), ('p', '|i1')], "
                        "'fortran_order': False, "
                        "'shape': (2,), }",
                        std::string(26, '\0')),
         ErrorCode::kUnsupported, "field 'x' holds raw bytes, not numbers");
  expect("huge.npy",
         test::npy_file("{'descr': [('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|i1')], "
                        "'fortran_order': False, "
                        "'shape': (2305843009213693953,), }",
                        ""),
         ErrorCode::kOutOfRange, "is implausibly large");
  const double bad_times[] = {std::nan(""), 1e300, -std::numeric_limits<double>::infinity()};
  for (double t : bad_times) {
    std::string row(32, '\0');
    std::memcpy(&row[0], &t, 8);
    const double one = 1.0;
    std::memcpy(&row[24], &one, 8);  // p = 1
    expect("float.npy",
           test::npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 4), }", row),
           ErrorCode::kFormatError, "timestamp at index 0 is");
  }
}

TEST(EventIo, MalformedFilesGiveSpecificErrors) {
  test::TempDir dir;
  const auto ev = test::random_stream(64, 48, 1000, 0, 100000, 2);
  // Empty file.
  write_bytes(dir.file("empty.raw"), "");
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("empty.raw")), ErrorCode::kFormatError,
                         "the file is empty");
  // Wrong magic.
  write_bytes(dir.file("bad.aedat4"), "#!AER-DAT9.9\r\nxxxxxxxx");
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("bad.aedat4"),
                                     [] {
                                       ReadOptions o;
                                       o.format = EventFormat::kAedat4;
                                       return o;
                                     }()),
                         ErrorCode::kFormatError, "bad magic");
  write_bytes(dir.file("bad.npy"), std::string("\x93NUMPZ\x01\x00xxxxxxxx", 16));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("bad.npy"),
                                     [] {
                                       ReadOptions o;
                                       o.format = EventFormat::kNpy;
                                       return o;
                                     }()),
                         ErrorCode::kFormatError, "bad magic");
  write_bytes(dir.file("bad.mat"), std::string(200, 'x'));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("bad.mat"),
                                     [] {
                                       ReadOptions o;
                                       o.format = EventFormat::kMat;
                                       return o;
                                     }()),
                         ErrorCode::kFormatError, "not a MATLAB v5");
  write_bytes(dir.file("bad.bin"), std::string("\x01\x02\x03\x04garbage", 11));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("bad.bin")), ErrorCode::kFormatError,
                         "unrecognised event file");
  // Truncated files, one per binary format.
  for (const char* name : {"t.npy", "t.dat", "t.raw", "t.npz"}) {
    SCOPED_TRACE(name);
    write_events(dir.file(name), ev);
    std::string bytes = read_bytes(dir.file(name));
    bytes.resize(bytes.size() - 3);
    write_bytes(dir.file(name), bytes);
    ReadOptions ro;
    ro.width = 64, ro.height = 48;
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file(name), ro), ErrorCode::kFormatError, "truncated");
  }
  if (hdf5_supported()) {
    write_events(dir.file("t.h5"), ev);
    std::string bytes = read_bytes(dir.file("t.h5"));
    bytes.resize(bytes.size() / 2);
    write_bytes(dir.file("t.h5"), bytes);
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file("t.h5")), ErrorCode::kFormatError, "t.h5");
  }
  // Coordinates outside the stated sensor.
  write_bytes(dir.file("c.txt"), "10 10\n0.1 3 4 1\n0.2 10 4 1\n");
  EXPECT_DIFFEVENT_ERROR(
      read_events(dir.file("c.txt")), ErrorCode::kOutOfRange,
      "event at index 1 (t = 200000 us) has (x, y) = (10, 4) outside the 10x10 sensor");
  // Decreasing timestamps, and the sort option.
  write_bytes(dir.file("d.txt"), "10 10\n0.3 3 4 1\n0.2 1 4 0\n");
  EXPECT_DIFFEVENT_ERROR(
      read_events(dir.file("d.txt")), ErrorCode::kFormatError,
      "timestamp at index 1 (200000 us) is earlier than the one before it (300000 us)");
  ReadOptions sorted;
  sorted.sort_if_unsorted = true;
  EXPECT_EQ(read_events(dir.file("d.txt"), sorted).events.t_us(),
            (std::vector<TimestampUs>{200000, 300000}));
  // Malformed text line and bad polarity.
  write_bytes(dir.file("m.txt"), "0.1 3 4 1\n0.2 oops 4 1\n");
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("m.txt")), ErrorCode::kFormatError,
                         "line 2: expected 't x y p'");
  write_bytes(dir.file("p.txt"), "0.1 3 4 7\n");
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("p.txt")), ErrorCode::kFormatError, "polarity is 7");
  // A RAW file whose header names another encoding.
  write_bytes(dir.file("h.raw"), "% evt 2.0\n% end\n");
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("h.raw"),
                                     [] {
                                       ReadOptions o;
                                       o.format = EventFormat::kEvt3;
                                       return o;
                                     }()),
                         ErrorCode::kFormatError, "does not declare EVT3");
  // Missing file.
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("nope.h5")), ErrorCode::kIoError, "cannot open");
}

// Inputs the fuzzers found (tests/fuzz), minimised by hand; each once crashed or misbehaved.
TEST(EventIo, FuzzerFindingsGiveErrors) {
  test::TempDir dir;
  const auto ev = test::random_stream(64, 48, 50, 0, 100000, 3);
  // Given a text timestamp whose microseconds overflow int64 (was signed overflow).
  write_bytes(dir.file("big.txt"), "111111111111111 1 1 1\n");
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("big.txt")), ErrorCode::kFormatError,
                         "line 1: expected 't x y p'");
  write_bytes(dir.file("inf.txt"), "1e300 1 1 1\n");
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("inf.txt")), ErrorCode::kFormatError,
                         "line 1: expected 't x y p'");
  // Given a MAT matrix whose dimensions claim more rows than its data holds (was a heap overflow).
  write_bytes(dir.file("rows.mat"), test::mat_header() + test::mat_events_element(ev, 51));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("rows.mat")), ErrorCode::kFormatError,
                         "variable 'events' holds 200 numbers but its dimensions say 204");
  // The same file with honest dimensions reads back.
  write_bytes(dir.file("ok.mat"), test::mat_header() + test::mat_events_element(ev));
  ReadOptions sized;
  sized.width = 64, sized.height = 48;
  expect_same(read_events(dir.file("ok.mat"), sized).events, ev);
  // Given AEDAT4 packets and headers that claim more bytes than the file has (were 1 GiB
  // allocations before the read failed).
  WriteOptions wo;
  wo.aedat_compression = WriteOptions::Compression::kNone;
  write_events(dir.file("a.aedat4"), ev, wo);
  std::string bytes = read_bytes(dir.file("a.aedat4"));
  const uint32_t hlen = static_cast<uint32_t>(static_cast<unsigned char>(bytes[14]) |
                                              static_cast<unsigned char>(bytes[15]) << 8);
  std::string big_packet = bytes;
  big_packet[18 + hlen + 4 + 3] = 0x3F;  // packet size ~1 GiB
  write_bytes(dir.file("p.aedat4"), big_packet);
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("p.aedat4")), ErrorCode::kFormatError, "claims");
  std::string big_header = bytes;
  big_header[16] = 0x10;  // header size ~1 MiB in a file of a few KB
  write_bytes(dir.file("h.aedat4"), big_header);
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("h.aedat4")), ErrorCode::kFormatError,
                         "the AEDAT4 header claims");
  // Given an XML stream description cut before the '>' of typeIdentifier (was pointer overflow).
  std::string xml_cut = bytes;
  const size_t ti = xml_cut.find("typeIdentifier");
  ASSERT_NE(ti, std::string::npos);
  for (size_t i = ti; i < 18 + hlen; ++i)
    if (xml_cut[i] == '>') xml_cut[i] = ' ';
  write_bytes(dir.file("x.aedat4"), xml_cut);
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("x.aedat4")), ErrorCode::kFormatError,
                         "no event (EVTS) stream");
  // Given an NPZ member whose zip header claims ~4 GB uncompressed from 1.6 KB (was a 4 GB
  // allocation before inflating): the fuzzer's input, kept in tests/data/fuzz.
  EXPECT_DIFFEVENT_ERROR(
      read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/npz_claims_4gb.npz"),
      ErrorCode::kFormatError, "more than deflate can produce");
  // Given an HDF5 chunk index claiming a 4 GB compressed chunk in a small file (libhdf5 would
  // allocate it before failing).
  if (hdf5_supported()) {
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_chunk_4gb.h5"),
        ErrorCode::kFormatError, "dataset events/ts claims 4244635979 stored bytes");
    // Float seconds beyond int64 microseconds: named, and never converted (the block-wise
    // reader once converted before checking, undefined behaviour the fuzzer found).
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_time_beyond_int64.h5"),
        ErrorCode::kFormatError, "timestamp at index 264");
    // A stated threshold that is NaN, or one polarity's alone: named, never used.
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_threshold_nan.h5"),
        ErrorCode::kFormatError, "the stated contrast threshold nan is not in (0, 20]");
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_threshold_alone.h5"),
        ErrorCode::kFormatError, "contrast_threshold_pos and contrast_threshold_neg must both be");
    // A NaN sensor_resolution attribute (was a NaN-to-int conversion).
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_nan_resolution.h5"),
        ErrorCode::kFormatError, "sensor_resolution [nan");
    // A chunked layout message with no dimensions (libhdf5 1.10.8 died with SIGFPE in H5Dopen2).
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_libhdf5_fpe.h5"),
        ErrorCode::kFormatError, "events/xs: chunked layout has 0 dimensions");
    // A root group object header claiming 4 GB (libhdf5 allocated it inside H5Fopen).
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_root_header_4gb.h5"),
        ErrorCode::kFormatError,
        "the root group: object header block at address 15940 (3992977760 bytes) runs past the end "
        "of the file");
    // A continuation message of size 0 flagged shared (libhdf5 read a 4 GB block size from the
    // next message's bytes).
    EXPECT_DIFFEVENT_ERROR(read_events(std::string(DIFFEVENT_SOURCE_DIR) +
                                       "/tests/data/fuzz/h5_shared_continuation.h5"),
                           ErrorCode::kFormatError,
                           "events/xs: message of type 16 is marked shared");
    // An unfiltered chunk stored in 94 bytes instead of 300 (libhdf5 overflowed its buffer).
    EXPECT_DIFFEVENT_ERROR(read_events(std::string(DIFFEVENT_SOURCE_DIR) +
                                       "/tests/data/fuzz/h5_short_unfiltered_chunk.h5"),
                           ErrorCode::kFormatError,
                           "unfiltered chunk 0 of dataset events/ps stores 94 bytes, not 300");
    // An attribute name without its NUL inside the message (libhdf5's strdup read past it).
    ReadOptions known_size;
    known_size.width = 640;
    known_size.height = 480;
    EXPECT_DIFFEVENT_ERROR(read_events(std::string(DIFFEVENT_SOURCE_DIR) +
                                           "/tests/data/fuzz/h5_unterminated_attribute_name.h5",
                                       known_size),
                           ErrorCode::kFormatError,
                           "attribute name is not terminated inside its message");
    // A root attribute whose value (44 bytes) does not fit its message (libhdf5 copied it
    // anyway while looking for the thresholds).
    EXPECT_DIFFEVENT_ERROR(read_events(std::string(DIFFEVENT_SOURCE_DIR) +
                                       "/tests/data/fuzz/h5_attribute_value_overflow.h5"),
                           ErrorCode::kFormatError,
                           "the root group: attribute value (1 elements of 44 bytes) runs past "
                           "its message");
    // A datatype of 5 bytes in chunks laid out for 2-byte elements (libhdf5 overflowed).
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) +
                    "/tests/data/fuzz/h5_element_size_mismatch.h5"),
        ErrorCode::kFormatError,
        "events/xs: chunked layout stores 2-byte elements but the datatype has 5 bytes");
    // A group whose local heap address points at garbage (libhdf5 read through a null buffer).
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/fuzz/h5_bad_group_heap.h5"),
        ErrorCode::kFormatError, "images: group local heap at address 14616 is missing");
    // The same layout, intact (chunks of 300 events, unfiltered, the last one partial), reads.
    const auto ok =
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/events_unfiltered_chunks.h5");
    EXPECT_EQ(ok.events.size(), 1000u);
    EXPECT_EQ(ok.events.t_us()[999], 999000);
    // The same file with only the first of events/ps's four chunks written (the rest would read
    // as fill values): refused.
    EXPECT_DIFFEVENT_ERROR(
        read_events(std::string(DIFFEVENT_SOURCE_DIR) + "/tests/data/events_missing_chunks.h5"),
        ErrorCode::kFormatError, "dataset events/ps stores 1 of its 4 chunks");
  }
}

TEST(EventIo, Hdf5ZeroChunkSizeIsAnErrorNotADivisionByZero) {
  if (!hdf5_supported()) GTEST_SKIP() << "HDF5 not compiled in";
  // Given a file written by libhdf5 whose events/xs layout message (version 3: 03 02 02, an
  // 8-byte address, then the chunk size 5000 and the element size 2 as u32) is patched to 0.
  test::TempDir dir;
  write_events(dir.file("e.h5"), test::random_stream(346, 260, 5000, 1000, 3000000, 3));
  std::string bytes = read_bytes(dir.file("e.h5"));
  const std::string chunk_5000_of_u16("\x88\x13\0\0\x02\0\0\0", 8);
  size_t at = std::string::npos;
  for (size_t i = bytes.find("\x03\x02\x02"); i != std::string::npos;
       i = bytes.find("\x03\x02\x02", i + 1))
    if (at == std::string::npos && bytes.compare(i + 11, 8, chunk_5000_of_u16) == 0)
      at = i + 11;  // xs precedes ys
  ASSERT_NE(at, std::string::npos) << "no chunked layout message for the u16 datasets";
  // When the chunk size becomes zero, then reading names the dataset and the problem.
  bytes[at] = bytes[at + 1] = 0;
  write_bytes(dir.file("zero.h5"), bytes);
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("zero.h5")), ErrorCode::kFormatError,
                         "events/xs: chunked layout has a zero size in dimension 0");
}

TEST(EventIo, FailedWriteLeavesNoFileBehind) {
  test::TempDir dir;
  // EVT2 cannot hold 11-bit+ coordinates: the writer throws and nothing appears.
  const auto ev = test::random_stream(4000, 10, 10, 0, 100, 1);
  EXPECT_DIFFEVENT_ERROR(write_events(dir.file("big.raw"), ev), ErrorCode::kInvalidArgument,
                         "11-bit");
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  EXPECT_DIFFEVENT_ERROR(write_events(dir.file("x.unknown"), ev), ErrorCode::kInvalidArgument,
                         "cannot tell the format");
}

TEST(EventIo, ReadsRealRecordings) {
  struct Case {
    std::string file;
    size_t events;
    TimestampUs span_min, span_max;
    int w, h;
  };
  // ni-joint (bundled): exposure windows of 20, 6, 2 and 6 ms; tonic's samples (when
  // DIFFEVENT_TONIC_DATA names their folder): 111,954 and 2,009 events.
  const std::string ni = test::ni_joint_dir(), tonic = test::tonic_data_dir();
  std::vector<Case> cases = {Case{ni + "/badminton.mat", 11574, 19900, 20000, 0, 0},
                             Case{ni + "/keyboard.mat", 24988, 5900, 6000, 0, 0},
                             Case{ni + "/low_light_model1.mat", 14854, 1900, 2000, 0, 0},
                             Case{ni + "/low_light_model2.mat", 47356, 5900, 6000, 0, 0}};
  if (!tonic.empty()) {
    cases.push_back(Case{tonic + "/sample.aedat4", 111954, 0, 1000000000, 320, 240});
    cases.push_back(Case{tonic + "/sample_ncars.dat", 2009, 0, 1000000000, 0, 0});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const auto f = read_events(c.file);
    EXPECT_EQ(f.events.size(), c.events);
    const TimestampUs span = f.events.t_end() - f.events.t_begin();
    EXPECT_GE(span, c.span_min);
    EXPECT_LE(span, c.span_max);
    if (c.w) {
      EXPECT_EQ(f.events.width(), c.w);
      EXPECT_EQ(f.events.height(), c.h);
    }
  }
  // ni-joint coordinates fit the DAVIS346 frame that comes with them.
  ReadOptions ro;
  ro.width = 346, ro.height = 260;
  EXPECT_EQ(read_events(ni + "/toy.mat", ro).events.width(), 346);
}

TEST(EventIo, DetectsFormatsAndParsesNames) {
  EXPECT_EQ(parse_format("evt3"), EventFormat::kEvt3);
  EXPECT_STREQ(format_name(EventFormat::kAedat4), "aedat4");
  EXPECT_DIFFEVENT_ERROR(parse_format("jpeg"), ErrorCode::kInvalidArgument,
                         "unknown event format 'jpeg'");
}

TEST(EventIo, StreamsChunksThatConcatenateToTheWholeFile) {
  test::TempDir dir;
  const auto ev = test::random_stream(640, 480, 2500000, 0, 10000000, 9);
  for (const char* name : {"s.raw", "s.dat", "s.txt"}) {
    SCOPED_TRACE(name);
    write_events(dir.file(name), ev);
    ReadOptions ro;
    EventStream all(640, 480);
    size_t chunks = 0;
    ro.on_chunk = [&](const EventStream& c) {
      EXPECT_LE(c.size(), size_t{1} << 20);
      all.append(c);
      ++chunks;
      return true;
    };
    const EventFile f = read_events(dir.file(name), ro);
    EXPECT_TRUE(f.events.empty());
    EXPECT_EQ(f.events.width(), 640);
    EXPECT_EQ(chunks, 3u);
    expect_same(ev, all);
    // Returning false cancels with a specific error.
    ro.on_chunk = [](const EventStream&) { return false; };
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file(name), ro), ErrorCode::kCancelled,
                           "cancelled by the chunk callback");
  }
  // Without a stated sensor size (.npy), chunks are held, the size is inferred at the end, and
  // the chunks still concatenate to the whole read.
  write_events(dir.file("s.npy"), ev);
  ReadOptions ro;
  EventStream held;
  size_t held_chunks = 0;
  ro.on_chunk = [&](const EventStream& c) {
    if (held_chunks++ == 0) held = EventStream(c.width(), c.height());
    held.append(c);
    return true;
  };
  const EventFile f = read_events(dir.file("s.npy"), ro);
  EXPECT_TRUE(f.size_inferred);
  EXPECT_EQ(held_chunks, 3u);
  const EventFile whole = read_events(dir.file("s.npy"));
  expect_same(whole.events, held);
  ro.sort_if_unsorted = true;
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("s.npy"), ro), ErrorCode::kInvalidArgument,
                         "cannot sort");
}

TEST(EventIo, Aedat4RoundTripsUncompressedLz4AndZstd) {
  if (!aedat4_compression_supported()) GTEST_SKIP() << "LZ4/ZSTD not compiled in";
  test::TempDir dir;
  const auto ev = test::random_stream(320, 240, 20000, 1605537493718345, 1605537494308262, 4);
  for (auto c : {WriteOptions::Compression::kNone, WriteOptions::Compression::kLz4,
                 WriteOptions::Compression::kZstd}) {
    SCOPED_TRACE(static_cast<int>(c));
    WriteOptions wo;
    wo.aedat_compression = c;
    wo.aedat_packet_events = 3000;  // several packets, the last one partial
    write_events(dir.file("a.aedat4"), ev, wo);
    const auto f = read_events(dir.file("a.aedat4"));
    EXPECT_EQ(f.format, EventFormat::kAedat4);
    expect_same(ev, f.events);
  }
  // A packet cut short is reported, not decoded from garbage.
  std::string bytes = read_bytes(dir.file("a.aedat4"));
  bytes.resize(bytes.size() - 10);
  write_bytes(dir.file("cut.aedat4"), bytes);
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("cut.aedat4")), ErrorCode::kFormatError, "truncated");
}

TEST(EventIo, Aedat4ReadsNameTheFirstBadEventInFileOrderWhateverTheCompression) {
  // Given 200,000 events in packets of 3,000 (decompressed on several threads at once) whose
  // only coordinates beyond x = 639 are at indices 123,457 and 190,001: read as a 640-wide
  // sensor, every compression names index 123,457, as the uncompressed file does.
  if (!aedat4_compression_supported()) GTEST_SKIP() << "LZ4/ZSTD not compiled in";
  test::TempDir dir;
  const size_t n = 200000;
  std::vector<TimestampUs> t(n);
  std::vector<uint16_t> x(n), y(n);
  std::vector<int8_t> p(n);
  for (size_t i = 0; i < n; ++i) {
    t[i] = static_cast<TimestampUs>(1000 + i / 3);
    x[i] = static_cast<uint16_t>((i * 7) % 640);
    y[i] = static_cast<uint16_t>((i * 13) % 480);
    p[i] = (i % 5) < 2 ? 1 : -1;
  }
  x[123457] = 1000;
  x[190001] = 1279;
  IngestOptions io;
  io.polarity = PolarityEncoding::kMinusPlusOne;
  const EventStream ev = EventStream::from_arrays(1280, 480, t, x, y, p, io);
  for (auto c : {WriteOptions::Compression::kNone, WriteOptions::Compression::kLz4,
                 WriteOptions::Compression::kZstd}) {
    SCOPED_TRACE(static_cast<int>(c));
    WriteOptions wo;
    wo.aedat_compression = c;
    wo.aedat_packet_events = 3000;
    write_events(dir.file("a.aedat4"), ev, wo);
    expect_same(ev, read_events(dir.file("a.aedat4")).events);
    ReadOptions ro;
    ro.width = 640;
    ro.height = 480;
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file("a.aedat4"), ro), ErrorCode::kOutOfRange,
                           "event at index 123457 (t = 42152 us) has (x, y) = (1000, 301) "
                           "outside the 640x480 sensor");
    // The event limit, reached inside a packet.
    ReadOptions few;
    few.max_events = 150000;
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file("a.aedat4"), few), ErrorCode::kOutOfRange,
                           "more than 150000 events");
    // Streaming hands over the same events.
    EventStream held(1280, 480);
    ReadOptions stream;
    stream.on_chunk = [&](const EventStream& chunk) {
      held.append(chunk);
      return true;
    };
    read_events(dir.file("a.aedat4"), stream);
    expect_same(ev, held);
  }
}

TEST(EventIo, Aedat4TimeOrderIsCheckedInsideAndAcrossPackets) {
  // Given an uncompressed file of 10,000 events in packets of 3,000 whose timestamps are all
  // distinct: setting event 4,500's (inside the second packet) or event 6,000's (the third
  // packet's first) to 0 is named at that index, and the sort option reads it sorted.
  test::TempDir dir;
  const auto ev = test::random_stream(320, 240, 10000, 0, 1, 5);
  std::vector<TimestampUs> t(ev.size());
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<TimestampUs>(1000000 + 3 * i);
  IngestOptions io;
  io.polarity = PolarityEncoding::kMinusPlusOne;
  const EventStream ordered = EventStream::from_arrays(320, 240, t, ev.x(), ev.y(), ev.p(), io);
  WriteOptions wo;
  wo.aedat_compression = WriteOptions::Compression::kNone;
  wo.aedat_packet_events = 3000;
  write_events(dir.file("a.aedat4"), ordered, wo);
  const std::string bytes = read_bytes(dir.file("a.aedat4"));
  for (size_t k : {size_t{4500}, size_t{6000}}) {
    SCOPED_TRACE(k);
    std::string patched = bytes;
    const int64_t old_t = t[k], zero = 0;
    const size_t at = patched.find(std::string(reinterpret_cast<const char*>(&old_t), 8));
    ASSERT_NE(at, std::string::npos);
    patched.replace(at, 8, std::string(reinterpret_cast<const char*>(&zero), 8));
    write_bytes(dir.file("p.aedat4"), patched);
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file("p.aedat4")), ErrorCode::kFormatError,
                           fmt::format("timestamp at index {} (0 us) is earlier", k));
    ReadOptions ro;
    ro.sort_if_unsorted = true;
    const EventFile f = read_events(dir.file("p.aedat4"), ro);
    ASSERT_EQ(f.events.size(), ordered.size());
    EXPECT_EQ(f.events.t_us()[0], 0);
    EXPECT_TRUE(std::is_sorted(f.events.t_us().begin(), f.events.t_us().end()));
  }
}

TEST(EventIo, Aedat4PacketsThatExpandBeyond32MiBAreRefused) {
  // Given a ZSTD file whose first packet is a 1 KiB frame of run-length blocks that would
  // expand to 40 MiB (a decompression bomb): the read stops at 32 MiB and names it. The writer
  // refuses packets the reader would refuse.
  if (!aedat4_compression_supported()) GTEST_SKIP() << "LZ4/ZSTD not compiled in";
  test::TempDir dir;
  const auto ev = test::random_stream(64, 48, 100, 0, 1000, 2);
  WriteOptions wo;
  wo.aedat_compression = WriteOptions::Compression::kZstd;
  write_events(dir.file("a.aedat4"), ev, wo);
  std::string bytes = read_bytes(dir.file("a.aedat4"));
  uint32_t hlen = 0;
  std::memcpy(&hlen, bytes.data() + 14, 4);
  const size_t packet = 18 + hlen;  // (stream, size) then the body
  std::string bomb = "\x28\xb5\x2f\xfd";
  bomb += '\0';               // frame header: no content size, not single-segment
  bomb += '\x38';             // window 128 KiB
  const size_t blocks = 320;  // 320 x 128 KiB = 40 MiB
  for (size_t b = 0; b < blocks; ++b) {
    const uint32_t h = (uint32_t{131072} << 3) | (1u << 1) | (b + 1 == blocks ? 1u : 0u);
    bomb.append(reinterpret_cast<const char*>(&h), 3);  // an RLE block of 131072 bytes...
    bomb += 'x';                                        // ...of this byte
  }
  const auto size = static_cast<uint32_t>(bomb.size());
  bytes = bytes.substr(0, packet + 4) + std::string(reinterpret_cast<const char*>(&size), 4) + bomb;
  write_bytes(dir.file("bomb.aedat4"), bytes);
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("bomb.aedat4")), ErrorCode::kFormatError,
                         "a compressed packet expands beyond 32 MiB");
  wo.aedat_packet_events = (size_t{1} << 20) + 1;
  EXPECT_DIFFEVENT_ERROR(write_events(dir.file("big.aedat4"), ev, wo), ErrorCode::kInvalidArgument,
                         "aedat_packet_events is 1048577");
}

TEST(EventIo, AWriteThatRunsOutOfSpaceIsAnErrorAndTheProcessLivesOn) {
  // Given a child process allowed to write files of at most 64 KB (as a full disk would stop
  // it): writing 100,000 events fails with kIoError naming the output, leaves no file, and the
  // process exits normally afterwards (HDF5 keeps no half-closed file that crashes at exit).
  test::TempDir dir;
  std::vector<EventFormat> formats = {EventFormat::kNpz, EventFormat::kText};
  if (hdf5_supported()) formats.push_back(EventFormat::kHdf5);
  for (EventFormat format : formats) {
    SCOPED_TRACE(format_name(format));
    const std::string out = dir.file(std::string("e.") + (format == EventFormat::kHdf5  ? "h5"
                                                          : format == EventFormat::kNpz ? "npz"
                                                                                        : "txt"));
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead
      rlimit lim{64 << 10, 64 << 10};
      setrlimit(RLIMIT_FSIZE, &lim);
      const EventStream ev = test::random_stream(64, 48, 100000, 0, 20000, 1);
      int code = 1;
      try {
        WriteOptions w;
        w.format = format;
        write_events(out, ev, w);
      } catch (const Error& e) {
        const std::string what = e.what();
        code = e.code() == ErrorCode::kIoError && what.find(out) != std::string::npos &&
                       what.find(".tmp") == std::string::npos
                   ? 0
                   : 2;
        if (code != 0) std::fprintf(stderr, "%s\n", e.what());
      }
      std::exit(code);  // runs the libraries' exit handlers, where a leaked HDF5 file crashed
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status))
        << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                            std::filesystem::directory_iterator()),
              0);
  }
}

TEST(EventIo, RunningOutOfMemoryNamesTheFile) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "an address-space limit cannot apply under a sanitizer's shadow memory";
#else
  // Given an .npz of 5 million events (65 MB in memory), read in a child whose address space
  // allows about 48 MB more than it holds
  test::TempDir dir;
  const std::string path = dir.file("big.npz");
  {
    EventStream ev(64, 48);
    ev.reserve(5000000);
    for (int i = 0; i < 5000000; ++i) ev.push_back(i, 1, 2, 1);
    write_events(path, ev);
  }
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    long pages = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld", &pages) != 1) pages = 0;
      std::fclose(f);
    }
    const rlim_t limit =
        static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) + (48u << 20);
    rlimit lim{limit, limit};
    setrlimit(RLIMIT_AS, &lim);
    int code = 1;
    try {
      ReadOptions ro;
      ro.width = 64, ro.height = 48;
      (void)read_events(path, ro);
    } catch (const Error& e) {
      // Then it is an out-of-memory error that names the file and the limit to lower
      const std::string what = e.what();
      code = e.code() == ErrorCode::kOutOfMemory && what.find(path) != std::string::npos &&
                     what.find("out of memory while reading its events") != std::string::npos &&
                     what.find("ReadOptions::max_events") != std::string::npos
                 ? 0
                 : 2;
      if (code != 0) std::fprintf(stderr, "%s\n", e.what());
    } catch (...) {
      code = 3;
    }
    std::_Exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_STREQ(error_code_name(ErrorCode::kOutOfMemory), "out of memory");
#endif
}

TEST(EventIo, NpzColumnsAreStreamedAndTheirShapesChecked) {
  // Given NPZ files of four column arrays: a good one reads back; shapes that declare more
  // items than their member holds, or more than any array can, are named; columns of
  // different lengths are named.
  test::TempDir dir;
  auto column = [](const char* descr, const std::string& shape, const std::string& data) {
    return test::npy_file(
        fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape),
        data);
  };
  auto i64 = [](std::vector<int64_t> v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8);
  };
  auto u16 = [](std::vector<uint16_t> v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 2);
  };
  const std::string t = column("<i8", "(3,)", i64({10, 20, 30})),
                    x = column("<u2", "(3,)", u16({1, 2, 3})),
                    y = column("<u2", "(3,)", u16({4, 5, 6})),
                    p = column("|i1", "(3,)", std::string("\x01\x00\x01", 3));
  write_bytes(dir.file("good.npz"),
              test::stored_zip({{"t.npy", t}, {"x.npy", x}, {"y.npy", y}, {"p.npy", p}}));
  ReadOptions ro;
  ro.width = 8, ro.height = 8;
  const EventFile good = read_events(dir.file("good.npz"), ro);
  ASSERT_EQ(good.events.size(), 3u);
  EXPECT_EQ(good.events.t_us()[2], 30);
  EXPECT_EQ(good.events.y()[1], 5);
  EXPECT_EQ(good.events.p()[1], -1);
  const std::string lying = column("<i8", "(2305843009213693953,)", i64({10, 20, 30}));
  write_bytes(dir.file("lying.npz"),
              test::stored_zip({{"t.npy", lying}, {"x.npy", x}, {"y.npy", y}, {"p.npy", p}}));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("lying.npz"), ro), ErrorCode::kOutOfRange,
                         "implausibly large");
  const std::string square = column("<i8", "(4294967296, 4294967296)", i64({10, 20, 30}));
  write_bytes(dir.file("square.npz"),
              test::stored_zip({{"t.npy", square}, {"x.npy", x}, {"y.npy", y}, {"p.npy", p}}));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("square.npz"), ro), ErrorCode::kOutOfRange,
                         "implausibly large");
  const std::string more = column("<i8", "(4,)", i64({10, 20, 30}));
  write_bytes(dir.file("more.npz"),
              test::stored_zip({{"t.npy", more}, {"x.npy", x}, {"y.npy", y}, {"p.npy", p}}));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("more.npz"), ro), ErrorCode::kFormatError,
                         "declares 4 items of 8 bytes");
  const std::string two = column("<u2", "(2,)", u16({1, 2}));
  write_bytes(dir.file("short.npz"),
              test::stored_zip({{"t.npy", t}, {"x.npy", two}, {"y.npy", y}, {"p.npy", p}}));
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("short.npz"), ro), ErrorCode::kFormatError,
                         "differ in length (t 3, x 2");
}

TEST(EventIo, ReadsStopAtTheHostsEventLimit) {
  // Given a host limit of 999 events: every format refuses a 1000-event file by name, and a
  // file at the limit reads.
  test::TempDir dir;
  const auto ev = test::random_stream(64, 48, 1000, 0, 100000, 5);
  for (const char* name : {"e.txt", "e.npy", "e.npz", "e.dat", "e.raw"}) {
    SCOPED_TRACE(name);
    write_events(dir.file(name), ev);
    ReadOptions o;
    o.width = 64, o.height = 48;
    o.max_events = 999;
    EXPECT_DIFFEVENT_ERROR(read_events(dir.file(name), o), ErrorCode::kOutOfRange,
                           "more than 999 events");
    o.max_events = 1000;
    EXPECT_EQ(read_events(dir.file(name), o).events.size(), 1000u);
  }
}

TEST(EventIo, NumpyBlocksDecodeEveryDtypeAndNameTheFirstBadEvent) {
  // Given .npy files of 150,000 events (three read blocks) in several column types, with one
  // bad event placed in the third block
  test::TempDir dir;
  constexpr size_t n = 150000;
  auto file = [&](const std::string& name, const std::string& descr, auto make_row) {
    std::string data;
    for (size_t i = 0; i < n; ++i) data += make_row(i);
    write_bytes(dir.file(name),
                test::npy_file("{'descr': " + descr + ", 'fortran_order': False, 'shape': (" +
                                   std::to_string(n) + ",), }",
                               data));
    return dir.file(name);
  };
  auto bytes = [](auto v) { return std::string(reinterpret_cast<const char*>(&v), sizeof(v)); };
  const std::string descr_i = "[('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|i1')]";
  const std::string descr_f =
      "[('timestamp', '<f8'), ('x', '<i2'), ('y', '<i4'), ('polarity', '|b1')]";
  auto good = [&](size_t i) {
    return bytes(int64_t(i)) + bytes(uint16_t(i % 64)) + bytes(uint16_t(i % 48)) +
           bytes(int8_t(i % 3 == 0 ? 1 : 0));
  };
  // Then both layouts read to the same stream (float seconds to microseconds, bool polarity)
  ReadOptions ro;
  ro.width = 64, ro.height = 48;
  const EventFile a = read_events(file("i.npy", descr_i, good), ro);
  const EventFile b = read_events(file("f.npy", descr_f,
                                       [&](size_t i) {
                                         return bytes(double(i) * 1e-6) + bytes(int16_t(i % 64)) +
                                                bytes(int32_t(i % 48)) + bytes(uint8_t(i % 3 == 0));
                                       }),
                                  ro);
  ASSERT_EQ(a.events.size(), n);
  expect_same(a.events, b.events);
  EXPECT_EQ(a.events.t_us()[123456], 123456);
  EXPECT_EQ(a.events.x()[123456], 123456 % 64);
  EXPECT_EQ(a.events.p()[123456], 123456 % 3 == 0 ? 1 : -1);
  // And a bad event deep in the file is named by its index
  auto with_bad = [&](size_t bad, auto make_bad) {
    return [=](size_t i) { return i == bad ? make_bad(i) : good(i); };
  };
  EXPECT_DIFFEVENT_ERROR(
      read_events(file("x.npy", descr_i,
                       with_bad(140001,
                                [&](size_t i) {
                                  return bytes(int64_t(i)) + bytes(uint16_t(64)) +
                                         bytes(uint16_t(0)) + bytes(int8_t(1));
                                })),
                  ro),
      ErrorCode::kOutOfRange, "event at index 140001 (t = 140001 us) has (x, y) = (64, 0) outside");
  EXPECT_DIFFEVENT_ERROR(read_events(file("p.npy", descr_i,
                                          with_bad(140002,
                                                   [&](size_t i) {
                                                     return bytes(int64_t(i)) + bytes(uint16_t(0)) +
                                                            bytes(uint16_t(0)) + bytes(int8_t(2));
                                                   })),
                                     ro),
                         ErrorCode::kFormatError, "polarity at index 140002 is 2");
  const std::string late =
      file("t.npy", descr_i, with_bad(140003, [&](size_t) {
             return bytes(int64_t(5)) + bytes(uint16_t(0)) + bytes(uint16_t(0)) + bytes(int8_t(1));
           }));
  EXPECT_DIFFEVENT_ERROR(read_events(late, ro), ErrorCode::kFormatError,
                         "timestamp at index 140003 (5 us)");
  ro.sort_if_unsorted = true;
  const EventFile sorted = read_events(late, ro);
  EXPECT_EQ(sorted.events.t_us()[5], 5);
  EXPECT_TRUE(std::is_sorted(sorted.events.t_us().begin(), sorted.events.t_us().end()));
  // And a count limit inside a block stops at that count
  ro.sort_if_unsorted = false;
  ro.max_events = 140000;
  EXPECT_DIFFEVENT_ERROR(read_events(dir.file("i.npy"), ro), ErrorCode::kOutOfRange,
                         "more than 140000 events");
}
