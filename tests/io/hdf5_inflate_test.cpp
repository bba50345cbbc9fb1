// gzip-compressed HDF5 event files read through the parallel inflater (lib/io/hdf5_inflate.cpp):
// files written here with libhdf5 itself, in the layouts other writers use (h5py's shuffle
// before deflate, signed and wider integer columns, DSEC names, a chunk stored unfiltered),
// read back exactly; damaged chunks are named.
#include <fmt/format.h>
#include <hdf5.h>
#include <zlib.h>

#include <cmath>

#include "test_util.hpp"

using namespace diffevent;

namespace {

struct Column {
  const char* name;
  hid_t file_type;
  bool shuffle;
};

// Writes a 1-D dataset of n elements (values from v, converted by HDF5 from double) in chunks
// of `chunk`, deflate level 4, after the shuffle filter when asked.
void write_column(hid_t file, const Column& c, const std::vector<double>& v, hsize_t chunk) {
  hsize_t n = v.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  if (c.shuffle) H5Pset_shuffle(dcpl);
  H5Pset_deflate(dcpl, 4);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t ds = H5Dcreate2(file, c.name, c.file_type, space, lcpl, dcpl, H5P_DEFAULT);
  ASSERT_GE(ds, 0) << c.name;
  ASSERT_GE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
  H5Dclose(ds);
  H5Pclose(lcpl);
  H5Pclose(dcpl);
  H5Sclose(space);
}

struct Events {
  std::vector<double> x, y, t, p;
};

// n events on a 640 x 480 sensor, strictly increasing times (seconds, microsecond steps).
Events make_events(size_t n) {
  Events e;
  for (size_t i = 0; i < n; ++i) {
    e.x.push_back(static_cast<double>((i * 37) % 640));
    e.y.push_back(static_cast<double>((i * 11) % 480));
    e.t.push_back(1.5 + 1e-6 * static_cast<double>(3 * i));
    e.p.push_back(static_cast<double>((i / 7) % 2));
  }
  return e;
}

void expect_events(const EventStream& s, const Events& e, int64_t t0_us) {
  ASSERT_EQ(s.size(), e.x.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.x()[i] != e.x[i] || s.y()[i] != e.y[i] ||
        s.t_us()[i] != t0_us + static_cast<int64_t>(3 * i) || s.p()[i] != (e.p[i] > 0 ? 1 : -1)) {
      ADD_FAILURE() << "event " << i << " differs";
      return;
    }
  }
}

// Overwrites chunk `index` of dataset `name` with raw bytes (HDF5 stores them as given, with
// the filter mask that says which filters were applied).
void write_raw_chunk(const std::string& path, const char* name, hsize_t offset, uint32_t mask,
                     const std::string& bytes) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
  ASSERT_GE(H5Dwrite_chunk(ds, H5P_DEFAULT, mask, &offset, bytes.size(), bytes.data()), 0);
  H5Dclose(ds);
  H5Fclose(f);
}

}  // namespace

TEST(Hdf5Inflate, EventUtilsLayoutWithShuffleAndDeflateReadsExactly) {
  // Given 250,003 events in chunks of 1,000 (the last one partial): coordinates as uint16 (x
  // shuffled), times as float64 seconds (shuffled), polarity as uint8. Read whole, streamed,
  // twice, and as a 640 x 100 sensor (the first bad event named).
  test::TempDir dir;
  const std::string path = dir.file("e.h5");
  const Events e = make_events(250003);
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_column(f, {"events/xs", H5T_STD_U16LE, true}, e.x, 1000);
  write_column(f, {"events/ys", H5T_STD_U16LE, false}, e.y, 1000);
  write_column(f, {"events/ts", H5T_IEEE_F64LE, true}, e.t, 1000);
  write_column(f, {"events/ps", H5T_STD_U8LE, false}, e.p, 1000);
  H5Fclose(f);
  ReadOptions ro;
  ro.width = 640;
  ro.height = 480;
  expect_events(read_events(path, ro).events, e, 1500000);
  EventStream held(640, 480);
  ReadOptions streamed = ro;
  streamed.on_chunk = [&](const EventStream& c) {
    held.append(c);
    return true;
  };
  read_events(path, streamed);
  expect_events(held, e, 1500000);
  // The first y >= 100: i * 11 mod 480 >= 100 first at i = 10 (110).
  ReadOptions small = ro;
  small.height = 100;
  EXPECT_DIFFEVENT_ERROR(read_events(path, small), ErrorCode::kOutOfRange,
                         "event at index 10 (t = 1500030 us) has (x, y) = (370, 110) outside the "
                         "640x100 sensor");
  // A second read of the same file (the reader starts over) gives the same events.
  expect_events(read_events(path, ro).events, e, 1500000);
  // The shuffled column goes through the inflater: its damage is named by it.
  write_raw_chunk(path, "events/xs", 2000, 0u, std::string(100, 'x'));
  EXPECT_DIFFEVENT_ERROR(read_events(path, ro), ErrorCode::kFormatError,
                         "chunk 2 of dataset events/xs is not valid deflate data");
}

TEST(Hdf5Inflate, DsecLayoutWithWideSignedColumnsReadsExactly) {
  // DSEC names, int32 x, int64 y (shuffled), int64 microsecond t plus t_offset, int8 p
  // (shuffled): every column converted by the reader itself.
  test::TempDir dir;
  const std::string path = dir.file("d.h5");
  const Events e = make_events(70001);
  std::vector<double> t_us(e.t.size());
  for (size_t i = 0; i < t_us.size(); ++i) t_us[i] = static_cast<double>(3 * i);
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_column(f, {"events/x", H5T_STD_I32LE, false}, e.x, 4096);
  write_column(f, {"events/y", H5T_STD_I64LE, true}, e.y, 4096);
  write_column(f, {"events/t", H5T_STD_I64LE, false}, t_us, 4096);
  write_column(f, {"events/p", H5T_STD_I8LE, true}, e.p, 4096);
  const hid_t scalar = H5Screate(H5S_SCALAR);
  const hid_t off =
      H5Dcreate2(f, "t_offset", H5T_STD_I64LE, scalar, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const int64_t offset = 1500000;
  H5Dwrite(off, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &offset);
  H5Dclose(off);
  H5Sclose(scalar);
  H5Fclose(f);
  ReadOptions ro;
  ro.width = 640;
  ro.height = 480;
  expect_events(read_events(path, ro).events, e, 1500000);
  // Damage accumulates, last column first: each read names the first damaged column.
  for (const char* name : {"events/p", "events/t", "events/y", "events/x"}) {
    SCOPED_TRACE(name);
    write_raw_chunk(path, name, 4096, 0u, std::string(100, 'x'));
    EXPECT_DIFFEVENT_ERROR(read_events(path, ro), ErrorCode::kFormatError,
                           fmt::format("chunk 1 of dataset {} is not valid deflate data", name));
  }
}

TEST(Hdf5Inflate, UnfilteredAndDamagedChunksAreReadOrNamed) {
  // Given the event_utils file of the first test with 20,000 events: chunk 3 of ts rewritten
  // unfiltered with the filter mask saying so (as HDF5 stores a chunk its optional filters
  // skipped) reads exactly; garbage in place of a deflate stream, and a deflate stream of the
  // wrong length, are named with the chunk and dataset.
  test::TempDir dir;
  const std::string path = dir.file("e.h5");
  const Events e = make_events(20000);
  auto write_file = [&] {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    write_column(f, {"events/xs", H5T_STD_U16LE, false}, e.x, 1000);
    write_column(f, {"events/ys", H5T_STD_U16LE, false}, e.y, 1000);
    write_column(f, {"events/ts", H5T_IEEE_F64LE, false}, e.t, 1000);
    write_column(f, {"events/ps", H5T_STD_U8LE, false}, e.p, 1000);
    H5Fclose(f);
  };
  ReadOptions ro;
  ro.width = 640;
  ro.height = 480;
  write_file();
  std::string raw(1000 * sizeof(double), '\0');
  std::memcpy(raw.data(), e.t.data() + 3000, raw.size());
  write_raw_chunk(path, "events/ts", 3000, 1u, raw);  // bit 0: deflate (filter 0) skipped
  expect_events(read_events(path, ro).events, e, 1500000);

  write_file();
  write_raw_chunk(path, "events/ts", 5000, 0u, std::string(300, 'x'));
  EXPECT_DIFFEVENT_ERROR(read_events(path, ro), ErrorCode::kFormatError,
                         "chunk 5 of dataset events/ts is not valid deflate data");

  write_file();
  std::string half(500 * sizeof(double), '\0');
  std::memcpy(half.data(), e.t.data() + 7000, half.size());
  std::string z(compressBound(static_cast<uLong>(half.size())), '\0');
  uLongf zn = static_cast<uLongf>(z.size());
  ASSERT_EQ(compress(reinterpret_cast<Bytef*>(z.data()), &zn,
                     reinterpret_cast<const Bytef*>(half.data()), static_cast<uLong>(half.size())),
            Z_OK);
  z.resize(zn);
  write_raw_chunk(path, "events/ts", 7000, 0u, z);
  EXPECT_DIFFEVENT_ERROR(read_events(path, ro), ErrorCode::kFormatError,
                         "chunk 7 of dataset events/ts");
}

TEST(Hdf5Inflate, ChunksNeverWrittenAreLeftToHdf5AndItsFillValues) {
  // Given a gzip file whose ts dataset had only its first chunk of three written: the column
  // is read by libhdf5 (fill value 0 beyond it), and the first zero time is named as out of
  // order, as it would be uncompressed.
  test::TempDir dir;
  const std::string path = dir.file("e.h5");
  const Events e = make_events(3000);
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  write_column(f, {"events/xs", H5T_STD_U16LE, false}, e.x, 1000);
  write_column(f, {"events/ys", H5T_STD_U16LE, false}, e.y, 1000);
  write_column(f, {"events/ps", H5T_STD_U8LE, false}, e.p, 1000);
  {
    hsize_t n = 3000, chunk = 1000, first = 0, count = 1000;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_deflate(dcpl, 4);
    const hid_t ds =
        H5Dcreate2(f, "events/ts", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    const hid_t mem = H5Screate_simple(1, &count, nullptr);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &first, nullptr, &count, nullptr);
    ASSERT_GE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, e.t.data()), 0);
    H5Sclose(mem);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  H5Fclose(f);
  ReadOptions ro;
  ro.width = 640;
  ro.height = 480;
  EXPECT_DIFFEVENT_ERROR(read_events(path, ro), ErrorCode::kFormatError,
                         "timestamp at index 1000 (0 us) is earlier than the one before it "
                         "(1502997 us)");
}
