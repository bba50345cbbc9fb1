// NumPy's .npy format shared by the .npy and .npz readers and writers: dtypes, headers, and
// the decoding of an .npy of events into the builder.
#include "io/numpy_dtype.hpp"

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

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace numpy {

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

Scalar parse_scalar(const std::string& d, const std::string& src, bool padding_allowed) {
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
  // The layout write_events writes (and most tools): 8-byte integer times, 16-bit unsigned
  // coordinates, one-byte polarities, decoded straight into the builder's types
  // (EventBuilder::add_batch16). A block with a bad polarity goes through the general path,
  // which names it.
  const bool narrow = (ct.type.kind == 'i' || ct.type.kind == 'u') && ct.type.size == 8 &&
                      cx.type.kind == 'u' && cx.type.size == 2 && cy.type.kind == 'u' &&
                      cy.type.size == 2 && cp.type.size == 1;
  const std::unique_ptr<uint16_t[]> x16(new uint16_t[narrow ? chunk : 1]),
      y16(new uint16_t[narrow ? chunk : 1]);
  auto fast_block = [&](size_t m) {
    bool bad_p = false;
    const bool signed_p = cp.type.kind == 'i';
    for (size_t i = 0; i < m; ++i) {
      const unsigned char* r = buf.get() + i * row;
      const int v = signed_p ? static_cast<int8_t>(r[cp.offset]) : r[cp.offset];
      bad_p |= static_cast<unsigned>(v + 1) > 2u;
      t[i] = load_le<int64_t>(r + ct.offset);
      x16[i] = load_le<uint16_t>(r + cx.offset);
      y16[i] = load_le<uint16_t>(r + cy.offset);
      p[i] = v == 1 ? int8_t{1} : int8_t{-1};
    }
    if (bad_p) return false;
    b.add_batch16(t.get(), x16.get(), y16.get(), p.get(), m);
    return true;
  };
  size_t done = 0;
  while (done < n) {
    const size_t m = std::min<size_t>(chunk, n - done);
    in.read_exact(buf.get(), m * row, src, "the event array");
    if (narrow && fast_block(m)) {
      done += m;
      continue;
    }
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

}  // namespace numpy
}  // namespace detail
}  // namespace v1
}  // namespace diffevent
