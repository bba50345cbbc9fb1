// The AEDAT 4.0 writer: an IOHeader whose XML describes an events stream (and, for a
// recording, a frames stream), then size-prefixed FlatBuffer packets in time order, each
// optionally LZ4- or ZSTD-framed. The reader is aedat4_format.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "io/aedat4_layout.hpp"
#include "io/atomic_file.hpp"
#include "io/formats.hpp"
#include "io/recording_source.hpp"

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

using namespace aedat4;  // NOLINT: the format's shared layout

void put_u8(std::string& s, uint8_t v) { s.push_back(static_cast<char>(v)); }
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

std::string size_prefixed(const std::string& u) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(u.size()));
  return out + u;
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
  return size_prefixed(u);
}

// Size-prefixed Frame with identifier "FRME": 8-bit grey (GRAY) or colour (BGR), rows top down.
std::string frame_packet(const Image& im, const Exposure& e) {
  // Table at 40 (int64 fields 8-aligned); vtable of 12 fields at 8; pixel vector after it.
  constexpr uint16_t kTable = 40, kTableSize = 68;
  const uint16_t at[kFrameFields] = {8, 16, 24, 32, 40, 64, 4, 6, 56, 58, 60, 48};
  std::string u;
  put_u32(u, kTable);
  u += "FRME";
  put_u16(u, 4 + 2 * kFrameFields);
  put_u16(u, kTableSize);
  for (uint16_t off : at) put_u16(u, off);
  u.append(kTable - u.size(), '\0');
  put_u32(u, kTable - 8);  // soffset: table - vtable
  put_u16(u, static_cast<uint16_t>(im.width()));
  put_u16(u, static_cast<uint16_t>(im.height()));
  for (int64_t v : {e.mid_us(), e.t0_us, e.t1_us, e.t0_us, e.t1_us, e.duration_us()}) put_i64(u, v);
  put_u16(u, 0);  // positionX
  put_u16(u, 0);  // positionY
  put_u32(u, 8);  // pixels: vector at table + 68
  put_u8(u, im.channels() == 1 ? kGray : kBgr);
  u.append(3, '\0');
  const size_t n = im.size();
  put_u32(u, static_cast<uint32_t>(n));
  const int C = im.channels();
  for (int y = 0; y < im.height(); ++y)
    for (int x = 0; x < im.width(); ++x)
      for (int k = 0; k < C; ++k) {
        const float v = im.at(C == 1 ? 0 : C - 1 - k, y, x);  // BGR order
        put_u8(u, static_cast<uint8_t>(std::lround(std::fmin(std::fmax(v, 0.0f), 1.0f) * 255)));
      }
  u.append((4 - u.size() % 4) % 4, '\0');
  return size_prefixed(u);
}

std::string compress(WriteOptions::Compression c, const std::string& in) {
  if (c == WriteOptions::Compression::kNone) return in;
  if (c == WriteOptions::Compression::kLz4) {
#ifdef DIFFEVENT_HAVE_LZ4
    LZ4F_preferences_t prefs{};
    prefs.frameInfo.contentSize = in.size();  // lets a reader size its buffer once
    std::string out(LZ4F_compressFrameBound(in.size(), &prefs), '\0');
    const size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
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

void write_packets(std::FILE* f, const EventStream& ev, const std::vector<FrameRecord>& frames,
                   const WriteOptions& w, bool with_frames) {
  const char* names[] = {"NONE", "LZ4", "ZSTD"};
  const int32_t codes[] = {0, 1, 3};
  const auto ci = static_cast<size_t>(w.aedat_compression);
  std::string streams = fmt::format(
      "<node name=\"0\" path=\"/outInfo/0/\">"
      "<attr key=\"compression\" type=\"string\">{}</attr><attr key=\"originalModuleName\" "
      "type=\"string\">diffevent</attr><attr key=\"originalOutputName\" "
      "type=\"string\">events</attr><attr key=\"typeIdentifier\" type=\"string\">EVTS</attr>"
      "<node name=\"info\" path=\"/outInfo/0/info/\"><attr key=\"sizeX\" type=\"int\">{}</attr>"
      "<attr key=\"sizeY\" type=\"int\">{}</attr></node></node>",
      names[ci], ev.width(), ev.height());
  if (with_frames) {
    streams += fmt::format(
        "<node name=\"1\" path=\"/outInfo/1/\">"
        "<attr key=\"compression\" type=\"string\">{}</attr><attr key=\"originalModuleName\" "
        "type=\"string\">diffevent</attr><attr key=\"originalOutputName\" "
        "type=\"string\">frames</attr><attr key=\"typeIdentifier\" type=\"string\">FRME</attr>"
        "<node name=\"info\" path=\"/outInfo/1/info/\"><attr key=\"sizeX\" "
        "type=\"int\">{}</attr><attr key=\"sizeY\" type=\"int\">{}</attr></node></node>",
        names[ci], ev.width(), ev.height());
  }
  const std::string xml =
      "<dv version=\"2.0\"><node name=\"outInfo\" path=\"/outInfo/\">" + streams + "</node></dv>";
  std::string out(kMagic, kMagicBytes);
  const std::string hdr = io_header(codes[ci], xml);
  put_u32(out, static_cast<uint32_t>(hdr.size()));
  out += hdr;
  std::fwrite(out.data(), 1, out.size(), f);
  auto packet = [&](int32_t stream, const std::string& fb) {
    const std::string body = compress(w.aedat_compression, fb);
    std::string ph;
    put_u32(ph, static_cast<uint32_t>(stream));
    put_u32(ph, static_cast<uint32_t>(body.size()));
    std::fwrite(ph.data(), 1, ph.size(), f);
    std::fwrite(body.data(), 1, body.size(), f);
  };
  // Packets in time order, as a camera writes them: a frame once its exposure has ended.
  size_t next_frame = 0;
  for (size_t a = 0; a < ev.size(); a += w.aedat_packet_events) {
    while (next_frame < frames.size() && frames[next_frame].exposure.t1_us <= ev.t_us()[a]) {
      packet(1, frame_packet(frames[next_frame].image, frames[next_frame].exposure));
      ++next_frame;
    }
    packet(0, event_packet(ev, a, std::min(ev.size(), a + w.aedat_packet_events)));
  }
  for (; next_frame < frames.size(); ++next_frame)
    packet(1, frame_packet(frames[next_frame].image, frames[next_frame].exposure));
}

void check_writable(const EventStream& ev, const WriteOptions& w, const char* who) {
  DIFFEVENT_CHECK(ev.width() <= 32767 && ev.height() <= 32767, ErrorCode::kInvalidArgument,
                  "{}: a {}x{} sensor does not fit int16 coordinates", who, ev.width(),
                  ev.height());
  DIFFEVENT_CHECK(w.aedat_packet_events >= 1 && w.aedat_packet_events <= kMaxPacketEvents,
                  ErrorCode::kInvalidArgument,
                  "{}: aedat_packet_events is {}; it must be 1 to {} (packets of at most {} MiB)",
                  who, w.aedat_packet_events, kMaxPacketEvents, kMaxPacketEvents * 16 >> 20);
}

}  // namespace

void write_aedat4(const std::string& path, const EventStream& ev, const WriteOptions& w) {
  check_writable(ev, w, "write_aedat4");
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  write_packets(f.get(), ev, {}, w, false);
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

void write_aedat4_recording(const std::string& path, const EventStream& ev,
                            const std::vector<FrameRecord>& frames, const WriteOptions& w) {
  check_writable(ev, w, "write_recording");
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  write_packets(f.get(), ev, frames, w, true);
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
