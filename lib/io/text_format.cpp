// RPG / E2VID text events: optional "width height" line, then "t x y p" per line, t in seconds.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace {

// Parses a decimal number of seconds into exact microseconds (no binary rounding for the
// usual "1234.567890" form); falls back to strtod for exponents.
bool parse_seconds_us(const char*& s, TimestampUs& out) {
  const char* p = s;
  bool neg = false;
  if (*p == '-' || *p == '+') neg = (*p++ == '-');
  if (!std::isdigit(static_cast<unsigned char>(*p)) && *p != '.') return false;
  int64_t ip = 0;
  int digits = 0;
  while (std::isdigit(static_cast<unsigned char>(*p))) {
    // Whole seconds must fit in int64 microseconds (|t| < 9.2e12 s).
    if (ip > (std::numeric_limits<int64_t>::max() / 1000000 - 1) / 10) return false;
    ip = ip * 10 + (*p++ - '0');
    ++digits;
  }
  int64_t frac = 0;
  int fd = 0;
  bool round_up = false;
  if (*p == '.') {
    ++p;
    while (std::isdigit(static_cast<unsigned char>(*p))) {
      if (fd < 6) {
        frac = frac * 10 + (*p - '0');
        ++fd;
        ++digits;
      } else if (fd == 6) {
        round_up = *p >= '5';
        ++fd;
      }
      ++p;
    }
  }
  if (digits == 0) return false;
  if (*p == 'e' || *p == 'E') {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end == s || !std::isfinite(v) || std::fabs(v) >= 9.2e12) return false;
    s = end;
    out = static_cast<TimestampUs>(std::llround(v * 1e6));
    return true;
  }
  while (fd < 6) {
    frac *= 10;
    ++fd;
  }
  int64_t us = ip * 1000000 + frac + (round_up ? 1 : 0);
  out = neg ? -us : us;
  s = p;
  return true;
}

bool parse_int(const char*& s, int64_t& out) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || errno != 0) return false;
  // Allow "1.0" style integers written by float formatters.
  if (*end == '.') {
    ++end;
    while (*end == '0') ++end;
    if (std::isdigit(static_cast<unsigned char>(*end))) return false;
  }
  s = end;
  out = v;
  return true;
}

void skip_ws(const char*& s) {
  while (*s == ' ' || *s == '\t' || *s == ',' || *s == '\r') ++s;
}

class LineReader {
 public:
  explicit LineReader(std::FILE* f) : f_(f) {}
  bool next(std::string& line) {
    line.clear();
    for (;;) {
      if (pos_ == len_) {
        len_ = std::fread(buf_, 1, sizeof buf_, f_);
        pos_ = 0;
        if (len_ == 0) return !line.empty();
      }
      const char* start = buf_ + pos_;
      const void* nl = std::memchr(start, '\n', len_ - pos_);
      if (nl) {
        const size_t n = static_cast<size_t>(static_cast<const char*>(nl) - start);
        line.append(start, n);
        pos_ += n + 1;
        return true;
      }
      line.append(start, len_ - pos_);
      pos_ = len_;
    }
  }

 private:
  std::FILE* f_;
  char buf_[1 << 16];
  size_t pos_ = 0, len_ = 0;
};

}  // namespace

EventFile read_text(const std::string& path, const ReadOptions& o) {
  std::unique_ptr<std::FILE, FileCloser> f(open_for_read(path));
  auto reader = std::make_unique<LineReader>(f.get());
  EventBuilder b(path, o.width, o.height, o);
  std::string line;
  size_t lineno = 0;
  bool first_data = true;
  while (reader->next(line)) {
    ++lineno;
    const char* s = line.c_str();
    skip_ws(s);
    if (*s == '\0' || *s == '#' || *s == '%') continue;
    // Count the tokens on the line: 2 = "width height" header (first line only), 4 = event.
    int tokens = 0;
    for (const char* q = s; *q;) {
      while (*q == ' ' || *q == '\t' || *q == ',' || *q == '\r') ++q;
      if (!*q) break;
      ++tokens;
      while (*q && *q != ' ' && *q != '\t' && *q != ',' && *q != '\r') ++q;
    }
    if (tokens == 2 && first_data) {
      int64_t w = 0, h = 0;
      const char* q = s;
      DIFFEVENT_CHECK(parse_int(q, w) && (skip_ws(q), parse_int(q, h)) && w >= 1 && h >= 1 &&
                          w <= 65535 && h <= 65535,
                      ErrorCode::kFormatError,
                      "'{}' line {}: expected a 'width height' header, got '{}'", path, lineno,
                      line);
      if (o.width == 0) b.set_size(static_cast<int>(w), static_cast<int>(h));
      first_data = false;
      continue;
    }
    first_data = false;
    TimestampUs t = 0;
    int64_t x = 0, y = 0, p = 0;
    const char* q = s;
    const bool ok = tokens == 4 && parse_seconds_us(q, t) && (skip_ws(q), parse_int(q, x)) &&
                    (skip_ws(q), parse_int(q, y)) && (skip_ws(q), parse_int(q, p));
    DIFFEVENT_CHECK(ok, ErrorCode::kFormatError,
                    "'{}' line {}: expected 't x y p' (t in seconds), got '{}'", path, lineno,
                    line.substr(0, 80));
    DIFFEVENT_CHECK(p == 0 || p == 1 || p == -1, ErrorCode::kFormatError,
                    "'{}' line {}: polarity is {} (expected 0/1 or -1/+1)", path, lineno, p);
    b.add(t, x, y, p == 1 ? 1 : -1);
  }
  DIFFEVENT_CHECK(!std::ferror(f.get()), ErrorCode::kIoError, "error while reading '{}'", path);
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

void write_text(const std::string& path, const EventStream& ev) {
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "{} {}\n", ev.width(), ev.height());
  for (size_t i = 0; i < ev.size(); ++i) {
    const TimestampUs t = ev.t_us()[i];
    const TimestampUs a = t < 0 ? -t : t;
    fmt::format_to(std::back_inserter(buf), "{}{}.{:06d} {} {} {}\n", t < 0 ? "-" : "", a / 1000000,
                   a % 1000000, ev.x()[i], ev.y()[i], ev.p()[i] > 0 ? 1 : 0);
    if (buf.size() > (1 << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), f.get());
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f.get());
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
