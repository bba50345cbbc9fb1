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
#include <optional>
#include <thread>
#include <vector>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"
#include "io/hdf5_header.hpp"
#include "io/hdf5_inflate.hpp"
#include "io/hdf5_util.hpp"
#include "io/recording_source.hpp"

#ifdef DIFFEVENT_HAVE_HDF5
#include <hdf5.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {

#ifdef DIFFEVENT_HAVE_HDF5
using namespace hdf5;

namespace {

// The event datasets of a file (event_utils/EFNet or DSEC names), opened and checked once.
class EventDatasets {
 public:
  EventDatasets(hid_t file, const HeaderVetting& vetting, const std::string& path,
                const ReadOptions& o)
      : path_(path) {
    const bool has_events = vetting.vet(file, "events");
    const bool utils = has_events && exists(file, "events/xs");
    const bool dsec = has_events && exists(file, "events/x") && exists(file, "events/t");
    DIFFEVENT_CHECK(utils || dsec, ErrorCode::kFormatError,
                    "'{}': HDF5 file has no events/xs, ys, ts, ps (event_utils/EFNet) or events/x, "
                    "y, t, p (DSEC)",
                    path);
    names_[0] = utils ? "events/xs" : "events/x";
    names_[1] = utils ? "events/ys" : "events/y";
    names_[2] = utils ? "events/ts" : "events/t";
    names_[3] = utils ? "events/ps" : "events/p";
    for (const char* n : names_)
      DIFFEVENT_CHECK(exists(file, n), ErrorCode::kFormatError, "'{}': dataset {} is missing", path,
                      n);
    for (int i = 0; i < 4; ++i) {
      ds_[i] = std::make_unique<Hid>(vetting.open(file, names_[i]), H5Dclose);
      DIFFEVENT_CHECK(ds_[i]->ok(), ErrorCode::kFormatError,
                      "'{}': cannot open dataset {} (corrupt file?)", path, names_[i]);
      check_storage(*ds_[i], path, names_[i]);
    }
    n_ = dataset_length(*ds_[2], path, names_[2]);
    for (int i : {0, 1, 3})
      DIFFEVENT_CHECK(dataset_length(*ds_[i], path, names_[i]) == n_, ErrorCode::kFormatError,
                      "'{}': event datasets differ in length", path);
    Hid ttype(H5Dget_type(*ds_[2]), H5Tclose);
    t_float_ = H5Tget_class(ttype) == H5T_FLOAT;
    // Unsigned coordinates of at most 16 bits are read as such (HDF5's conversion to int64 is
    // slow); anything else goes through int64, where a negative one is caught.
    Hid ptype(H5Dget_type(*ds_[3]), H5Tclose);
    p_unsigned8_ = H5Tget_class(ptype) == H5T_INTEGER && H5Tget_size(ptype) == 1 &&
                   H5Tget_sign(ptype) == H5T_SGN_NONE;
    xy16_ = true;
    for (int i : {0, 1}) {
      Hid ty(H5Dget_type(*ds_[i]), H5Tclose);
      xy16_ = xy16_ && H5Tget_class(ty) == H5T_INTEGER && H5Tget_sign(ty) == H5T_SGN_NONE &&
              H5Tget_size(ty) <= 2;
    }
    // DSEC stores t_offset as a scalar dataset; some writers use a root attribute.
    if (dsec && !read_attr_int64(file, "t_offset", t_offset_) && exists(file, "t_offset")) {
      Hid d(vetting.open(file, "t_offset"), H5Dclose);
      check_storage(d, path, "t_offset");
      DIFFEVENT_CHECK(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &t_offset_) >= 0,
                      ErrorCode::kFormatError, "'{}': cannot read t_offset", path);
    }
    // gzip-compressed columns are inflated on every core (Note [Parallel inflate]).
    const MemType xy = xy16_ ? MemType::kU16 : MemType::kI64;
    const MemType want[4] = {xy, xy, t_float_ ? MemType::kF64 : MemType::kI64,
                             p_unsigned8_ ? MemType::kU8 : MemType::kI8};
    for (int i = 0; i < 4; ++i) inflate_.add(i, *ds_[i], want[i], path_, names_[i]);
    width = o.width;
    height = o.height;
    std::vector<double> res;
    if (width == 0 && read_attr_double(file, "sensor_resolution", res) && res.size() == 2) {
      DIFFEVENT_CHECK(res[0] >= 1 && res[1] >= 1 && res[0] <= 65535 && res[1] <= 65535,
                      ErrorCode::kFormatError, "'{}': sensor_resolution [{}, {}] is invalid", path,
                      res[0], res[1]);  // also rejects NaN
      height = static_cast<int>(res[0]);
      width = static_cast<int>(res[1]);
    }
  }

  size_t size() const { return n_; }

  // Events [first, first + m) into the builder, checked (timestamps, polarity).
  void add_range(size_t first, size_t m, EventBuilder& b) {
    constexpr size_t kChunk = 1 << 16;  // a block's arrays stay in the cache
    // Compressed columns: chunks for this many events inflated at once, on every core.
    const size_t span = kChunk * std::max(1u, std::thread::hardware_concurrency());
    // [first, ready) is resident; [ready, started) is inflating in the background.
    size_t ready = first, started = first;
    for (size_t at = first; at < first + m; at += kChunk) {
      const size_t k = std::min(kChunk, first + m - at);
      if (at + k > ready) {
        if (started < at + k) {  // the first span: nothing to overlap with yet
          inflate_.start(at, std::min(span, first + m - at));
          started = at + std::min(span, first + m - at);
        }
        inflate_.finish();
        ready = started;
        inflate_.release_before(at);
        if (started < first + m) {  // the next span inflates while this one is added
          const size_t s = std::min(span, first + m - started);
          inflate_.start(started, s);
          started += s;
        }
      }
      ps_.resize(k);
      ts_.resize(k);
      if (xy16_) {
        x16_.resize(k);
        y16_.resize(k);
        read_column(0, H5T_NATIVE_UINT16, at, k, x16_.data());
        read_column(1, H5T_NATIVE_UINT16, at, k, y16_.data());
      } else {
        xs_.resize(k);
        ys_.resize(k);
        read_column(0, H5T_NATIVE_INT64, at, k, xs_.data());
        read_column(1, H5T_NATIVE_INT64, at, k, ys_.data());
      }
      read_column(3, p_unsigned8_ ? H5T_NATIVE_UINT8 : H5T_NATIVE_INT8, at, k, ps_.data());
      read_times(at, k, ts_.data(), true);
      // Polarity 0/1 (or -1/+1 when signed) to -1/+1, checked in one pass; the first bad one is
      // then named.
      int bad = 0;
      int8_t* pp = ps_.data();
      if (p_unsigned8_) {
        auto* pu = reinterpret_cast<uint8_t*>(pp);
        for (size_t i = 0; i < k; ++i) {
          const uint8_t v = pu[i];
          bad |= v > 1;
          pp[i] = static_cast<int8_t>(2 * (v & 1) - 1);
        }
      } else {
        for (size_t i = 0; i < k; ++i) {
          const int8_t v = pp[i];
          bad |= v > 1 || v < -1;
          pp[i] = static_cast<int8_t>(v == 1 ? 1 : -1);
        }
      }
      if (bad) {
        read_range(*ds_[3], p_unsigned8_ ? H5T_NATIVE_UINT8 : H5T_NATIVE_INT8, at, k, ps_.data(),
                   path_, names_[3]);
        for (size_t i = 0; i < k; ++i) {
          const int v = p_unsigned8_ ? static_cast<uint8_t>(ps_[i]) : ps_[i];
          DIFFEVENT_CHECK(v == 0 || v == 1 || v == -1, ErrorCode::kFormatError,
                          "'{}': polarity at index {} is {} (expected 0/1 or -1/+1)", path_, at + i,
                          v);
        }
      }
      if (xy16_)
        b.add_batch16(ts_.data(), x16_.data(), y16_.data(), ps_.data(), k);
      else
        b.add_batch(ts_.data(), xs_.data(), ys_.data(), ps_.data(), k);
    }
  }

  // Column i's elements [first, first + k) as mem_type: from the inflated chunks when the
  // column is compressed and they are resident, else through HDF5.
  void read_column(int i, hid_t mem_type, size_t first, size_t k, void* out) {
    if (inflate_.has(i))
      inflate_.copy(i, first, k, out);
    else
      read_range(*ds_[i], mem_type, first, k, out, path_, names_[i]);
  }

  // Timestamps [first, first + k) in microseconds, checked; `resident`: inside the span
  // add_range has loaded (else read through HDF5: single probes of a binary search).
  void read_times(size_t first, size_t k, TimestampUs* out, bool resident = false) {
    auto read = [&](hid_t mem_type, void* dst) {
      if (resident)
        read_column(2, mem_type, first, k, dst);
      else
        read_range(*ds_[2], mem_type, first, k, dst, path_, names_[2]);
    };
    if (t_float_) {
      tf_.resize(k);
      read(H5T_NATIVE_DOUBLE, tf_.data());
      bool ok = true;
      for (size_t i = 0; i < k; ++i) {
        const bool in_range = std::fabs(tf_[i]) < 9.2e12;  // false for NaN
        ok &= in_range;
        // Round half away from zero (llround), without the library call; a value out of range
        // is not converted (it would be undefined) and fails the check below.
        const double v = in_range ? tf_[i] * 1e6 : 0.0;
        out[i] = v >= 0 ? static_cast<TimestampUs>(v + 0.5) : -static_cast<TimestampUs>(0.5 - v);
      }
      if (!ok) {
        for (size_t i = 0; i < k; ++i)
          DIFFEVENT_CHECK(
              std::fabs(tf_[i]) < 9.2e12, ErrorCode::kFormatError,
              "'{}': timestamp at index {} ({} s) is NaN, infinite or beyond int64 microseconds",
              path_, first + i, tf_[i]);
      }
    } else {
      read(H5T_NATIVE_INT64, out);
      for (size_t i = 0; i < k; ++i)
        DIFFEVENT_CHECK(
            !__builtin_add_overflow(out[i], t_offset_, &out[i]), ErrorCode::kFormatError,
            "'{}': timestamp at index {} plus t_offset overflows int64", path_, first + i);
    }
  }

  // The first index whose time is >= t (binary search over the file; times must be sorted).
  size_t lower_bound(TimestampUs t) {
    size_t lo = 0, hi = n_;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      TimestampUs v = 0;
      read_times(mid, 1, &v);
      if (v < t)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  int width = 0, height = 0;

 private:
  std::string path_;
  const char* names_[4] = {};
  std::unique_ptr<Hid> ds_[4];
  size_t n_ = 0;
  bool t_float_ = false;
  bool xy16_ = false;
  bool p_unsigned8_ = false;
  int64_t t_offset_ = 0;
  std::vector<uint16_t> x16_, y16_;
  std::vector<int64_t> xs_, ys_;
  std::vector<int8_t> ps_;
  std::vector<TimestampUs> ts_;
  std::vector<double> tf_;
  InflatingReader inflate_;
};

// The names of the datasets in images/, in name order (imageNNNNNNNNN sorts by number).
std::vector<std::string> image_names(hid_t file, const HeaderVetting& vetting) {
  std::vector<std::string> names;
  if (!vetting.vet(file, "images")) return names;
  Hid g(H5Gopen2(file, "images", H5P_DEFAULT), H5Gclose);
  H5G_info_t info;
  if (!g.ok() || H5Gget_info(g, &info) < 0) return names;
  for (hsize_t i = 0; i < info.nlinks && i < (1u << 24); ++i) {
    char name[256];
    if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) >
            0 &&
        vetting.is_dataset(g, name))
      names.emplace_back(name);
  }
  return names;
}

// The exposure stated by an image's attributes (_us integers, or seconds), if any.
std::optional<Exposure> image_exposure(hid_t d) {
  int64_t s_us = 0, e_us = 0;
  std::vector<double> s, e;
  if (read_attr_int64(d, "exposure_start_us", s_us) && read_attr_int64(d, "exposure_end_us", e_us))
    return Exposure{s_us, e_us};
  if (read_attr_double(d, "exposure_start", s) && read_attr_double(d, "exposure_end", e) &&
      std::fabs(s[0]) < 9.2e12 && std::fabs(e[0]) < 9.2e12)  // also false for NaN
    return Exposure{static_cast<TimestampUs>(std::llround(s[0] * 1e6)),
                    static_cast<TimestampUs>(std::llround(e[0] * 1e6))};
  return std::nullopt;
}

// An image dataset (rank 2, or rank 3 with 1 or 3 channels) as an Image; nullopt when the
// dataset is not such an image.
std::optional<Image> read_image_dataset(hid_t d, const std::string& path, const std::string& name) {
  Hid space(H5Dget_space(d), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  hsize_t dims[3] = {0, 0, 0};
  if (rank < 2 || rank > 3) return std::nullopt;
  H5Sget_simple_extent_dims(space, dims, nullptr);
  DIFFEVENT_CHECK(dims[0] >= 1 && dims[1] >= 1 && dims[0] <= 65535 && dims[1] <= 65535 &&
                      dims[0] * dims[1] <= (1u << 26),
                  ErrorCode::kFormatError, "'{}': image {} is {}x{} (corrupt file?)", path, name,
                  dims[1], dims[0]);
  check_storage(d, path, "images/" + name);
  const int ih = static_cast<int>(dims[0]), iw = static_cast<int>(dims[1]);
  const int ic = rank == 3 ? static_cast<int>(dims[2]) : 1;
  if (ic != 1 && ic != 3) return std::nullopt;
  Hid ty(H5Dget_type(d), H5Tclose);
  const double scale =
      H5Tget_class(ty) == H5T_FLOAT ? 1.0 : (H5Tget_size(ty) == 1 ? 1.0 / 255 : 1.0 / 65535);
  std::vector<float> px(static_cast<size_t>(ih) * static_cast<size_t>(iw) *
                        static_cast<size_t>(ic));
  DIFFEVENT_CHECK(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, px.data()) >= 0,
                  ErrorCode::kFormatError, "'{}': cannot read image {} (corrupt file?)", path,
                  name);
  Image img(ic, ih, iw);
  for (int y = 0; y < ih; ++y)
    for (int x = 0; x < iw; ++x)
      for (int c = 0; c < ic; ++c)
        img.at(c, y, x) = static_cast<float>(
            px[(static_cast<size_t>(y) * static_cast<size_t>(iw) + static_cast<size_t>(x)) *
                   static_cast<size_t>(ic) +
               static_cast<size_t>(c)] *
            scale);
  return img;
}

// The thresholds stated by the root attributes contrast_threshold_pos/_neg (both or neither).
std::optional<Thresholds> stated_thresholds(hid_t file, const std::string& path) {
  std::vector<double> pos, neg;
  const bool has_pos = read_attr_double(file, "contrast_threshold_pos", pos);
  const bool has_neg = read_attr_double(file, "contrast_threshold_neg", neg);
  if (!has_pos && !has_neg) return std::nullopt;
  DIFFEVENT_CHECK(has_pos && has_neg && pos.size() == 1 && neg.size() == 1, ErrorCode::kFormatError,
                  "'{}': contrast_threshold_pos and contrast_threshold_neg must both be one "
                  "number",
                  path);
  for (const double c : {pos[0], neg[0]})
    DIFFEVENT_CHECK(std::isfinite(c) && c > 0 && c <= Thresholds::kMax, ErrorCode::kFormatError,
                    "'{}': the stated contrast threshold {} is not in (0, {}]", path, c,
                    Thresholds::kMax);
  Thresholds t;
  t.c_pos = pos[0];
  t.c_neg = neg[0];
  return t;
}

// An HDF5 file opened as a recording: images/* with their exposures, events read by range.
class Hdf5Recording final : public Recording::Source {
 public:
  Hdf5Recording(const std::string& file_path, const RecordingOptions& o)
      : vetting_(file_path),
        file_(H5Fopen(file_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose) {
    path = file_path;
    layout = "hdf5";
    read_ = o.read;
    read_.on_chunk = nullptr;
    DIFFEVENT_CHECK(file_.ok(), ErrorCode::kFormatError,
                    "'{}': not a readable HDF5 file (corrupt or truncated)", path);
    events_ = std::make_unique<EventDatasets>(file_, vetting_, path, o.read);
    width = events_->width;
    height = events_->height;
    DIFFEVENT_CHECK(width >= 1 && height >= 1, ErrorCode::kFormatError,
                    "'{}': the file states no sensor_resolution; give width and height", path);
    thresholds = stated_thresholds(file_, path);
    for (const std::string& name : image_names(file_, vetting_)) {
      Hid d(H5Dopen2(file_, ("images/" + name).c_str(), H5P_DEFAULT), H5Dclose);
      DIFFEVENT_CHECK(d.ok(), ErrorCode::kFormatError, "'{}': cannot open images/{}", path, name);
      std::optional<Exposure> e = image_exposure(d);
      std::vector<double> ts;
      if (!e && read_attr_double(d, "timestamp", ts) && std::fabs(ts[0]) < 9.2e12) {
        DIFFEVENT_CHECK(o.exposure_us > 0, ErrorCode::kInvalidArgument,
                        "'{}': images/{} gives a timestamp but no exposure_start/exposure_end; "
                        "state the exposure time (RecordingOptions::exposure_us, "
                        "--exposure-us)",
                        path, name);
        const auto mid = static_cast<TimestampUs>(std::llround(ts[0] * 1e6));
        Exposure x;
        DIFFEVENT_CHECK(!__builtin_sub_overflow(mid, o.exposure_us / 2, &x.t0_us) &&
                            !__builtin_add_overflow(x.t0_us, o.exposure_us, &x.t1_us),
                        ErrorCode::kFormatError,
                        "'{}': images/{} timestamp {} us with a {} us exposure leaves int64", path,
                        name, mid, o.exposure_us);
        e = x;
      }
      DIFFEVENT_CHECK(e && e->valid(), ErrorCode::kFormatError,
                      "'{}': images/{} has no valid exposure (exposure_start/exposure_end "
                      "attributes)",
                      path, name);
      names_.push_back(name);
      frames.push_back({*e, frame_number_name(frames.size())});
    }
  }

  Image image(size_t i) override {
    QuietHdf5 quiet;
    Hid d(H5Dopen2(file_, ("images/" + names_[i]).c_str(), H5P_DEFAULT), H5Dclose);
    DIFFEVENT_CHECK(d.ok(), ErrorCode::kFormatError, "'{}': cannot open images/{}", path,
                    names_[i]);
    std::optional<Image> im = read_image_dataset(d, path, names_[i]);
    DIFFEVENT_CHECK(im.has_value(), ErrorCode::kFormatError,
                    "'{}': images/{} is not a grey or RGB image", path, names_[i]);
    return std::move(*im);
  }

  EventStream events_between(TimestampUs t0, TimestampUs t1) override {
    QuietHdf5 quiet;
    EventBuilder b(path, width, height, read_);
    const size_t a = events_->lower_bound(t0), e = std::max(a, events_->lower_bound(t1));
    b.expect(e - a);  // the window's count is known: its arrays are reserved once
    events_->add_range(a, e - a, b);
    return b.finish();
  }

 private:
  HeaderVetting vetting_;
  Hid file_;
  std::unique_ptr<EventDatasets> events_;
  std::vector<std::string> names_;
  ReadOptions read_;  // max_events and sorting for windows; no chunk callback
};

}  // namespace

EventFile read_hdf5(const std::string& path, const ReadOptions& o) {
  QuietHdf5 quiet;
  const HeaderVetting vetting(path);  // also reports a missing or unreadable file
  Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  DIFFEVENT_CHECK(file.ok(), ErrorCode::kFormatError,
                  "'{}': not a readable HDF5 file (corrupt or truncated)", path);
  EventDatasets events(file, vetting, path, o);
  EventBuilder b(path, events.width, events.height, o);
  b.expect(events.size());
  events.add_range(0, events.size(), b);
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  out.thresholds = stated_thresholds(file, path);
  // The images' exposures and the first image, when present.
  for (const std::string& name : image_names(file, vetting)) {
    Hid g(H5Gopen2(file, "images", H5P_DEFAULT), H5Gclose);
    Hid d(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);  // vetted by image_names
    if (!d.ok()) continue;
    if (const auto e = image_exposure(d)) out.exposures.push_back(*e);
    if (!out.image) out.image = read_image_dataset(d, path, name);
  }
  return out;
}

std::unique_ptr<Recording::Source> open_hdf5_recording(const std::string& path,
                                                       const RecordingOptions& o) {
  QuietHdf5 quiet;
  return std::make_unique<Hdf5Recording>(path, o);
}

// Note [HDF5 files are built in memory]
// HDF5 never writes to the disk here: the file is built with the core driver (no backing
// store) and its image goes out through our own stdio writer. A file id whose close failed
// (a full disk fails the flush inside H5Fclose) stays registered in HDF5 and crashes its
// atexit cleanup, taking the host with it; an in-memory file's close cannot fail, and a write
// error is an ordinary kIoError. The cost is the file's size in memory while it is written.
namespace {

// images/imageNNNNNNNNN: 8-bit grey (H x W) or colour (H x W x 3), exposure attributes in
// seconds (event_utils) and microseconds.
void write_image_dataset(hid_t group, size_t index, const Image& im, const Exposure* e) {
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
  const std::string name = fmt::format("image{:09d}", index);
  Hid d(H5Dcreate2(group, name.c_str(), H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
        H5Dclose);
  DIFFEVENT_CHECK(
      d.ok() && H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, px.data()) >= 0,
      ErrorCode::kIoError, "HDF5: cannot write images/{}", name);
  if (e) {
    write_attr_double(d, "exposure_start", {double(e->t0_us) * 1e-6});
    write_attr_double(d, "exposure_end", {double(e->t1_us) * 1e-6});
    write_attr_double(d, "exposure_time", {double(e->duration_us()) * 1e-6});
    write_attr_double(d, "timestamp", {double(e->mid_us()) * 1e-6});
    write_attr_int64(d, "exposure_start_us", e->t0_us);
    write_attr_int64(d, "exposure_end_us", e->t1_us);
  }
}

void write_hdf5_file(const std::string& path, const EventStream& ev,
                     const std::vector<FrameRecord>& frames, const WriteOptions& w) {
  if (w.thresholds) validate(*w.thresholds);
  DIFFEVENT_CHECK(w.hdf5_deflate_level >= 0 && w.hdf5_deflate_level <= 9,
                  ErrorCode::kInvalidArgument, "write_hdf5: hdf5_deflate_level {} (0 to 9)",
                  w.hdf5_deflate_level);
  QuietHdf5 quiet;
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  size_t image_bytes = 0;
  for (const auto& f : frames) image_bytes += f.image.size();
  const size_t increment =
      std::max<size_t>(size_t{1} << 20, ev.size() * 13 + image_bytes + (size_t{1} << 16));
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
  write_dataset(g, "xs", H5T_STD_U16LE, H5T_NATIVE_UINT16, ev.x(), w.hdf5_deflate_level);
  write_dataset(g, "ys", H5T_STD_U16LE, H5T_NATIVE_UINT16, ev.y(), w.hdf5_deflate_level);
  write_dataset(g, "ts", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, ts, w.hdf5_deflate_level);
  write_dataset(g, "ps", H5T_STD_U8LE, H5T_NATIVE_UINT8, ps, w.hdf5_deflate_level);
  write_attr_double(file, "sensor_resolution", {double(ev.height()), double(ev.width())});
  write_attr_int64(file, "num_events", static_cast<int64_t>(ev.size()));
  if (w.thresholds) {
    write_attr_double(file, "contrast_threshold_pos", {w.thresholds->c_pos});
    write_attr_double(file, "contrast_threshold_neg", {w.thresholds->c_neg});
  }
  if (!ev.empty()) {
    write_attr_double(file, "t0", {ts.front()});
    write_attr_double(file, "tk", {ts.back()});
  }
  if (!frames.empty() || w.exposure) {
    Hid ig(H5Gcreate2(file, "images", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    write_attr_int64(file, "num_imgs", static_cast<int64_t>(frames.size()));
    for (size_t i = 0; i < frames.size(); ++i)
      write_image_dataset(ig, i, frames[i].image,
                          frames[i].exposure.valid() ? &frames[i].exposure : nullptr);
    if (frames.empty()) {
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

}  // namespace

void write_hdf5(const std::string& path, const EventStream& ev, const WriteOptions& w) {
  std::vector<FrameRecord> frames;
  if (w.image) frames.push_back({*w.image, w.exposure ? *w.exposure : Exposure{}});
  write_hdf5_file(path, ev, frames, w);
}

void write_hdf5_recording(const std::string& path, const EventStream& ev,
                          const std::vector<FrameRecord>& frames, const WriteOptions& w) {
  write_hdf5_file(path, ev, frames, w);
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
void write_hdf5_recording(const std::string& path, const EventStream&,
                          const std::vector<FrameRecord>&, const WriteOptions&) {
  throw Error(
      ErrorCode::kUnsupported,
      fmt::format("'{}': HDF5 support was not compiled in (DIFFEVENT_WITH_HDF5=OFF)", path));
}
std::unique_ptr<Recording::Source> open_hdf5_recording(const std::string& path,
                                                       const RecordingOptions&) {
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
