// MATLAB v5 .mat files (uncompressed and zlib-compressed elements) in the layouts of the
// ni-joint, eSL-Net and EDI datasets. See docs/formats.md.
#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "core/check.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"
#include "io/zip.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace {

enum : uint32_t {
  miINT8 = 1,
  miUINT8,
  miINT16,
  miUINT16,
  miINT32,
  miUINT32,
  miSINGLE,
  miDOUBLE = 9,
  miINT64 = 12,
  miUINT64,
  miMATRIX,
  miCOMPRESSED,
  miUTF8,
  miUTF16,
  miUTF32
};
enum : uint32_t { mxCELL = 1, mxSTRUCT = 2, mxCHAR = 4 };

// A parsed variable: numeric data (as double), or struct fields (one map per struct element).
struct MatVar {
  uint32_t cls = 0;
  std::vector<int64_t> dims;
  std::vector<double> data;
  std::vector<std::map<std::string, MatVar>> fields;
  /// Element count; saturates at SIZE_MAX instead of wrapping (dimensions come from the file).
  size_t numel() const {
    size_t n = 1;
    for (auto d : dims) {
      const size_t k = static_cast<size_t>(d);
      if (k != 0 && n > SIZE_MAX / k) return SIZE_MAX;
      n *= k;
    }
    return n;
  }
};

class MatParser {
 public:
  MatParser(std::string src) : src_(std::move(src)) {}

  // Parses elements from [p, end) into named variables.
  void parse_top(const unsigned char* p, const unsigned char* end,
                 std::map<std::string, MatVar>& out) {
    while (end - p >= 8) {
      uint32_t type, bytes;
      const unsigned char* data;
      p = tag(p, end, type, bytes, data);
      if (type == miCOMPRESSED) {
        const std::string raw = inflate_bytes(data, bytes, 0, true, src_);
        std::map<std::string, MatVar> inner;
        parse_top(reinterpret_cast<const unsigned char*>(raw.data()),
                  reinterpret_cast<const unsigned char*>(raw.data()) + raw.size(), inner);
        for (auto& kv : inner) out[kv.first] = std::move(kv.second);
      } else if (type == miMATRIX) {
        std::string name;
        MatVar v = matrix(data, data + bytes, &name);
        out[name] = std::move(v);
      }
    }
  }

 private:
  // Reads one element tag (normal or small-element form); returns the next element's start.
  const unsigned char* tag(const unsigned char* p, const unsigned char* end, uint32_t& type,
                           uint32_t& bytes, const unsigned char*& data) {
    DIFFEVENT_CHECK(end - p >= 8, ErrorCode::kFormatError,
                    "'{}': MAT file is truncated (element tag)", src_);
    const uint32_t w = load_le<uint32_t>(p);
    if (w >> 16) {  // small data element: 2-byte size, 2-byte type, 4 bytes of data
      type = w & 0xFFFF;
      bytes = w >> 16;
      DIFFEVENT_CHECK(bytes <= 4, ErrorCode::kFormatError, "'{}': malformed MAT small element",
                      src_);
      data = p + 4;
      return p + 8;
    }
    type = w;
    bytes = load_le<uint32_t>(p + 4);
    DIFFEVENT_CHECK(bytes <= static_cast<size_t>(end - p - 8), ErrorCode::kFormatError,
                    "'{}': MAT file is truncated (element of {} bytes, {} left)", src_, bytes,
                    end - p - 8);
    data = p + 8;
    const size_t padded = type == miCOMPRESSED ? bytes : (bytes + 7) / 8 * 8;
    return p + 8 + std::min<size_t>(padded, static_cast<size_t>(end - p - 8));
  }

  std::vector<double> numbers(uint32_t type, const unsigned char* d, uint32_t bytes) {
    size_t sz = 0;
    switch (type) {
      case miINT8:
      case miUINT8:
      case miUTF8:
        sz = 1;
        break;
      case miINT16:
      case miUINT16:
      case miUTF16:
        sz = 2;
        break;
      case miINT32:
      case miUINT32:
      case miSINGLE:
      case miUTF32:
        sz = 4;
        break;
      case miDOUBLE:
      case miINT64:
      case miUINT64:
        sz = 8;
        break;
      default:
        throw Error(ErrorCode::kFormatError,
                    fmt::format("'{}': unsupported MAT data type {}", src_, type));
    }
    const size_t n = bytes / sz;
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) {
      const unsigned char* q = d + i * sz;
      switch (type) {
        case miINT8:
          v[i] = static_cast<int8_t>(q[0]);
          break;
        case miUINT8:
        case miUTF8:
          v[i] = q[0];
          break;
        case miINT16:
          v[i] = load_le<int16_t>(q);
          break;
        case miUINT16:
        case miUTF16:
          v[i] = load_le<uint16_t>(q);
          break;
        case miINT32:
          v[i] = load_le<int32_t>(q);
          break;
        case miUINT32:
        case miUTF32:
          v[i] = load_le<uint32_t>(q);
          break;
        case miSINGLE:
          v[i] = load_le<float>(q);
          break;
        case miDOUBLE:
          v[i] = load_le<double>(q);
          break;
        case miINT64:
          v[i] = static_cast<double>(load_le<int64_t>(q));
          break;
        case miUINT64:
          v[i] = static_cast<double>(load_le<uint64_t>(q));
          break;
      }
    }
    return v;
  }

  MatVar matrix(const unsigned char* p, const unsigned char* end, std::string* name) {
    DIFFEVENT_CHECK(++depth_ < 32, ErrorCode::kFormatError, "'{}': MAT structs nested too deeply",
                    src_);
    MatVar v;
    if (p == end) {  // empty element (e.g. an empty cell)
      --depth_;
      return v;
    }
    uint32_t type, bytes;
    const unsigned char* d;
    p = tag(p, end, type, bytes, d);  // array flags
    DIFFEVENT_CHECK(type == miUINT32 && bytes >= 4, ErrorCode::kFormatError,
                    "'{}': malformed MAT array flags", src_);
    v.cls = load_le<uint32_t>(d) & 0xFF;
    const bool complex = (load_le<uint32_t>(d) >> 11) & 1;
    p = tag(p, end, type, bytes, d);  // dimensions
    DIFFEVENT_CHECK(type == miINT32, ErrorCode::kFormatError, "'{}': malformed MAT dimensions",
                    src_);
    for (uint32_t i = 0; i < bytes / 4; ++i) {
      const int32_t dim = load_le<int32_t>(d + 4 * i);
      DIFFEVENT_CHECK(dim >= 0, ErrorCode::kFormatError, "'{}': negative MAT dimension", src_);
      v.dims.push_back(dim);
    }
    p = tag(p, end, type, bytes, d);  // name
    if (name) name->assign(reinterpret_cast<const char*>(d), bytes);
    if (v.cls == mxSTRUCT) {
      p = tag(p, end, type, bytes, d);
      DIFFEVENT_CHECK(bytes >= 4, ErrorCode::kFormatError, "'{}': malformed MAT struct", src_);
      const int32_t len = load_le<int32_t>(d);
      p = tag(p, end, type, bytes, d);
      DIFFEVENT_CHECK(len > 0 && bytes % static_cast<uint32_t>(len) == 0, ErrorCode::kFormatError,
                      "'{}': malformed MAT field names", src_);
      std::vector<std::string> names;
      for (uint32_t i = 0; i < bytes / static_cast<uint32_t>(len); ++i) {
        const char* s = reinterpret_cast<const char*>(d) + i * static_cast<uint32_t>(len);
        names.emplace_back(s, strnlen(s, static_cast<size_t>(len)));
      }
      const size_t n = v.numel();
      // Every field of every element takes at least an 8-byte tag: bound n by what is left.
      DIFFEVENT_CHECK(names.empty() || n <= static_cast<size_t>(end - p) / 8 / names.size(),
                      ErrorCode::kFormatError,
                      "'{}': MAT struct claims {} elements, more than the file holds", src_, n);
      v.fields.resize(names.empty() ? 0 : n);
      for (size_t e = 0; e < n && !names.empty(); ++e) {
        for (const auto& fname : names) {
          p = tag(p, end, type, bytes, d);
          DIFFEVENT_CHECK(type == miMATRIX, ErrorCode::kFormatError,
                          "'{}': malformed MAT struct field", src_);
          v.fields[e][fname] = matrix(d, d + bytes, nullptr);
        }
      }
    } else if (v.cls == mxCELL) {
      const size_t n = v.numel();
      DIFFEVENT_CHECK(n <= static_cast<size_t>(end - p) / 8 + 1, ErrorCode::kFormatError,
                      "'{}': MAT cell array claims {} elements, more than the file holds", src_, n);
      v.fields.resize(n);
      for (size_t e = 0; e < n; ++e) {
        p = tag(p, end, type, bytes, d);
        v.fields[e][""] = matrix(d, d + bytes, nullptr);
      }
    } else if (v.cls >= 4 && v.cls <= 15) {  // char and numeric classes
      p = tag(p, end, type, bytes, d);
      v.data = numbers(type, d, bytes);
      (void)complex;  // imaginary parts are ignored: event data are real
    }
    --depth_;
    return v;
  }

  std::string src_;
  int depth_ = 0;
};

const MatVar* field(const MatVar& s, const char* name) {
  if (s.cls != mxSTRUCT || s.fields.empty()) return nullptr;
  auto it = s.fields[0].find(name);
  return it == s.fields[0].end() ? nullptr : &it->second;
}

}  // namespace

EventFile read_mat(const std::string& path, const ReadOptions& o) {
  const std::string bytes = read_file(path);
  DIFFEVENT_CHECK(bytes.size() >= 128 && bytes.compare(0, 10, "MATLAB 5.0") == 0,
                  ErrorCode::kFormatError,
                  "'{}': not a MATLAB v5 .mat file (bad or truncated 128-byte header)", path);
  DIFFEVENT_CHECK(bytes[126] == 'I' && bytes[127] == 'M', ErrorCode::kUnsupported,
                  "'{}': big-endian MAT files are not supported", path);
  std::map<std::string, MatVar> vars;
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  MatParser(path).parse_top(u + 128, u + bytes.size(), vars);

  EventBuilder b(path, o.width, o.height, o);
  EventFile out;
  auto col = [&](const MatVar& v, const char* what) -> const std::vector<double>& {
    DIFFEVENT_CHECK(!v.data.empty() || v.numel() == 0, ErrorCode::kFormatError,
                    "'{}': variable '{}' is not numeric", path, what);
    DIFFEVENT_CHECK(v.data.size() == v.numel(), ErrorCode::kFormatError,
                    "'{}': variable '{}' holds {} numbers but its dimensions say {}", path, what,
                    v.data.size(), v.numel());
    return v.data;
  };
  auto add_all = [&](const std::vector<double>& t, const std::vector<double>& x,
                     const std::vector<double>& y, const std::vector<double>& p, double t_scale,
                     int coord_base) {
    DIFFEVENT_CHECK(x.size() == t.size() && y.size() == t.size() && p.size() == t.size(),
                    ErrorCode::kFormatError,
                    "'{}': event arrays differ in length (t {}, x {}, y {}, p {})", path, t.size(),
                    x.size(), y.size(), p.size());
    for (size_t i = 0; i < t.size(); ++i) {
      DIFFEVENT_CHECK(std::isfinite(t[i]) && std::isfinite(x[i]) && std::isfinite(y[i]),
                      ErrorCode::kFormatError,
                      "'{}': event at index {} has a NaN or infinite value", path, i);
      DIFFEVENT_CHECK(p[i] == 0 || p[i] == 1 || p[i] == -1, ErrorCode::kFormatError,
                      "'{}': polarity at index {} is {} (expected 0/1 or -1/+1)", path, i, p[i]);
      b.add(static_cast<TimestampUs>(std::llround(t[i] * t_scale)),
            static_cast<int64_t>(std::llround(x[i])) - coord_base,
            static_cast<int64_t>(std::llround(y[i])) - coord_base, p[i] == 1 ? 1 : -1);
    }
  };

  if (auto it = vars.find("events"); it != vars.end()) {
    // ni-joint: `events` N x 4 (column-major): t (us), x, y (0-based), p (0/1).
    const MatVar& v = it->second;
    DIFFEVENT_CHECK(v.dims.size() == 2 && v.dims[1] == 4, ErrorCode::kFormatError,
                    "'{}': variable 'events' must be N x 4 (t, x, y, p), got {} dimensions", path,
                    v.dims.size());
    const auto& d = col(v, "events");
    const size_t n = static_cast<size_t>(v.dims[0]);
    auto slice = [&](size_t c) {
      return std::vector<double>(d.begin() + static_cast<std::ptrdiff_t>(c * n),
                                 d.begin() + static_cast<std::ptrdiff_t>((c + 1) * n));
    };
    const bool t_float = v.cls == 6 || v.cls == 7;  // mxDOUBLE / mxSINGLE may hold seconds
    double scale = 1.0;
    if (t_float && n > 0 && o.float_time_is_seconds) {
      // Heuristic documented in formats.md: double times spanning < 1e3 with fractions are seconds.
      const auto t = slice(0);
      bool frac = false;
      for (double x : t) frac |= x != std::floor(x);
      if (frac) scale = 1e6;
    }
    add_all(slice(0), slice(1), slice(2), slice(3), scale, 0);
  } else if (vars.count("section_event_timestamp")) {
    // eSL-Net: section_event_{timestamp,x,y,polarity}, times in (Unix) seconds, exposure from
    // start_timestamp / end_timestamp (seconds). Coordinates 0-based.
    for (const char* k : {"section_event_x", "section_event_y", "section_event_polarity"})
      DIFFEVENT_CHECK(vars.count(k), ErrorCode::kFormatError,
                      "'{}': eSL-Net layout is missing '{}'", path, k);
    add_all(col(vars["section_event_timestamp"], "section_event_timestamp"),
            col(vars["section_event_x"], "x"), col(vars["section_event_y"], "y"),
            col(vars["section_event_polarity"], "polarity"), 1e6, 0);
    if (vars.count("start_timestamp") && vars.count("end_timestamp") &&
        !vars["start_timestamp"].data.empty() && !vars["end_timestamp"].data.empty()) {
      out.exposures.push_back(
          {static_cast<TimestampUs>(std::llround(vars["start_timestamp"].data[0] * 1e6)),
           static_cast<TimestampUs>(std::llround(vars["end_timestamp"].data[0] * 1e6))});
    }
  } else if (vars.count("matlabdata")) {
    // EDI: matlabdata.data.polarity.{x,y,polarity,timeStamp} (1-based, us) and
    // matlabdata.data.frame.{timeStampStart,timeStampEnd} per frame.
    const MatVar& md = vars["matlabdata"];
    const MatVar* data = field(md, "data");
    const MatVar* pol = data ? field(*data, "polarity") : nullptr;
    DIFFEVENT_CHECK(pol, ErrorCode::kFormatError, "'{}': EDI layout needs matlabdata.data.polarity",
                    path);
    const MatVar *x = field(*pol, "x"), *y = field(*pol, "y"), *p = field(*pol, "polarity"),
                 *t = field(*pol, "timeStamp");
    DIFFEVENT_CHECK(x && y && p && t, ErrorCode::kFormatError,
                    "'{}': matlabdata.data.polarity needs x, y, polarity and timeStamp", path);
    add_all(t->data, x->data, y->data, p->data, 1.0, 1);
    const MatVar* frame = field(*data, "frame");
    if (frame) {
      const MatVar *s = field(*frame, "timeStampStart"), *e = field(*frame, "timeStampEnd");
      if (s && e) {
        for (size_t i = 0; i < std::min(s->data.size(), e->data.size()); ++i)
          out.exposures.push_back({static_cast<TimestampUs>(std::llround(s->data[i])),
                                   static_cast<TimestampUs>(std::llround(e->data[i]))});
      }
    }
  } else {
    std::string names;
    for (const auto& kv : vars) names += (names.empty() ? "" : ", ") + kv.first;
    throw Error(
        ErrorCode::kFormatError,
        fmt::format(
            "'{}': no known event layout (expected 'events', 'section_event_*' or 'matlabdata'; "
            "found: {})",
            path, names.empty() ? "no variables" : names));
  }
  out.events = b.finish(&out.size_inferred);
  return out;
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
