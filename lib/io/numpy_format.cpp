// NumPy .npy (format 1.0-3.0) and .npz (zip of .npy) event files.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/check.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"

#ifdef DIFFEVENT_HAVE_ZLIB
#include <zlib.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace {

// One scalar type from a numpy descr such as "<i8", "|u1", "<f4", "|b1".
struct Scalar {
  char kind = 0;  // 'i', 'u', 'f', 'b'
  size_t size = 0;
};

// Note [NumPy dtypes]
// Every dtype of every NumPy path (.npy, .npz members, structured fields) is checked here once:
// a data type is a little-endian (or one-byte) integer, bool or float of a real size; 'V'
// (raw bytes) exists only as padding between structured fields, with a size of 1 to 2^20
// written as plain digits. Nothing else reaches the decoders, so no item has size 0, a
// negative size or a kind the loaders do not know.
constexpr size_t kMaxPadBytes = size_t{1} << 20;

size_t dtype_size(const std::string& digits, const std::string& d, const std::string& src) {
  DIFFEVENT_CHECK(
      !digits.empty() && digits.size() <= 7 &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }),
      ErrorCode::kFormatError, "'{}': numpy dtype '{}' has no valid item size", src, d);
  return static_cast<size_t>(std::stoul(digits));
}

Scalar parse_scalar(const std::string& d, const std::string& src, bool padding_allowed = false) {
  DIFFEVENT_CHECK(d.size() >= 3, ErrorCode::kFormatError, "'{}': unsupported numpy dtype '{}'", src,
                  d);
  DIFFEVENT_CHECK(d[0] == '<' || d[0] == '|' || d[0] == '=' || d[0] == '>', ErrorCode::kFormatError,
                  "'{}': numpy dtype '{}' has no byte order", src, d);
  DIFFEVENT_CHECK(d[0] != '>' || d.substr(1) == "i1" || d.substr(1) == "u1",
                  ErrorCode::kUnsupported, "'{}': big-endian numpy dtype '{}' is not supported",
                  src, d);
  Scalar s{d[1], dtype_size(d.substr(2), d, src)};
  if (s.kind == 'V') {
    DIFFEVENT_CHECK(padding_allowed, ErrorCode::kUnsupported,
                    "'{}': numpy dtype '{}' (raw bytes) cannot hold event data", src, d);
    DIFFEVENT_CHECK(s.size >= 1 && s.size <= kMaxPadBytes, ErrorCode::kFormatError,
                    "'{}': padding dtype '{}' must be 1 to {} bytes", src, d, kMaxPadBytes);
    return s;
  }
  const bool ok = ((s.kind == 'i' || s.kind == 'u') &&
                   (s.size == 1 || s.size == 2 || s.size == 4 || s.size == 8)) ||
                  (s.kind == 'f' && (s.size == 4 || s.size == 8)) || (s.kind == 'b' && s.size == 1);
  DIFFEVENT_CHECK(ok, ErrorCode::kUnsupported, "'{}': unsupported numpy dtype '{}'", src, d);
  return s;
}

double load_scalar(const unsigned char* p, const Scalar& s) {
  switch (s.kind) {
    case 'b':
      return p[0] ? 1.0 : 0.0;
    case 'u':
      switch (s.size) {
        case 1:
          return p[0];
        case 2:
          return load_le<uint16_t>(p);
        case 4:
          return load_le<uint32_t>(p);
        default:
          return static_cast<double>(load_le<uint64_t>(p));
      }
    case 'i':
      switch (s.size) {
        case 1:
          return static_cast<int8_t>(p[0]);
        case 2:
          return load_le<int16_t>(p);
        case 4:
          return load_le<int32_t>(p);
        default:
          return static_cast<double>(load_le<int64_t>(p));
      }
    default:
      return s.size == 4 ? double(load_le<float>(p)) : load_le<double>(p);
  }
}

int64_t load_int(const unsigned char* p, const Scalar& s) {
  if (s.kind == 'i' && s.size == 8) return load_le<int64_t>(p);
  if (s.kind == 'u' && s.size == 8) return static_cast<int64_t>(load_le<uint64_t>(p));
  return static_cast<int64_t>(std::llround(load_scalar(p, s)));
}

// A column of m values `stride` bytes apart, as int64 (floats rounded to the nearest integer).
// The type is dispatched once for the whole column, so the loops below are plain loads.
template <typename T>
void load_column_as(const unsigned char* p, size_t stride, size_t m, int64_t* out) {
  for (size_t i = 0; i < m; ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      out[i] = static_cast<int64_t>(std::llround(static_cast<double>(load_le<T>(p + i * stride))));
    } else {
      out[i] = static_cast<int64_t>(load_le<T>(p + i * stride));
    }
  }
}

void load_column(const unsigned char* p, size_t stride, size_t m, const Scalar& s, int64_t* out) {
  switch (s.kind) {
    case 'b':
      for (size_t i = 0; i < m; ++i) out[i] = p[i * stride] ? 1 : 0;
      return;
    case 'u':
      switch (s.size) {
        case 1:
          return load_column_as<uint8_t>(p, stride, m, out);
        case 2:
          return load_column_as<uint16_t>(p, stride, m, out);
        case 4:
          return load_column_as<uint32_t>(p, stride, m, out);
        default:
          return load_column_as<uint64_t>(p, stride, m, out);
      }
    case 'i':
      switch (s.size) {
        case 1:
          return load_column_as<int8_t>(p, stride, m, out);
        case 2:
          return load_column_as<int16_t>(p, stride, m, out);
        case 4:
          return load_column_as<int32_t>(p, stride, m, out);
        default:
          return load_column_as<int64_t>(p, stride, m, out);
      }
    default:
      return s.size == 4 ? load_column_as<float>(p, stride, m, out)
                         : load_column_as<double>(p, stride, m, out);
  }
}

struct Field {
  std::string name;
  Scalar type;
  size_t offset = 0;
};

struct NpyHeader {
  bool structured = false;
  Scalar scalar;              // when !structured
  std::vector<Field> fields;  // when structured
  size_t itemsize = 0;
  bool fortran = false;
  std::vector<int64_t> shape;
};

std::string quoted_after(const std::string& h, size_t& pos) {
  const size_t a = h.find_first_of("'\"", pos);
  if (a == std::string::npos) return "";
  const size_t b = h.find(h[a], a + 1);
  if (b == std::string::npos) return "";
  pos = b + 1;
  return h.substr(a + 1, b - a - 1);
}

NpyHeader parse_header(ByteSource& in, const std::string& src) {
  unsigned char pre[10];
  in.read_exact(pre, 8, src, "the NPY magic");
  DIFFEVENT_CHECK(std::memcmp(pre, "\x93NUMPY", 6) == 0, ErrorCode::kFormatError,
                  "'{}': not an NPY file (bad magic)", src);
  const int major = pre[6];
  size_t hlen = 0;
  if (major == 1) {
    in.read_exact(pre, 2, src, "the NPY header length");
    hlen = load_le<uint16_t>(pre);
  } else {
    DIFFEVENT_CHECK(major == 2 || major == 3, ErrorCode::kUnsupported,
                    "'{}': NPY version {} is not supported", src, major);
    in.read_exact(pre, 4, src, "the NPY header length");
    hlen = load_le<uint32_t>(pre);
  }
  DIFFEVENT_CHECK(hlen < (1u << 20), ErrorCode::kFormatError,
                  "'{}': NPY header length {} is implausible", src, hlen);
  std::string h(hlen, '\0');
  in.read_exact(h.data(), hlen, src, "the NPY header");
  NpyHeader hd;
  const size_t d = h.find("descr");
  const size_t f = h.find("fortran_order");
  const size_t sh = h.find("shape");
  DIFFEVENT_CHECK(d != std::string::npos && f != std::string::npos && sh != std::string::npos,
                  ErrorCode::kFormatError, "'{}': malformed NPY header '{}'", src,
                  h.substr(0, 120));
  hd.fortran = h.compare(h.find(':', f) + 1, 5, " True") == 0 ||
               h.compare(h.find(':', f) + 1, 4, "True") == 0;
  size_t pos = h.find(':', d) + 1;
  while (pos < h.size() && h[pos] == ' ') ++pos;
  if (h[pos] == '[') {
    hd.structured = true;
    const size_t end = h.find(']', pos);
    size_t q = pos;
    size_t offset = 0;
    while (q < end) {
      const size_t open = h.find('(', q);
      if (open == std::string::npos || open > end) break;
      size_t r = open;
      Field fl;
      fl.name = quoted_after(h, r);
      const std::string ty = quoted_after(h, r);
      fl.type = parse_scalar(ty, src, /*padding_allowed=*/true);  // See Note [NumPy dtypes]
      fl.offset = offset;
      offset += fl.type.size;
      DIFFEVENT_CHECK(h.find(')', r) < end, ErrorCode::kFormatError, "'{}': malformed NPY descr",
                      src);
      DIFFEVENT_CHECK(h[h.find_first_not_of(' ', r)] == ')', ErrorCode::kUnsupported,
                      "'{}': sub-array fields in NPY dtypes are not supported", src);
      q = h.find(')', r) + 1;
      hd.fields.push_back(fl);
    }
    hd.itemsize = offset;
    DIFFEVENT_CHECK(!hd.fields.empty(), ErrorCode::kFormatError,
                    "'{}': structured NPY dtype has no fields", src);
    DIFFEVENT_CHECK(hd.itemsize <= kMaxPadBytes, ErrorCode::kUnsupported,
                    "'{}': structured NPY items of {} bytes (at most {})", src, hd.itemsize,
                    kMaxPadBytes);
  } else {
    hd.scalar = parse_scalar(quoted_after(h, pos), src);
    hd.itemsize = hd.scalar.size;
  }
  size_t a = h.find('(', sh), b = h.find(')', sh);
  DIFFEVENT_CHECK(a != std::string::npos && b != std::string::npos, ErrorCode::kFormatError,
                  "'{}': malformed NPY shape", src);
  std::string dims = h.substr(a + 1, b - a - 1);
  // Each dimension at most 2^40 and their product at most 2^48 elements: no overflow below,
  // and a declared size is still checked against the bytes that follow before anything is
  // allocated for it.
  constexpr int64_t kMaxDim = int64_t{1} << 40, kMaxElements = int64_t{1} << 48;
  int64_t elements = 1;
  for (size_t i = 0; i < dims.size();) {
    while (i < dims.size() && !std::isdigit(static_cast<unsigned char>(dims[i]))) ++i;
    if (i >= dims.size()) break;
    size_t j = i;
    while (j < dims.size() && std::isdigit(static_cast<unsigned char>(dims[j]))) ++j;
    DIFFEVENT_CHECK(j - i <= 13, ErrorCode::kOutOfRange,
                    "'{}': NPY shape ({}) is implausibly large", src, dims);
    const int64_t v = std::stoll(dims.substr(i, j - i));
    DIFFEVENT_CHECK(v <= kMaxDim && (v == 0 || elements <= kMaxElements / v),
                    ErrorCode::kOutOfRange, "'{}': NPY shape ({}) is implausibly large", src, dims);
    elements *= v;
    hd.shape.push_back(v);
    i = j;
  }
  return hd;
}

const Field* find_field(const NpyHeader& h, std::initializer_list<const char*> names) {
  for (const char* n : names)
    for (const auto& f : h.fields)
      if (f.name == n) return &f;
  return nullptr;
}

// Floating-point timestamps must be finite and within +-2^62 us (about 146,000 years) before
// rounding: llround of NaN or of values beyond int64 is undefined.
TimestampUs to_us(const unsigned char* p, const Scalar& s, bool seconds, const std::string& src,
                  size_t index) {
  if (s.kind == 'f') {
    const double us = load_scalar(p, s) * (seconds ? 1e6 : 1.0);
    DIFFEVENT_CHECK(std::isfinite(us) && std::fabs(us) <= 4.6e18, ErrorCode::kFormatError,
                    "'{}': timestamp at index {} is {} us (not a finite time within +-4.6e18 us)",
                    src, index, us);
    return static_cast<TimestampUs>(std::llround(us));
  }
  return load_int(p, s);
}

// Streams an .npy of events (N x 4 numeric, or structured) into the builder.
void decode_npy(ByteSource& in, const std::string& src, const ReadOptions& o, EventBuilder& b) {
  const NpyHeader h = parse_header(in, src);
  DIFFEVENT_CHECK(
      !h.fortran, ErrorCode::kUnsupported,
      "'{}': Fortran-ordered NPY arrays are not supported (save with np.ascontiguousarray)", src);
  size_t n = 0;
  const Field *ft = nullptr, *fx = nullptr, *fy = nullptr, *fp = nullptr;
  if (h.structured) {
    DIFFEVENT_CHECK(h.shape.size() == 1, ErrorCode::kFormatError,
                    "'{}': a structured event array must be 1-D", src);
    ft = find_field(h, {"t", "ts", "timestamp", "timestamps"});
    fx = find_field(h, {"x"});
    fy = find_field(h, {"y"});
    fp = find_field(h, {"p", "polarity", "polarities"});
    DIFFEVENT_CHECK(
        ft && fx && fy && fp, ErrorCode::kFormatError,
        "'{}': structured array needs fields t (or ts/timestamp), x, y and p (or polarity)", src);
    for (const Field* f : {ft, fx, fy, fp})
      DIFFEVENT_CHECK(f->type.kind != 'V', ErrorCode::kUnsupported,
                      "'{}': field '{}' holds raw bytes, not numbers", src, f->name);
    n = static_cast<size_t>(h.shape[0]);
  } else {
    DIFFEVENT_CHECK(h.shape.size() == 2 && h.shape[1] == 4, ErrorCode::kFormatError,
                    "'{}': expected an N x 4 array (t, x, y, p), got {} dimensions{}", src,
                    h.shape.size(),
                    h.shape.size() == 2 ? fmt::format(" with {} columns", h.shape[1]) : "");
    n = static_cast<size_t>(h.shape[0]);
  }
  const size_t row = h.structured ? h.itemsize : 4 * h.itemsize;
  // Rows per read: 8192 keeps the block and its decoded columns (about 46 bytes a row) in L2.
  const size_t chunk = std::clamp<size_t>((size_t{16} << 20) / row, 1, 8192);
  // Each column's place and type in a row: the type is dispatched once per block, not per event.
  struct Column {
    size_t offset;
    Scalar type;
  };
  const Column ct = h.structured ? Column{ft->offset, ft->type} : Column{0, h.scalar};
  const Column cx = h.structured ? Column{fx->offset, fx->type} : Column{h.itemsize, h.scalar};
  const Column cy = h.structured ? Column{fy->offset, fy->type} : Column{2 * h.itemsize, h.scalar};
  const Column cp = h.structured ? Column{fp->offset, fp->type} : Column{3 * h.itemsize, h.scalar};
  if (n <= in.remaining_bytes() / row)
    b.expect(n);  // a count the data cannot hold is never reserved
  // Scratch, uninitialised (every element is written before it is read).
  const std::unique_ptr<unsigned char[]> buf(new unsigned char[row * chunk]);
  const std::unique_ptr<TimestampUs[]> t(new TimestampUs[chunk]);
  const std::unique_ptr<int64_t[]> x(new int64_t[chunk]), y(new int64_t[chunk]),
      pv(new int64_t[chunk]);
  const std::unique_ptr<int8_t[]> p(new int8_t[chunk]);
  size_t done = 0;
  while (done < n) {
    const size_t m = std::min<size_t>(chunk, n - done);
    in.read_exact(buf.get(), m * row, src, "the event array");
    if (ct.type.kind == 'f') {
      for (size_t i = 0; i < m; ++i)
        t[i] =
            to_us(buf.get() + i * row + ct.offset, ct.type, o.float_time_is_seconds, src, done + i);
    } else {
      load_column(buf.get() + ct.offset, row, m, ct.type, t.get());
    }
    load_column(buf.get() + cx.offset, row, m, cx.type, x.get());
    load_column(buf.get() + cy.offset, row, m, cy.type, y.get());
    load_column(buf.get() + cp.offset, row, m, cp.type, pv.get());
    bool bad = false;
    for (size_t i = 0; i < m; ++i) {
      bad |= pv[i] != 0 && pv[i] != 1 && pv[i] != -1;
      p[i] = pv[i] == 1 ? int8_t{1} : int8_t{-1};
    }
    if (bad) {
      for (size_t i = 0; i < m; ++i)
        DIFFEVENT_CHECK(pv[i] == 0 || pv[i] == 1 || pv[i] == -1, ErrorCode::kFormatError,
                        "'{}': polarity at index {} is {} (expected 0/1 or -1/+1)", src, done + i,
                        pv[i]);
    }
    b.add_batch(t.get(), x.get(), y.get(), p.get(), m);
    done += m;
  }
}

// A whole 1-D array from an in-memory .npy, as int64 (or microseconds for time).
struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, offset = 0;
};

// Note [NPZ members are streamed]
// An NPZ is read without holding the file or any member in memory: the central directory comes
// from the end of the file, and each member is inflated as it is consumed (its CRC checked when
// its last byte has been read). The column layout (t, x, y, p as four arrays) is decoded in
// lockstep, 64 Ki events at a time, so reading costs the event stream being built plus a few
// buffers, as for .npy.
std::map<std::string, ZipEntry> zip_directory(std::FILE* f, uint64_t file_size,
                                              const std::string& src) {
  DIFFEVENT_CHECK(file_size >= 22, ErrorCode::kFormatError, "'{}': NPZ (zip) file is truncated",
                  src);
  const uint64_t tail_size = std::min<uint64_t>(file_size, 65535 + 22);
  std::string tail(static_cast<size_t>(tail_size), '\0');
  DIFFEVENT_CHECK(std::fseek(f, static_cast<long>(file_size - tail_size), SEEK_SET) == 0 &&
                      std::fread(tail.data(), 1, tail.size(), f) == tail.size(),
                  ErrorCode::kIoError, "'{}': cannot read the zip directory", src);
  const auto* u = reinterpret_cast<const unsigned char*>(tail.data());
  size_t eocd = std::string::npos;
  for (size_t i = tail.size() - 22 + 1; i-- > 0;) {
    if (load_le<uint32_t>(u + i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  DIFFEVENT_CHECK(eocd != std::string::npos, ErrorCode::kFormatError,
                  "'{}': NPZ (zip) end-of-directory record not found (truncated file?)", src);
  const uint16_t count = load_le<uint16_t>(u + eocd + 10);
  const uint32_t cd_size = load_le<uint32_t>(u + eocd + 12);
  const uint32_t cd_off = load_le<uint32_t>(u + eocd + 16);
  DIFFEVENT_CHECK(cd_off != 0xFFFFFFFFu, ErrorCode::kUnsupported,
                  "'{}': ZIP64 archives are not supported", src);
  DIFFEVENT_CHECK(static_cast<uint64_t>(cd_off) + cd_size <= file_size, ErrorCode::kFormatError,
                  "'{}': corrupt NPZ central directory (it lies past the end of the file)", src);
  std::string cd(cd_size, '\0');
  DIFFEVENT_CHECK(std::fseek(f, static_cast<long>(cd_off), SEEK_SET) == 0 &&
                      std::fread(cd.data(), 1, cd.size(), f) == cd.size(),
                  ErrorCode::kIoError, "'{}': cannot read the zip directory", src);
  const auto* c = reinterpret_cast<const unsigned char*>(cd.data());
  std::map<std::string, ZipEntry> out;
  size_t p = 0;
  for (uint16_t k = 0; k < count; ++k) {
    DIFFEVENT_CHECK(p + 46 <= cd.size() && load_le<uint32_t>(c + p) == 0x02014b50,
                    ErrorCode::kFormatError, "'{}': corrupt NPZ central directory", src);
    ZipEntry e;
    e.method = load_le<uint16_t>(c + p + 10);
    e.crc = load_le<uint32_t>(c + p + 16);
    e.csize = load_le<uint32_t>(c + p + 20);
    e.usize = load_le<uint32_t>(c + p + 24);
    const uint16_t nlen = load_le<uint16_t>(c + p + 28), xlen = load_le<uint16_t>(c + p + 30),
                   clen = load_le<uint16_t>(c + p + 32);
    e.offset = load_le<uint32_t>(c + p + 42);
    DIFFEVENT_CHECK(p + 46 + nlen <= cd.size(), ErrorCode::kFormatError,
                    "'{}': corrupt NPZ central directory", src);
    e.name.assign(cd.data() + p + 46, nlen);
    if (e.name.size() > 4 && e.name.compare(e.name.size() - 4, 4, ".npy") == 0)
      e.name.resize(e.name.size() - 4);
    out[e.name] = e;
    p += 46 + nlen + xlen + clen;
  }
  return out;
}

// One member's uncompressed bytes, read from the file as they are consumed.
class ZipMemberSource : public ByteSource {
 public:
  ZipMemberSource(const std::string& path, const ZipEntry& e, uint64_t file_size,
                  const std::string& src)
      : f_(open_for_read(path)), e_(e), src_(src) {
    unsigned char local[30];
    DIFFEVENT_CHECK(
        e.offset + 30 <= file_size &&
            std::fseek(f_.get(), static_cast<long>(e.offset), SEEK_SET) == 0 &&
            std::fread(local, 1, 30, f_.get()) == 30 && load_le<uint32_t>(local) == 0x04034b50,
        ErrorCode::kFormatError, "'{}': corrupt NPZ local header for '{}'", src, e.name);
    const uint64_t data =
        e.offset + 30 + load_le<uint16_t>(local + 26) + load_le<uint16_t>(local + 28);
    DIFFEVENT_CHECK(
        data + e.csize <= file_size && std::fseek(f_.get(), static_cast<long>(data), SEEK_SET) == 0,
        ErrorCode::kFormatError, "'{}': NPZ member '{}' is truncated", src, e.name);
    left_in_ = e.csize;
    if (e.method == 8) {
#ifdef DIFFEVENT_HAVE_ZLIB
      // Deflate expands at most 1032:1: a larger stated size is a corrupt or hostile entry.
      DIFFEVENT_CHECK(e.usize <= e.csize * 1032 + 1024, ErrorCode::kFormatError,
                      "'{}': NPZ member '{}' claims {} bytes from {} compressed bytes, more than "
                      "deflate can produce",
                      src, e.name, e.usize, e.csize);
      DIFFEVENT_CHECK(inflateInit2(&zs_, -15) == Z_OK, ErrorCode::kInternal,
                      "zlib: inflateInit2 failed");
      inflating_ = true;
      in_.resize(1 << 16);
#else
      throw Error(ErrorCode::kUnsupported,
                  fmt::format("'{}': NPZ member '{}' is deflated and zlib support was not "
                              "compiled in",
                              src, e.name));
#endif
    } else {
      DIFFEVENT_CHECK(e.method == 0, ErrorCode::kUnsupported,
                      "'{}': NPZ member '{}' uses zip method {}", src, e.name, e.method);
      DIFFEVENT_CHECK(e.usize == e.csize, ErrorCode::kFormatError,
                      "'{}': NPZ member '{}' is stored with two sizes", src, e.name);
    }
  }
  ~ZipMemberSource() override {
#ifdef DIFFEVENT_HAVE_ZLIB
    if (inflating_) inflateEnd(&zs_);
#endif
  }
  uint64_t remaining() const { return e_.usize - produced_; }
  // Trusted only for stored members, whose size the file's own size bounds; a deflated member
  // may declare any size.
  uint64_t remaining_bytes() const override { return e_.method == 0 ? remaining() : UINT64_MAX; }
  ZipMemberSource(const ZipMemberSource&) = delete;
  ZipMemberSource& operator=(const ZipMemberSource&) = delete;

  size_t read(void* dst, size_t n) override {
    n = static_cast<size_t>(std::min<uint64_t>(n, e_.usize - produced_));
    size_t got = 0;
    if (!inflating_) {
      got = std::fread(dst, 1, n, f_.get());
      left_in_ -= got;
    } else {
#ifdef DIFFEVENT_HAVE_ZLIB
      zs_.next_out = static_cast<Bytef*>(dst);
      zs_.avail_out = static_cast<uInt>(n);
      while (zs_.avail_out > 0) {
        if (zs_.avail_in == 0 && left_in_ > 0) {
          const size_t k =
              std::fread(in_.data(), 1,
                         static_cast<size_t>(std::min<uint64_t>(in_.size(), left_in_)), f_.get());
          if (k == 0) break;
          left_in_ -= k;
          zs_.next_in = in_.data();
          zs_.avail_in = static_cast<uInt>(k);
        }
        const int rc = inflate(&zs_, Z_NO_FLUSH);
        DIFFEVENT_CHECK(rc == Z_OK || rc == Z_STREAM_END ||
                            (rc == Z_BUF_ERROR && zs_.avail_in == 0 && left_in_ == 0),
                        ErrorCode::kFormatError, "'{}': NPZ member '{}' is corrupt (zlib: {})",
                        src_, e_.name, zs_.msg ? zs_.msg : "inflate failed");
        if (rc != Z_OK) break;
      }
      got = n - zs_.avail_out;
#endif
    }
    crc_ = crc32_ieee(static_cast<const unsigned char*>(dst), got, crc_);
    produced_ += got;
    if (produced_ == e_.usize)
      DIFFEVENT_CHECK(crc_ == e_.crc, ErrorCode::kFormatError,
                      "'{}': NPZ member '{}' fails its CRC check (corrupt file)", src_, e_.name);
    return got;
  }

 private:
  std::unique_ptr<std::FILE, FileCloser> f_;
  ZipEntry e_;
  std::string src_;
  uint64_t left_in_ = 0, produced_ = 0;
  uint32_t crc_ = 0;
  bool inflating_ = false;
#ifdef DIFFEVENT_HAVE_ZLIB
  z_stream zs_{};
  std::vector<unsigned char> in_;
#endif
};

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

std::string npy_header(const std::string& descr, const std::string& shape) {
  std::string dict =
      fmt::format("{{'descr': {}, 'fortran_order': False, 'shape': {}, }}", descr, shape);
  const size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  const auto len = static_cast<uint16_t>(dict.size());
  out.push_back(static_cast<char>(len & 0xFF));
  out.push_back(static_cast<char>(len >> 8));
  return out + dict;
}

template <typename T>
std::string npy_array(const std::vector<T>& v, const char* descr) {
  std::string s = npy_header(fmt::format("'{}'", descr), fmt::format("({},)", v.size()));
  s.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  return s;
}

}  // namespace

EventFile read_npy(const std::string& path, const ReadOptions& o) {
  FileSource in(path);
  EventBuilder b(path, o.width, o.height, o);
  decode_npy(in, path, o, b);
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

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

void write_npy(const std::string& path, const EventStream& ev) {
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  const std::string h = npy_header("[('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|i1')]",
                                   fmt::format("({},)", ev.size()));
  std::fwrite(h.data(), 1, h.size(), f.get());
  std::vector<unsigned char> buf;
  buf.reserve(13 * 65536);
  for (size_t i = 0; i < ev.size(); ++i) {
    unsigned char r[13];
    std::memcpy(r, &ev.t_us()[i], 8);
    std::memcpy(r + 8, &ev.x()[i], 2);
    std::memcpy(r + 10, &ev.y()[i], 2);
    r[12] = static_cast<unsigned char>(ev.p()[i]);
    buf.insert(buf.end(), r, r + 13);
    if (buf.size() >= 13 * 65536) {
      std::fwrite(buf.data(), 1, buf.size(), f.get());
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f.get());
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
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
  std::string out, cd;
  auto put16 = [](std::string& s, uint32_t v) {
    s.push_back(char(v & 0xFF));
    s.push_back(char((v >> 8) & 0xFF));
  };
  auto put32 = [&](std::string& s, uint32_t v) {
    put16(s, v & 0xFFFF);
    put16(s, v >> 16);
  };
  for (const auto& [name, data] : members) {
    const uint32_t crc =
        crc32_ieee(reinterpret_cast<const unsigned char*>(data.data()), data.size());
    const auto offset = static_cast<uint32_t>(out.size());
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, crc);
    put32(out, static_cast<uint32_t>(data.size()));
    put32(out, static_cast<uint32_t>(data.size()));
    put16(out, static_cast<uint32_t>(name.size()));
    put16(out, 0);
    out += name;
    out += data;
    put32(cd, 0x02014b50);
    put16(cd, 20);
    put16(cd, 20);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0x21);
    put32(cd, crc);
    put32(cd, static_cast<uint32_t>(data.size()));
    put32(cd, static_cast<uint32_t>(data.size()));
    put16(cd, static_cast<uint32_t>(name.size()));
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put32(cd, 0);
    put32(cd, offset);
    cd += name;
  }
  const auto cd_off = static_cast<uint32_t>(out.size());
  out += cd;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint32_t>(members.size()));
  put16(out, static_cast<uint32_t>(members.size()));
  put32(out, static_cast<uint32_t>(cd.size()));
  put32(out, cd_off);
  put16(out, 0);
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  std::fwrite(out.data(), 1, out.size(), f.get());
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
