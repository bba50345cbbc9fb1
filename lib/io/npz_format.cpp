// NumPy .npz event files: a zip of column arrays (t, x, y, p and the sensor size).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"
#include "io/numpy_dtype.hpp"
#include "io/zip.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

using namespace numpy;

namespace {

// A plain 1-D array member, decoded a chunk at a time into int64 (timestamps in us).
class ColumnReader {
 public:
  ColumnReader(const std::string& path, const ZipEntry& e, uint64_t file_size, bool is_time,
               bool seconds)
      : in_(path, e, file_size, path), src_(path), is_time_(is_time), seconds_(seconds) {
    h_ = parse_header(in_, path);
    DIFFEVENT_CHECK(!h_.structured && !h_.fortran && h_.shape.size() <= 2, ErrorCode::kFormatError,
                    "'{}': NPZ member '{}' must be a plain 1-D array", path, e.name);
    n_ = 1;
    for (auto d : h_.shape) n_ *= static_cast<size_t>(d);  // bounded by parse_header
    // The data must fit in what the member holds after its header: checked before reading.
    DIFFEVENT_CHECK(
        n_ <= in_.remaining() / h_.itemsize, ErrorCode::kFormatError,
        "'{}': the NPY shape of '{}' declares {} items of {} bytes but the member holds {} bytes",
        path, e.name, n_, h_.itemsize, in_.remaining());
  }
  size_t size() const { return n_; }
  // Reads the next k items into out (k <= what is left).
  void next(size_t k, std::vector<int64_t>& out) {
    buf_.resize(k * h_.itemsize);
    in_.read_exact(buf_.data(), buf_.size(), src_, "an array");
    out.resize(k);
    if (is_time_ && h_.scalar.kind == 'f') {
      for (size_t i = 0; i < k; ++i)
        out[i] = to_us(buf_.data() + i * h_.itemsize, h_.scalar, seconds_, src_, done_ + i);
    } else {
      load_column(buf_.data(), h_.itemsize, k, h_.scalar, out.data());
    }
    done_ += k;
  }

 private:
  ZipMemberSource in_;
  std::string src_;
  bool is_time_, seconds_;
  NpyHeader h_;
  size_t n_ = 0, done_ = 0;
  std::vector<unsigned char> buf_;
};

}  // namespace

EventFile read_npz(const std::string& path, const ReadOptions& o) {
  std::unique_ptr<std::FILE, FileCloser> f(open_for_read(path));
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  DIFFEVENT_CHECK(!ec, ErrorCode::kIoError, "cannot read '{}': {}", path, ec.message());
  const auto dir = zip_directory(f.get(), file_size, path);
  auto pick = [&](std::initializer_list<const char*> names) -> const ZipEntry* {
    for (const char* n : names) {
      auto it = dir.find(n);
      if (it != dir.end()) return &it->second;
    }
    return nullptr;
  };
  EventBuilder b(path, o.width, o.height, o);
  if (const ZipEntry* ev = pick({"events"})) {
    ZipMemberSource in(path, *ev, file_size, path);
    decode_npy(in, path, o, b);
  } else {
    const ZipEntry* et = pick({"t", "ts", "timestamp", "timestamps"});
    const ZipEntry* ex = pick({"x", "xs"});
    const ZipEntry* ey = pick({"y", "ys"});
    const ZipEntry* ep = pick({"p", "ps", "polarity", "polarities"});
    DIFFEVENT_CHECK(
        et && ex && ey && ep, ErrorCode::kFormatError,
        "'{}': NPZ needs arrays t (or ts/timestamp), x, y and p (or polarity), or 'events'", path);
    if (o.swap_xy) std::swap(ex, ey);
    if (const ZipEntry* es = pick({"sensor_resolution", "sensor_size"}); es && o.width == 0) {
      ColumnReader r(path, *es, file_size, false, false);
      std::vector<int64_t> hw;
      DIFFEVENT_CHECK(r.size() == 2, ErrorCode::kFormatError,
                      "'{}': sensor_resolution must hold [height, width]", path);
      r.next(2, hw);
      DIFFEVENT_CHECK(hw[0] >= 1 && hw[1] >= 1 && hw[0] <= 65535 && hw[1] <= 65535,
                      ErrorCode::kFormatError, "'{}': sensor_resolution must hold [height, width]",
                      path);
      b.set_size(static_cast<int>(hw[1]), static_cast<int>(hw[0]));
    }
    ColumnReader t(path, *et, file_size, true, o.float_time_is_seconds),
        x(path, *ex, file_size, false, false), y(path, *ey, file_size, false, false),
        p(path, *ep, file_size, false, false);
    DIFFEVENT_CHECK(x.size() == t.size() && y.size() == t.size() && p.size() == t.size(),
                    ErrorCode::kFormatError,
                    "'{}': NPZ arrays differ in length (t {}, x {}, y {}, p {})", path, t.size(),
                    x.size(), y.size(), p.size());
    std::vector<int64_t> tc, xc, yc, pc;
    std::vector<int8_t> ps;
    for (size_t done = 0; done < t.size();) {
      const size_t k = std::min<size_t>(t.size() - done, 1 << 16);
      t.next(k, tc);
      x.next(k, xc);
      y.next(k, yc);
      p.next(k, pc);
      ps.resize(k);
      for (size_t i = 0; i < k; ++i) {
        DIFFEVENT_CHECK(pc[i] == 0 || pc[i] == 1 || pc[i] == -1, ErrorCode::kFormatError,
                        "'{}': polarity at index {} is {} (expected 0/1 or -1/+1)", path, done + i,
                        pc[i]);
        ps[i] = pc[i] == 1 ? int8_t{1} : int8_t{-1};
      }
      b.add_batch(tc.data(), xc.data(), yc.data(), ps.data(), k);
      done += k;
    }
  }
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

void write_npz(const std::string& path, const EventStream& ev) {
  DIFFEVENT_CHECK(ev.size() < 200000000, ErrorCode::kUnsupported,
                  "write_npz: {} events exceed the 4 GiB zip limit (ZIP64 is not supported)",
                  ev.size());
  std::vector<std::pair<std::string, std::string>> members = {
      {"t.npy", npy_array(ev.t_us(), "<i8")},
      {"x.npy", npy_array(ev.x(), "<u2")},
      {"y.npy", npy_array(ev.y(), "<u2")},
      {"p.npy", npy_array(ev.p(), "|i1")},
      {"sensor_resolution.npy", npy_array(std::vector<int64_t>{ev.height(), ev.width()}, "<i8")},
  };
  const std::string out = zip_archive(members);
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  std::fwrite(out.data(), 1, out.size(), f.get());
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
