// Prophesee RAW (EVT 2.0, EVT 3.0) and DAT files. Layouts: docs/formats.md.
#include <map>
#include <memory>
#include <vector>

#include "core/check.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace {

struct Header {
  std::map<std::string, std::string> kv;  // "% key value" lines
  std::string text;
  int width = 0, height = 0;
};

// Reads "% key value" lines. RAW headers end with "% end"; DAT headers may not, so the header
// also ends at the first line that does not start with "% ".
Header read_header(std::FILE* f, const std::string& src) {
  Header h;
  for (;;) {
    const int c0 = std::getc(f);
    if (c0 == EOF) break;
    if (c0 != '%') {
      std::ungetc(c0, f);
      break;
    }
    std::string line;
    int c;
    while ((c = std::getc(f)) != EOF && c != '\n') {
      line.push_back(static_cast<char>(c));
      DIFFEVENT_CHECK(line.size() < 4096, ErrorCode::kFormatError, "'{}': header line too long",
                      src);
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    h.text += "%" + line + "\n";
    const size_t a = line.find_first_not_of(' ');
    if (a == std::string::npos) continue;
    const size_t sp = line.find(' ', a);
    const std::string key = line.substr(a, sp == std::string::npos ? std::string::npos : sp - a);
    const std::string val = sp == std::string::npos
                                ? ""
                                : line.substr(line.find_first_not_of(' ', sp) == std::string::npos
                                                  ? line.size()
                                                  : line.find_first_not_of(' ', sp));
    if (key == "end") break;
    h.kv[key] = val;
  }
  auto parse_int_kv = [&](const std::string& s, const char* name) -> int {
    const size_t p = s.find(name);
    if (p == std::string::npos) return 0;
    return std::atoi(s.c_str() + p + std::strlen(name));
  };
  if (auto it = h.kv.find("format"); it != h.kv.end()) {
    h.width = parse_int_kv(it->second, "width=");
    h.height = parse_int_kv(it->second, "height=");
  }
  if (auto it = h.kv.find("geometry"); it != h.kv.end() && h.width == 0) {
    std::sscanf(it->second.c_str(), "%dx%d", &h.width, &h.height);
  }
  for (const char* k : {"Width", "width"})
    if (auto it = h.kv.find(k); it != h.kv.end()) h.width = std::atoi(it->second.c_str());
  for (const char* k : {"Height", "height"})
    if (auto it = h.kv.find(k); it != h.kv.end()) h.height = std::atoi(it->second.c_str());
  DIFFEVENT_CHECK(h.width >= 0 && h.height >= 0 && h.width <= 65535 && h.height <= 65535,
                  ErrorCode::kFormatError, "'{}': header states an invalid sensor size {}x{}", src,
                  h.width, h.height);
  return h;
}

void check_encoding(const Header& h, const std::string& src, const char* want_format,
                    const char* want_evt) {
  const auto f = h.kv.find("format");
  const auto e = h.kv.find("evt");
  const bool ok = (f != h.kv.end() && f->second.rfind(want_format, 0) == 0) ||
                  (e != h.kv.end() && e->second == want_evt);
  DIFFEVENT_CHECK(ok, ErrorCode::kFormatError,
                  "'{}': RAW header does not declare {} (format '{}', evt '{}')", src, want_format,
                  f == h.kv.end() ? "" : f->second, e == h.kv.end() ? "" : e->second);
}

template <typename Word, typename Fn>
void for_each_word(std::FILE* f, const std::string& src, Fn&& fn) {
  std::vector<Word> buf(1 << 18);
  size_t leftover_bytes = 0;
  for (;;) {
    const size_t got = std::fread(buf.data(), 1, buf.size() * sizeof(Word), f);
    if (got == 0) break;
    const size_t words = got / sizeof(Word);
    leftover_bytes = got % sizeof(Word);
    for (size_t i = 0; i < words; ++i) fn(buf[i]);
    if (leftover_bytes) break;
  }
  DIFFEVENT_CHECK(!std::ferror(f), ErrorCode::kIoError, "error while reading '{}'", src);
  DIFFEVENT_CHECK(leftover_bytes == 0, ErrorCode::kFormatError,
                  "'{}': file is truncated ({} stray bytes after the last complete {}-byte word)",
                  src, leftover_bytes, sizeof(Word));
}

// Opens a RAW file, checks its declared encoding and sizes the builder from the header.
struct RawFile {
  FileSource in;
  Header header;
  EventBuilder builder;
  RawFile(const std::string& path, const ReadOptions& o, const char* format, const char* evt)
      : in(path),
        header(read_header(in.file(), path)),
        builder(path, o.width ? o.width : header.width, o.width ? o.height : header.height, o) {
    check_encoding(header, path, format, evt);
  }
};

// Decoded events staged a block at a time for EventBuilder::add_batch (one checking pass per
// block instead of a branchy call per event).
class Staging {
 public:
  explicit Staging(EventBuilder& b) : b_(b), t_(kBlock), x_(kBlock), y_(kBlock), p_(kBlock) {}
  void add(TimestampUs t, int64_t x, int64_t y, int p) {
    t_[n_] = t;
    x_[n_] = x;
    y_[n_] = y;
    p_[n_] = p > 0 ? int8_t{1} : int8_t{-1};
    if (++n_ == kBlock) flush();
  }
  void flush() {
    b_.add_batch(t_.data(), x_.data(), y_.data(), p_.data(), n_);
    n_ = 0;
  }

 private:
  static constexpr size_t kBlock = 8192;
  EventBuilder& b_;
  std::vector<TimestampUs> t_;
  std::vector<int64_t> x_, y_;
  std::vector<int8_t> p_;
  size_t n_ = 0;
};

}  // namespace

EventFile read_evt2(const std::string& path, const ReadOptions& o) {
  RawFile raw(path, o, "EVT2", "2.0");
  EventBuilder& b = raw.builder;
  // EVT 2.0: 32-bit words, type in bits 31..28. CD: ts[5:0] in 27..22, x in 21..11, y in 10..0.
  // TIME_HIGH: ts[33:6] in 27..0; the 34-bit time wraps every 2^34 us (~4 h 46 min).
  bool have_high = false;
  uint64_t time_high = 0, loops = 0;
  int64_t shift = 0;
  // At most one event per word: the final arrays are reserved for that many (untouched pages
  // of a reservation cost no memory).
  const uint64_t remaining = raw.in.remaining_bytes();
  if (remaining != UINT64_MAX) b.expect(static_cast<size_t>(remaining / 4));
  Staging staged(b);
  for_each_word<uint32_t>(raw.in.file(), path, [&](uint32_t w) {
    const uint32_t type = w >> 28;
    if (type == 0x8) {
      const uint64_t th = w & 0x0FFFFFFFu;
      if (have_high && th < time_high) ++loops;
      if (!have_high && o.time_shift) shift = static_cast<int64_t>(th << 6);
      time_high = th;
      have_high = true;
    } else if ((type == 0x0 || type == 0x1) && have_high) {
      const int64_t t =
          static_cast<int64_t>((loops << 34) + (time_high << 6) + ((w >> 22) & 0x3F)) - shift;
      staged.add(t, (w >> 11) & 0x7FF, w & 0x7FF, type == 0x1 ? 1 : -1);
    }
  });
  staged.flush();
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

EventFile read_evt3(const std::string& path, const ReadOptions& o) {
  RawFile raw(path, o, "EVT3", "3.0");
  EventBuilder& b = raw.builder;
  // EVT 3.0: 16-bit words, type in bits 15..12; time = TIME_HIGH[11:0] << 12 | TIME_LOW[11:0],
  // 24 bits wrapping every 2^24 us (16.8 s): a TIME_HIGH that drops by >= 2^11 starts a new loop.
  bool have_high = false;
  uint64_t high = 0, low = 0, loops = 0;
  int64_t shift = 0;
  int y = 0, base_x = 0, pol = 0;
  auto now = [&]() { return static_cast<int64_t>((loops << 24) + (high << 12) + low) - shift; };
  // Events are decoded into a block and handed to the builder a block at a time (add_batch
  // checks a block in one pass).
  constexpr size_t kBlock = 8192;
  const std::unique_ptr<TimestampUs[]> bt(new TimestampUs[kBlock]);
  const std::unique_ptr<int64_t[]> bx(new int64_t[kBlock]), by(new int64_t[kBlock]);
  const std::unique_ptr<int8_t[]> bp(new int8_t[kBlock]);
  size_t m = 0;
  // The count is known only roughly: after the first block, the arrays are reserved for the
  // rest of the file at its events per byte so far, with a margin (denser stretches go to
  // chunks).
  const uint64_t remaining = raw.in.remaining_bytes();
  uint64_t words = 0;
  bool estimated = false;
  auto flush = [&] {
    if (!estimated && remaining != UINT64_MAX && words > 0) {
      const double per_byte = static_cast<double>(m) / (2.0 * static_cast<double>(words));
      b.expect_about(static_cast<size_t>(per_byte * static_cast<double>(remaining) * 1.25) + m);
    }
    estimated = true;
    b.add_batch(bt.get(), bx.get(), by.get(), bp.get(), m);
    m = 0;
  };
  auto push = [&](int64_t t, int64_t x, int p) {
    bt[m] = t;
    bx[m] = x;
    by[m] = y;
    bp[m] = static_cast<int8_t>(2 * p - 1);
    if (__builtin_expect(++m == kBlock, 0)) flush();
  };
  for_each_word<uint16_t>(raw.in.file(), path, [&](uint16_t w) {
    ++words;
    const unsigned type = w >> 12;
    switch (type) {
      case 0x8: {
        const uint64_t th = w & 0xFFFu;
        if (have_high && th < high && high - th >= (1u << 11)) ++loops;
        if (!have_high && o.time_shift) shift = static_cast<int64_t>(th << 12);
        high = th;
        have_high = true;
        break;
      }
      case 0x6:
        low = w & 0xFFFu;
        break;
      case 0x0:
        y = w & 0x7FF;
        break;
      case 0x2:
        if (have_high) push(now(), w & 0x7FF, static_cast<int>((w >> 11) & 1));
        break;
      case 0x3:
        base_x = w & 0x7FF;
        pol = (w >> 11) & 1;
        break;
      case 0x4:
      case 0x5: {
        const int bits = type == 0x4 ? 12 : 8;
        if (have_high) {
          const int64_t t = now();
          for (unsigned v = w & ((1u << bits) - 1); v != 0; v &= v - 1)
            push(t, base_x + __builtin_ctz(v), pol);
        }
        base_x += bits;
        break;
      }
      default:
        break;  // triggers, IMU, continued and other vendor words carry no CD events
    }
  });
  if (m > 0) flush();
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

EventFile read_dat(const std::string& path, const ReadOptions& o) {
  FileSource in(path);
  const Header h = read_header(in.file(), path);
  unsigned char ts[2];
  in.read_exact(ts, 2, path, "the DAT event type and size");
  DIFFEVENT_CHECK(ts[0] == 0 || ts[0] == 12, ErrorCode::kUnsupported,
                  "'{}': DAT event type {} is not CD events (0 = Event2D, 12 = EventCD)", path,
                  ts[0]);
  DIFFEVENT_CHECK(ts[1] == 8, ErrorCode::kFormatError, "'{}': DAT event size is {} (expected 8)",
                  path, ts[1]);
  EventBuilder b(path, o.width ? o.width : h.width, o.width ? o.height : h.height, o);
  // 8-byte records: uint32 t (us), uint32 x:14 | y:14 | p:4. A regular file's size gives the
  // count, so the final arrays are reserved once (EventBuilder::expect); records are decoded a
  // block at a time and checked in one pass per block (EventBuilder::add_batch).
  const uint64_t remaining = in.remaining_bytes();
  if (remaining != UINT64_MAX) b.expect(static_cast<size_t>(remaining / 8));
  constexpr size_t kBlock = 8192;
  std::vector<unsigned char> buf(8 * kBlock);
  std::vector<TimestampUs> t(kBlock);
  std::vector<int64_t> x(kBlock), y(kBlock);
  std::vector<int8_t> p(kBlock);
  size_t stray = 0;
  for (;;) {
    const size_t got = std::fread(buf.data(), 1, buf.size(), in.file());
    if (got == 0) break;
    const size_t m = got / 8;
    uint32_t bad = 0;
    for (size_t i = 0; i < m; ++i) {
      const uint32_t d = load_le<uint32_t>(buf.data() + 8 * i + 4);
      t[i] = load_le<uint32_t>(buf.data() + 8 * i);
      x[i] = d & 0x3FFF;
      y[i] = (d >> 14) & 0x3FFF;
      p[i] = static_cast<int8_t>(2 * static_cast<int>((d >> 28) & 1) - 1);
      bad |= d >> 29;  // polarity above 1
    }
    if (bad != 0) {
      for (size_t i = 0; i < m; ++i) {
        const uint32_t pol = load_le<uint32_t>(buf.data() + 8 * i + 4) >> 28;
        DIFFEVENT_CHECK(pol <= 1, ErrorCode::kFormatError,
                        "'{}': event at index {} has polarity {} (expected 0 or 1)", path,
                        b.size() + i, pol);
      }
    }
    b.add_batch(t.data(), x.data(), y.data(), p.data(), m);
    stray = got % 8;
    if (stray) break;
  }
  DIFFEVENT_CHECK(stray == 0, ErrorCode::kFormatError,
                  "'{}': file is truncated ({} stray bytes after the last complete 8-byte event)",
                  path, stray);
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

void write_evt2(const std::string& path, const EventStream& ev) {
  DIFFEVENT_CHECK(ev.width() <= 2048 && ev.height() <= 2048, ErrorCode::kInvalidArgument,
                  "write_evt2: a {}x{} sensor does not fit EVT 2.0's 11-bit coordinates",
                  ev.width(), ev.height());
  DIFFEVENT_CHECK(ev.empty() || ev.t_us().front() >= 0, ErrorCode::kInvalidArgument,
                  "write_evt2: negative timestamps cannot be encoded");
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  const std::string header =
      fmt::format("% evt 2.0\n% format EVT2;height={};width={}\n% geometry {}x{}\n% end\n",
                  ev.height(), ev.width(), ev.width(), ev.height());
  std::fwrite(header.data(), 1, header.size(), f.get());
  std::vector<uint32_t> words;
  words.reserve(1 << 16);
  int64_t last_high = -1;
  for (size_t i = 0; i < ev.size(); ++i) {
    const uint64_t t = static_cast<uint64_t>(ev.t_us()[i]) & ((uint64_t{1} << 34) - 1);
    const auto high = static_cast<int64_t>(t >> 6);
    if (high != last_high || (i > 0 && (ev.t_us()[i] >> 34) != (ev.t_us()[i - 1] >> 34))) {
      words.push_back((0x8u << 28) | static_cast<uint32_t>(high));
      last_high = high;
    }
    words.push_back(((ev.p()[i] > 0 ? 1u : 0u) << 28) | (static_cast<uint32_t>(t & 0x3F) << 22) |
                    (uint32_t{ev.x()[i]} << 11) | ev.y()[i]);
    if (words.size() >= (1 << 16) - 2) {
      std::fwrite(words.data(), 4, words.size(), f.get());
      words.clear();
    }
  }
  std::fwrite(words.data(), 4, words.size(), f.get());
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

void write_dat(const std::string& path, const EventStream& ev) {
  DIFFEVENT_CHECK(ev.empty() || (ev.t_us().front() >= 0 && ev.t_us().back() <= int64_t{0xFFFFFFFF}),
                  ErrorCode::kInvalidArgument, "write_dat: timestamps must lie in [0, 2^32) us");
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  const std::string header = fmt::format(
      "% Data file containing Event2D events.\n% Version 2\n% Width {}\n% Height {}\n% end\n",
      ev.width(), ev.height());
  std::fwrite(header.data(), 1, header.size(), f.get());
  const unsigned char ts[2] = {12, 8};
  std::fwrite(ts, 1, 2, f.get());
  std::vector<uint32_t> rec;
  rec.reserve(1 << 17);
  for (size_t i = 0; i < ev.size(); ++i) {
    rec.push_back(static_cast<uint32_t>(ev.t_us()[i]));
    rec.push_back(uint32_t{ev.x()[i]} | (uint32_t{ev.y()[i]} << 14) |
                  ((ev.p()[i] > 0 ? 1u : 0u) << 28));
    if (rec.size() >= (1 << 17)) {
      std::fwrite(rec.data(), 4, rec.size(), f.get());
      rec.clear();
    }
  }
  std::fwrite(rec.data(), 4, rec.size(), f.get());
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
