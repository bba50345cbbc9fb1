// iniVation AEDAT 4.0: magic, size-prefixed FlatBuffer IOHeader (compression, data table
// position, XML stream description), then (int32 stream id, int32 size) packets whose bodies
// are (optionally LZ4- or ZSTD-framed) size-prefixed FlatBuffers. EVTS packets hold
// EventPacket { elements: [Event { int64 timestamp; int16 x; int16 y; bool polarity }] }.
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

#include "core/check.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"

#ifdef DIFFEVENT_HAVE_LZ4
#include <lz4frame.h>
#endif
#ifdef DIFFEVENT_HAVE_ZSTD
#include <zstd.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace {

// Minimal bounds-checked FlatBuffers table access.
class FlatTable {
 public:
  FlatTable(const unsigned char* buf, size_t size, size_t table, const std::string& src)
      : b_(buf), n_(size), t_(table), src_(src) {
    need(t_, 4);
    const int32_t soff = load_le<int32_t>(b_ + t_);
    const int64_t vt = static_cast<int64_t>(t_) - soff;
    DIFFEVENT_CHECK(vt >= 0 && static_cast<size_t>(vt) + 4 <= n_, ErrorCode::kFormatError,
                    "'{}': corrupt FlatBuffer vtable", src_);
    vt_ = static_cast<size_t>(vt);
    vt_size_ = load_le<uint16_t>(b_ + vt_);
    need(vt_, vt_size_);
  }
  // Absolute position of field `i`, or 0 when absent.
  size_t field(int i) const {
    const size_t off = 4 + 2 * static_cast<size_t>(i);
    if (off + 2 > vt_size_) return 0;
    const uint16_t fo = load_le<uint16_t>(b_ + vt_ + off);
    return fo ? t_ + fo : 0;
  }
  size_t deref(size_t pos) const {
    need(pos, 4);
    const size_t target = pos + load_le<uint32_t>(b_ + pos);
    need(target, 4);
    return target;
  }
  void need(size_t pos, size_t len) const {
    DIFFEVENT_CHECK(pos <= n_ && len <= n_ - pos, ErrorCode::kFormatError,
                    "'{}': corrupt FlatBuffer (offset {} + {} beyond {} bytes)", src_, pos, len,
                    n_);
  }

 private:
  const unsigned char* b_;
  size_t n_, t_, vt_ = 0, vt_size_ = 0;
  const std::string& src_;
};

enum class Compression { kNone = 0, kLz4 = 1, kLz4High = 2, kZstd = 3, kZstdHigh = 4 };

// One packet never holds more than this once decompressed (DV writes packets of a few MB);
// a larger output is a decompression bomb or a corrupt stream.
constexpr size_t kMaxPacketBytes = size_t{256} << 20;

std::string decompress(Compression c, const std::string& in, const std::string& src) {
  if (c == Compression::kNone) return in;
  auto check_size = [&](const std::string& out) {
    DIFFEVENT_CHECK(out.size() <= kMaxPacketBytes, ErrorCode::kFormatError,
                    "'{}': a compressed packet expands beyond {} MiB", src, kMaxPacketBytes >> 20);
  };
  if (c == Compression::kLz4 || c == Compression::kLz4High) {
#ifdef DIFFEVENT_HAVE_LZ4
    LZ4F_dctx* ctx = nullptr;
    DIFFEVENT_CHECK(!LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)),
                    ErrorCode::kInternal, "lz4: cannot create a decompression context");
    std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> guard(
        ctx, LZ4F_freeDecompressionContext);
    std::string out;
    std::vector<char> buf(1 << 16);
    size_t pos = 0;
    size_t rc = 1;
    while (pos < in.size() && rc != 0) {
      size_t dst = buf.size(), srcn = in.size() - pos;
      rc = LZ4F_decompress(ctx, buf.data(), &dst, in.data() + pos, &srcn, nullptr);
      DIFFEVENT_CHECK(!LZ4F_isError(rc), ErrorCode::kFormatError, "'{}': corrupt LZ4 packet ({})",
                      src, LZ4F_getErrorName(rc));
      pos += srcn;
      out.append(buf.data(), dst);
      check_size(out);
      if (srcn == 0 && dst == 0) break;
    }
    // Drain any output still buffered in the context.
    while (rc != 0) {
      size_t dst = buf.size(), srcn = 0;
      rc = LZ4F_decompress(ctx, buf.data(), &dst, nullptr, &srcn, nullptr);
      DIFFEVENT_CHECK(!LZ4F_isError(rc), ErrorCode::kFormatError, "'{}': corrupt LZ4 packet ({})",
                      src, LZ4F_getErrorName(rc));
      out.append(buf.data(), dst);
      check_size(out);
      DIFFEVENT_CHECK(dst != 0 || rc == 0, ErrorCode::kFormatError, "'{}': truncated LZ4 packet",
                      src);
    }
    return out;
#else
    throw Error(
        ErrorCode::kUnsupported,
        fmt::format("'{}': LZ4-compressed AEDAT4 needs liblz4, which was not compiled in", src));
#endif
  }
  if (c == Compression::kZstd || c == Compression::kZstdHigh) {
#ifdef DIFFEVENT_HAVE_ZSTD
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    std::string out;
    std::vector<char> buf(ZSTD_DStreamOutSize());
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    size_t rc = 1;
    while (ib.pos < ib.size || rc != 0) {
      ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
      rc = ZSTD_decompressStream(ctx.get(), &ob, &ib);
      DIFFEVENT_CHECK(!ZSTD_isError(rc), ErrorCode::kFormatError, "'{}': corrupt ZSTD packet ({})",
                      src, ZSTD_getErrorName(rc));
      out.append(buf.data(), ob.pos);
      check_size(out);
      if (ob.pos == 0 && ib.pos == ib.size) {
        DIFFEVENT_CHECK(rc == 0, ErrorCode::kFormatError, "'{}': truncated ZSTD packet", src);
        break;
      }
    }
    return out;
#else
    throw Error(
        ErrorCode::kUnsupported,
        fmt::format("'{}': ZSTD-compressed AEDAT4 needs libzstd, which was not compiled in", src));
#endif
  }
  throw Error(ErrorCode::kFormatError,
              fmt::format("'{}': unknown AEDAT4 compression type {}", src, static_cast<int>(c)));
}

// Finds, in the XML description, the id of the first EVTS stream and its sizeX/sizeY.
void parse_streams(const std::string& xml, int& evts_id, int& w, int& h) {
  // Stream nodes are <node name="N" ...> with a numeric N; each block runs to the next one.
  std::vector<std::pair<size_t, int>> streams;  // (position, id)
  for (size_t pos = xml.find("<node name=\""); pos != std::string::npos;
       pos = xml.find("<node name=\"", pos + 1)) {
    const size_t a = pos + 12, q = xml.find('"', a);
    const std::string name = xml.substr(a, q - a);
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
      streams.push_back({pos, std::atoi(name.c_str())});
  }
  evts_id = -1;
  for (size_t i = 0; i < streams.size(); ++i) {
    const std::string block =
        xml.substr(streams[i].first,
                   (i + 1 < streams.size() ? streams[i + 1].first : xml.size()) - streams[i].first);
    // The text after the '>' that closes the attribute tag holding `key` ("" when absent).
    auto value_of = [&](const char* key) -> std::string {
      const size_t k = block.find(key);
      const size_t gt = k == std::string::npos ? std::string::npos : block.find('>', k);
      return gt == std::string::npos ? std::string() : block.substr(gt + 1, 16);
    };
    if (value_of("typeIdentifier").compare(0, 4, "EVTS") != 0) continue;
    auto attr_int = [&](const char* key) { return std::atoi(value_of(key).c_str()); };
    evts_id = streams[i].second;
    w = attr_int("\"sizeX\"");
    h = attr_int("\"sizeY\"");
    return;
  }
}

void put_u16(std::string& s, uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); }
void put_u32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }
void put_i64(std::string& s, int64_t v) { s.append(reinterpret_cast<const char*>(&v), 8); }

// IOHeader { compression: int32 (0); dataTablePosition: int64 (1); infoNode: string (2) }.
std::string io_header(int32_t compression, const std::string& xml) {
  std::string b;
  put_u32(b, 16);  // root: table at 16
  put_u16(b, 10);
  put_u16(b, 20);
  put_u16(b, 4);
  put_u16(b, 8);
  put_u16(b, 16);                                  // vtable at 4
  b.append(2, '\0');                               // pad to 16
  put_u32(b, 12);                                  // soffset: table 16 - vtable 4
  put_u32(b, static_cast<uint32_t>(compression));  // field 0 at table + 4
  put_i64(b, -1);                                  // field 1 at table + 8: no data table
  put_u32(b, 4);                                   // field 2 at table + 16 -> string at 36
  put_u32(b, static_cast<uint32_t>(xml.size()));
  b += xml;
  b.push_back('\0');
  return b;
}

// Size-prefixed EventPacket { elements: [Event] } with identifier "EVTS".
std::string event_packet(const EventStream& ev, size_t a, size_t b) {
  std::string u;
  put_u32(u, 16);  // root: table at 16
  u += "EVTS";     // identifier
  put_u16(u, 6);
  put_u16(u, 8);
  put_u16(u, 4);                             // vtable at 8
  u.append(2, '\0');                         // pad to 16
  put_u32(u, 8);                             // soffset: table 16 - vtable 8
  put_u32(u, 8);                             // field 0 at 20 -> vector at 28
  put_u32(u, 0);                             // pad
  put_u32(u, static_cast<uint32_t>(b - a));  // vector length at 28, data at 32 (8-aligned)
  for (size_t i = a; i < b; ++i) {
    put_i64(u, ev.t_us()[i]);
    put_u16(u, ev.x()[i]);
    put_u16(u, ev.y()[i]);
    u.push_back(ev.p()[i] > 0 ? 1 : 0);
    u.append(3, '\0');
  }
  std::string out;
  put_u32(out, static_cast<uint32_t>(u.size()));
  return out + u;
}

std::string compress(WriteOptions::Compression c, const std::string& in) {
  if (c == WriteOptions::Compression::kNone) return in;
  if (c == WriteOptions::Compression::kLz4) {
#ifdef DIFFEVENT_HAVE_LZ4
    std::string out(LZ4F_compressFrameBound(in.size(), nullptr), '\0');
    const size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr);
    DIFFEVENT_CHECK(!LZ4F_isError(n), ErrorCode::kInternal, "lz4: {}", LZ4F_getErrorName(n));
    out.resize(n);
    return out;
#else
    throw Error(ErrorCode::kUnsupported, "write_aedat4: LZ4 was not compiled in");
#endif
  }
#ifdef DIFFEVENT_HAVE_ZSTD
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  DIFFEVENT_CHECK(!ZSTD_isError(n), ErrorCode::kInternal, "zstd: {}", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
#else
  throw Error(ErrorCode::kUnsupported, "write_aedat4: ZSTD was not compiled in");
#endif
}

}  // namespace

void write_aedat4(const std::string& path, const EventStream& ev, const WriteOptions& w) {
  DIFFEVENT_CHECK(ev.width() <= 32767 && ev.height() <= 32767, ErrorCode::kInvalidArgument,
                  "write_aedat4: a {}x{} sensor does not fit int16 coordinates", ev.width(),
                  ev.height());
  DIFFEVENT_CHECK(w.aedat_packet_events >= 1, ErrorCode::kInvalidArgument,
                  "write_aedat4: aedat_packet_events must be >= 1");
  const char* names[] = {"NONE", "LZ4", "ZSTD"};
  const int32_t codes[] = {0, 1, 3};
  const auto ci = static_cast<size_t>(w.aedat_compression);
  const std::string xml = fmt::format(
      "<dv version=\"2.0\"><node name=\"outInfo\" path=\"/outInfo/\"><node name=\"0\" "
      "path=\"/outInfo/0/\">"
      "<attr key=\"compression\" type=\"string\">{}</attr><attr key=\"typeIdentifier\" "
      "type=\"string\">EVTS</attr>"
      "<node name=\"info\" path=\"/outInfo/0/info/\"><attr key=\"sizeX\" type=\"int\">{}</attr>"
      "<attr key=\"sizeY\" type=\"int\">{}</attr></node></node></node></dv>",
      names[ci], ev.width(), ev.height());
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  std::string out = "#!AER-DAT4.0\r\n";
  const std::string hdr = io_header(codes[ci], xml);
  put_u32(out, static_cast<uint32_t>(hdr.size()));
  out += hdr;
  std::fwrite(out.data(), 1, out.size(), f.get());
  for (size_t a = 0; a < ev.size(); a += w.aedat_packet_events) {
    const std::string body = compress(
        w.aedat_compression, event_packet(ev, a, std::min(ev.size(), a + w.aedat_packet_events)));
    std::string ph;
    put_u32(ph, 0);
    put_u32(ph, static_cast<uint32_t>(body.size()));
    std::fwrite(ph.data(), 1, ph.size(), f.get());
    std::fwrite(body.data(), 1, body.size(), f.get());
  }
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

EventFile read_aedat4(const std::string& path, const ReadOptions& o) {
  FileSource in(path);
  std::error_code size_error;
  // Sizes read from the file are checked against its length before anything is allocated.
  const auto file_bytes = static_cast<int64_t>(std::filesystem::file_size(path, size_error));
  DIFFEVENT_CHECK(!size_error, ErrorCode::kIoError, "'{}': cannot get the file size ({})", path,
                  size_error.message());
  char magic[14];
  in.read_exact(magic, 14, path, "the AEDAT4 magic");
  DIFFEVENT_CHECK(std::memcmp(magic, "#!AER-DAT4.0\r\n", 14) == 0, ErrorCode::kFormatError,
                  "'{}': not an AEDAT 4.0 file (bad magic)", path);
  unsigned char lenb[4];
  in.read_exact(lenb, 4, path, "the AEDAT4 header size");
  const uint32_t hlen = load_le<uint32_t>(lenb);
  DIFFEVENT_CHECK(hlen >= 8 && hlen < (64u << 20), ErrorCode::kFormatError,
                  "'{}': AEDAT4 header size {} is implausible", path, hlen);
  DIFFEVENT_CHECK(hlen <= file_bytes - 18, ErrorCode::kFormatError,
                  "'{}': file is truncated: the AEDAT4 header claims {} bytes, {} are left", path,
                  hlen, file_bytes - 18);
  std::string hdr(hlen, '\0');
  in.read_exact(hdr.data(), hlen, path, "the AEDAT4 header");
  const auto* hb = reinterpret_cast<const unsigned char*>(hdr.data());
  FlatTable probe(hb, hlen, load_le<uint32_t>(hb), path);
  Compression comp = Compression::kNone;
  int64_t table_pos = -1;
  std::string xml;
  if (size_t f = probe.field(0)) {
    probe.need(f, 4);
    comp = static_cast<Compression>(load_le<int32_t>(hb + f));
  }
  if (size_t f = probe.field(1)) {
    probe.need(f, 8);
    table_pos = load_le<int64_t>(hb + f);
  }
  if (size_t f = probe.field(2)) {
    const size_t s = probe.deref(f);
    const uint32_t n = load_le<uint32_t>(hb + s);
    probe.need(s + 4, n);
    xml.assign(hdr.data() + s + 4, n);
  }
  int evts = -1, w = 0, h = 0;
  parse_streams(xml, evts, w, h);
  DIFFEVENT_CHECK(evts >= 0, ErrorCode::kFormatError,
                  "'{}': AEDAT4 file has no event (EVTS) stream", path);
  EventBuilder b(path, o.width ? o.width : w, o.width ? o.height : h, o);
  int64_t offset = 14 + 4 + static_cast<int64_t>(hlen);
  std::string body;
  for (;;) {
    if (table_pos >= 0 && offset >= table_pos) break;
    unsigned char ph[8];
    const size_t got = in.read(ph, 8);
    if (got == 0) break;
    DIFFEVENT_CHECK(got == 8, ErrorCode::kFormatError,
                    "'{}': file is truncated inside a packet header at byte {}", path, offset);
    const int32_t stream = load_le<int32_t>(ph);
    const int32_t size = load_le<int32_t>(ph + 4);
    DIFFEVENT_CHECK(size >= 0 && size < (1 << 30), ErrorCode::kFormatError,
                    "'{}': packet at byte {} has invalid size {}", path, offset, size);
    DIFFEVENT_CHECK(size <= file_bytes - offset - 8, ErrorCode::kFormatError,
                    "'{}': file is truncated: the packet at byte {} claims {} bytes, {} are left",
                    path, offset, size, file_bytes - offset - 8);
    body.resize(static_cast<size_t>(size));
    in.read_exact(body.data(), body.size(), path, "a packet body");
    offset += 8 + size;
    if (stream != evts) continue;
    const std::string fb = decompress(comp, body, path);
    // Size-prefixed FlatBuffer: uint32 size, uint32 root offset, "EVTS" identifier.
    DIFFEVENT_CHECK(fb.size() >= 12, ErrorCode::kFormatError, "'{}': event packet too small", path);
    const auto* u = reinterpret_cast<const unsigned char*>(fb.data()) + 4;
    const size_t n = fb.size() - 4;
    DIFFEVENT_CHECK(std::memcmp(u + 4, "EVTS", 4) == 0, ErrorCode::kFormatError,
                    "'{}': event packet lacks the EVTS identifier", path);
    FlatTable t(u, n, load_le<uint32_t>(u), path);
    const size_t vf = t.field(0);
    if (!vf) continue;
    const size_t vec = t.deref(vf);
    const uint32_t count = load_le<uint32_t>(u + vec);
    t.need(vec + 4, static_cast<size_t>(count) * 16);
    for (uint32_t i = 0; i < count; ++i) {
      const unsigned char* e = u + vec + 4 + 16 * static_cast<size_t>(i);
      b.add(load_le<int64_t>(e), load_le<int16_t>(e + 8), load_le<int16_t>(e + 10), e[12] ? 1 : -1);
    }
  }
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
