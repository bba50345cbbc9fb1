// event_utils / EFNet HDF5: events/{xs,ys,ts,ps} (ts float seconds or integer us), optional
// DSEC-style events/{x,y,t,p} + t_offset, root attribute sensor_resolution = [H, W], and
// images/imageNNNNNNNNN with exposure_start/exposure_end (seconds) or timestamp attributes.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"
#include "io/hdf5_header.hpp"
#include "io/hdf5_util.hpp"

#ifdef DIFFEVENT_HAVE_HDF5
#include <hdf5.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {

#ifdef DIFFEVENT_HAVE_HDF5
using namespace hdf5;

EventFile read_hdf5(const std::string& path, const ReadOptions& o) {
  QuietHdf5 quiet;
  const HeaderVetting vetting(path);  // also reports a missing or unreadable file
  Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  DIFFEVENT_CHECK(file.ok(), ErrorCode::kFormatError,
                  "'{}': not a readable HDF5 file (corrupt or truncated)", path);
  const bool has_events = vetting.vet(file, "events");
  const bool utils = has_events && exists(file, "events/xs");
  const bool dsec = has_events && exists(file, "events/x") && exists(file, "events/t");
  DIFFEVENT_CHECK(utils || dsec, ErrorCode::kFormatError,
                  "'{}': HDF5 file has no events/xs, ys, ts, ps (event_utils/EFNet) or events/x, "
                  "y, t, p (DSEC)",
                  path);
  const char* nx = utils ? "events/xs" : "events/x";
  const char* ny = utils ? "events/ys" : "events/y";
  const char* nt = utils ? "events/ts" : "events/t";
  const char* np = utils ? "events/ps" : "events/p";
  for (const char* n : {nx, ny, nt, np})
    DIFFEVENT_CHECK(exists(file, n), ErrorCode::kFormatError, "'{}': dataset {} is missing", path,
                    n);
  Hid dx(vetting.open(file, nx), H5Dclose), dy(vetting.open(file, ny), H5Dclose),
      dt(vetting.open(file, nt), H5Dclose), dp(vetting.open(file, np), H5Dclose);
  for (auto [ds, name] : {std::pair<hid_t, const char*>{dx, nx}, {dy, ny}, {dt, nt}, {dp, np}}) {
    DIFFEVENT_CHECK(ds >= 0, ErrorCode::kFormatError,
                    "'{}': cannot open dataset {} (corrupt file?)", path, name);
    check_storage(ds, path, name);
  }
  const size_t n = dataset_length(dt, path, nt);
  DIFFEVENT_CHECK(dataset_length(dx, path, nx) == n && dataset_length(dy, path, ny) == n &&
                      dataset_length(dp, path, np) == n,
                  ErrorCode::kFormatError, "'{}': event datasets differ in length", path);
  Hid ttype(H5Dget_type(dt), H5Tclose);
  const bool t_float = H5Tget_class(ttype) == H5T_FLOAT;
  int64_t t_offset = 0;
  // DSEC stores t_offset as a scalar dataset; some writers use a root attribute.
  if (dsec && !read_attr_int64(file, "t_offset", t_offset) && exists(file, "t_offset")) {
    Hid d(vetting.open(file, "t_offset"), H5Dclose);
    check_storage(d, path, "t_offset");
    DIFFEVENT_CHECK(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &t_offset) >= 0,
                    ErrorCode::kFormatError, "'{}': cannot read t_offset", path);
  }
  int w = o.width, h = o.height;
  std::vector<double> res;
  if (w == 0 && read_attr_double(file, "sensor_resolution", res) && res.size() == 2) {
    DIFFEVENT_CHECK(res[0] >= 1 && res[1] >= 1 && res[0] <= 65535 && res[1] <= 65535,
                    ErrorCode::kFormatError, "'{}': sensor_resolution [{}, {}] is invalid", path,
                    res[0], res[1]);  // also rejects NaN
    h = static_cast<int>(res[0]);
    w = static_cast<int>(res[1]);
  }
  EventBuilder b(path, w, h, o);
  constexpr size_t kChunk = 1 << 20;
  std::vector<int64_t> xs, ys, ps, ti;
  std::vector<double> tf;
  for (size_t first = 0; first < n; first += kChunk) {
    const size_t m = std::min(kChunk, n - first);
    xs.resize(m);
    ys.resize(m);
    ps.resize(m);
    read_range(dx, H5T_NATIVE_INT64, first, m, xs.data(), path, nx);
    read_range(dy, H5T_NATIVE_INT64, first, m, ys.data(), path, ny);
    read_range(dp, H5T_NATIVE_INT64, first, m, ps.data(), path, np);
    if (t_float) {
      tf.resize(m);
      read_range(dt, H5T_NATIVE_DOUBLE, first, m, tf.data(), path, nt);
    } else {
      ti.resize(m);
      read_range(dt, H5T_NATIVE_INT64, first, m, ti.data(), path, nt);
    }
    for (size_t i = 0; i < m; ++i) {
      TimestampUs t;
      if (t_float) {
        DIFFEVENT_CHECK(
            std::isfinite(tf[i]) && std::fabs(tf[i]) < 9.2e12, ErrorCode::kFormatError,
            "'{}': timestamp at index {} ({} s) is NaN, infinite or beyond int64 microseconds",
            path, first + i, tf[i]);
        t = static_cast<TimestampUs>(std::llround(tf[i] * 1e6));
      } else {
        DIFFEVENT_CHECK(!__builtin_add_overflow(ti[i], t_offset, &t), ErrorCode::kFormatError,
                        "'{}': timestamp at index {} plus t_offset overflows int64", path,
                        first + i);
      }
      DIFFEVENT_CHECK(ps[i] == 0 || ps[i] == 1 || ps[i] == -1, ErrorCode::kFormatError,
                      "'{}': polarity at index {} is {} (expected 0/1 or -1/+1)", path, first + i,
                      ps[i]);
      b.add(t, xs[i], ys[i], ps[i] == 1 ? 1 : -1);
    }
  }
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  // The first image and its exposure, when present.
  if (vetting.vet(file, "images")) {
    Hid g(H5Gopen2(file, "images", H5P_DEFAULT), H5Gclose);
    H5G_info_t info;
    if (g.ok() && H5Gget_info(g, &info) >= 0 && info.nlinks > 0) {
      std::vector<std::string> names;
      for (hsize_t i = 0; i < info.nlinks; ++i) {
        char name[256];
        if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                               H5P_DEFAULT) > 0)
          names.emplace_back(name);
      }
      for (const auto& name : names) {
        if (!vetting.is_dataset(g, name.c_str())) continue;
        Hid d(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);  // vetted by is_dataset
        if (!d.ok()) continue;
        int64_t s_us = 0, e_us = 0;
        std::vector<double> s, e;
        if (read_attr_int64(d, "exposure_start_us", s_us) &&
            read_attr_int64(d, "exposure_end_us", e_us)) {
          out.exposures.push_back({s_us, e_us});
        } else if (read_attr_double(d, "exposure_start", s) &&
                   read_attr_double(d, "exposure_end", e) && std::fabs(s[0]) < 9.2e12 &&
                   std::fabs(e[0]) < 9.2e12) {  // also false for NaN
          out.exposures.push_back({static_cast<TimestampUs>(std::llround(s[0] * 1e6)),
                                   static_cast<TimestampUs>(std::llround(e[0] * 1e6))});
        }
        if (out.image) continue;
        Hid space(H5Dget_space(d), H5Sclose);
        const int rank = H5Sget_simple_extent_ndims(space);
        hsize_t dims[3] = {0, 0, 0};
        if (rank < 2 || rank > 3) continue;
        H5Sget_simple_extent_dims(space, dims, nullptr);
        DIFFEVENT_CHECK(dims[0] >= 1 && dims[1] >= 1 && dims[0] <= 65535 && dims[1] <= 65535 &&
                            dims[0] * dims[1] <= (1u << 26),
                        ErrorCode::kFormatError, "'{}': image {} is {}x{} (corrupt file?)", path,
                        name, dims[1], dims[0]);
        check_storage(d, path, "images/" + name);
        const int ih = static_cast<int>(dims[0]), iw = static_cast<int>(dims[1]);
        const int ic = rank == 3 ? static_cast<int>(dims[2]) : 1;
        if (ic != 1 && ic != 3) continue;
        Hid ty(H5Dget_type(d), H5Tclose);
        const double scale =
            H5Tget_class(ty) == H5T_FLOAT ? 1.0 : (H5Tget_size(ty) == 1 ? 1.0 / 255 : 1.0 / 65535);
        std::vector<float> px(static_cast<size_t>(ih) * static_cast<size_t>(iw) *
                              static_cast<size_t>(ic));
        if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, px.data()) < 0) continue;
        Image img(ic, ih, iw);
        for (int y = 0; y < ih; ++y)
          for (int x = 0; x < iw; ++x)
            for (int c = 0; c < ic; ++c)
              img.at(c, y, x) = static_cast<float>(
                  px[(static_cast<size_t>(y) * static_cast<size_t>(iw) + static_cast<size_t>(x)) *
                         static_cast<size_t>(ic) +
                     static_cast<size_t>(c)] *
                  scale);
        out.image = std::move(img);
      }
    }
  }
  return out;
}

// Note [HDF5 files are built in memory]
// HDF5 never writes to the disk here: the file is built with the core driver (no backing
// store) and its image goes out through our own stdio writer. A file id whose close failed
// (a full disk fails the flush inside H5Fclose) stays registered in HDF5 and crashes its
// atexit cleanup, taking the host with it; an in-memory file's close cannot fail, and a write
// error is an ordinary kIoError. The cost is the file's size in memory while it is written.
void write_hdf5(const std::string& path, const EventStream& ev, const WriteOptions& w) {
  QuietHdf5 quiet;
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  const size_t increment = std::max<size_t>(size_t{1} << 20, ev.size() * 13 + (size_t{1} << 16));
  DIFFEVENT_CHECK(fapl.ok() && H5Pset_fapl_core(fapl, increment, /*backing_store=*/0) >= 0,
                  ErrorCode::kInternal, "HDF5: cannot set up an in-memory file for '{}'", path);
  Hid file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
  DIFFEVENT_CHECK(file.ok(), ErrorCode::kIoError, "cannot create HDF5 file '{}'", path);
  Hid g(H5Gcreate2(file, "events", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  std::vector<double> ts(ev.size());
  std::vector<uint8_t> ps(ev.size());
  for (size_t i = 0; i < ev.size(); ++i) {
    ts[i] = static_cast<double>(ev.t_us()[i]) * 1e-6;
    ps[i] = ev.p()[i] > 0 ? 1 : 0;
  }
  write_dataset(g, "xs", H5T_STD_U16LE, H5T_NATIVE_UINT16, ev.x());
  write_dataset(g, "ys", H5T_STD_U16LE, H5T_NATIVE_UINT16, ev.y());
  write_dataset(g, "ts", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, ts);
  write_dataset(g, "ps", H5T_STD_U8LE, H5T_NATIVE_UINT8, ps);
  write_attr_double(file, "sensor_resolution", {double(ev.height()), double(ev.width())});
  write_attr_int64(file, "num_events", static_cast<int64_t>(ev.size()));
  if (!ev.empty()) {
    write_attr_double(file, "t0", {ts.front()});
    write_attr_double(file, "tk", {ts.back()});
  }
  if (w.image || w.exposure) {
    Hid ig(H5Gcreate2(file, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    Hid ds(-1, H5Dclose);
    if (w.image) {
      const Image& im = *w.image;
      DIFFEVENT_CHECK(im.channels() == 1 || im.channels() == 3, ErrorCode::kInvalidArgument,
                      "write_hdf5: image must be grey or RGB");
      std::vector<uint8_t> px(im.size());
      for (int y = 0; y < im.height(); ++y)
        for (int x = 0; x < im.width(); ++x)
          for (int c = 0; c < im.channels(); ++c) {
            const float v = std::fmin(std::fmax(im.at(c, y, x), 0.0f), 1.0f);
            px[(static_cast<size_t>(y) * static_cast<size_t>(im.width()) + static_cast<size_t>(x)) *
                   static_cast<size_t>(im.channels()) +
               static_cast<size_t>(c)] = static_cast<uint8_t>(std::lround(v * 255));
          }
      hsize_t dims[3] = {static_cast<hsize_t>(im.height()), static_cast<hsize_t>(im.width()),
                         static_cast<hsize_t>(im.channels())};
      Hid space(H5Screate_simple(im.channels() == 1 ? 2 : 3, dims, nullptr), H5Sclose);
      Hid d(H5Dcreate2(ig, "image000000000", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT),
            H5Dclose);
      H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, px.data());
      if (w.exposure) {
        write_attr_double(d, "exposure_start", {double(w.exposure->t0_us) * 1e-6});
        write_attr_double(d, "exposure_end", {double(w.exposure->t1_us) * 1e-6});
        write_attr_double(d, "exposure_time", {double(w.exposure->duration_us()) * 1e-6});
        write_attr_double(d, "timestamp", {double(w.exposure->mid_us()) * 1e-6});
        write_attr_int64(d, "exposure_start_us", w.exposure->t0_us);
        write_attr_int64(d, "exposure_end_us", w.exposure->t1_us);
      }
    } else {
      // Exposure without image: a 1x1 placeholder keeps the event_utils layout valid.
      hsize_t dims[2] = {1, 1};
      Hid space(H5Screate_simple(2, dims, nullptr), H5Sclose);
      Hid d(H5Dcreate2(ig, "image000000000", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT,
                       H5P_DEFAULT),
            H5Dclose);
      uint8_t zero = 0;
      H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, &zero);
      write_attr_int64(d, "exposure_start_us", w.exposure->t0_us);
      write_attr_int64(d, "exposure_end_us", w.exposure->t1_us);
    }
  }
  DIFFEVENT_CHECK(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, ErrorCode::kIoError,
                  "HDF5: cannot finish '{}'", path);
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  DIFFEVENT_CHECK(size > 0, ErrorCode::kInternal, "HDF5: cannot get the image of '{}'", path);
  std::vector<char> image(static_cast<size_t>(size));
  DIFFEVENT_CHECK(H5Fget_file_image(file, image.data(), image.size()) == size, ErrorCode::kInternal,
                  "HDF5: cannot get the image of '{}'", path);
  std::unique_ptr<std::FILE, detail::FileCloser> f(detail::open_for_write(path));
  const bool ok = std::fwrite(image.data(), 1, image.size(), f.get()) == image.size() &&
                  std::fflush(f.get()) == 0;
  DIFFEVENT_CHECK(ok, ErrorCode::kIoError, "error while writing '{}': {}", path,
                  std::strerror(errno));
}
#else
EventFile read_hdf5(const std::string& path, const ReadOptions&) {
  throw Error(
      ErrorCode::kUnsupported,
      fmt::format("'{}': HDF5 support was not compiled in (DIFFEVENT_WITH_HDF5=OFF)", path));
}
void write_hdf5(const std::string& path, const EventStream&, const WriteOptions&) {
  throw Error(
      ErrorCode::kUnsupported,
      fmt::format("'{}': HDF5 support was not compiled in (DIFFEVENT_WITH_HDF5=OFF)", path));
}
#endif

}  // namespace detail

bool hdf5_supported() noexcept {
#ifdef DIFFEVENT_HAVE_HDF5
  return true;
#else
  return false;
#endif
}

bool aedat4_compression_supported() noexcept {
#if defined(DIFFEVENT_HAVE_LZ4) && defined(DIFFEVENT_HAVE_ZSTD)
  return true;
#else
  return false;
#endif
}

}  // namespace v1
}  // namespace diffevent
