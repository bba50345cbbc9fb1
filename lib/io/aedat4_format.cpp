// iniVation AEDAT 4.0: magic, size-prefixed FlatBuffer IOHeader (compression, data table
// position, XML stream description), then (int32 stream id, int32 size) packets whose bodies
// are (optionally LZ4- or ZSTD-framed) size-prefixed FlatBuffers. EVTS packets hold
// EventPacket { elements: [Event { int64 timestamp; int16 x; int16 y; bool polarity }] }; FRME
// packets hold one Frame { timestamps of frame and exposure, format, size, position, pixels }.
// This is the reader (files and recordings); the writer is aedat4_writer.cpp.
#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/check.hpp"
#include "io/aedat4_layout.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"
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

// A view of bytes owned elsewhere (a packet body or a Decompressor's buffer).
struct ByteView {
  const unsigned char* data = nullptr;
  size_t size = 0;
};

// A byte buffer that grows without zero-filling and keeps its capacity across packets.
class ByteBuffer {
 public:
  unsigned char* data() { return p_.get(); }
  size_t capacity() const { return cap_; }
  // Makes room for n bytes; the first `keep` bytes survive a reallocation.
  void reserve(size_t n, size_t keep = 0) {
    if (n <= cap_) return;
    std::unique_ptr<unsigned char[]> q(new unsigned char[n]);
    if (keep > 0) std::memcpy(q.get(), p_.get(), keep);
    p_ = std::move(q);
    cap_ = n;
  }

 private:
  std::unique_ptr<unsigned char[]> p_;
  size_t cap_ = 0;
};

[[noreturn]] void packet_too_large(const std::string& src) {
  throw Error(
      ErrorCode::kFormatError,
      fmt::format("'{}': a compressed packet expands beyond {} MiB", src, kMaxPacketBytes >> 20));
}

// Decompresses packet bodies. One per thread: its codec contexts and its output buffer are
// reused from packet to packet, so a steady read allocates nothing.
class Decompressor {
 public:
  Decompressor() = default;
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
  ~Decompressor() {
#ifdef DIFFEVENT_HAVE_LZ4
    if (lz4_) LZ4F_freeDecompressionContext(lz4_);
#endif
#ifdef DIFFEVENT_HAVE_ZSTD
    if (zstd_) ZSTD_freeDCtx(zstd_);
#endif
  }

  // The packet's FlatBuffer: `in` itself when the file is uncompressed, else `out`.
  ByteView run(Compression c, ByteView in, ByteBuffer& out, const std::string& src) {
    switch (c) {
      case Compression::kNone:
        return in;
      case Compression::kLz4:
      case Compression::kLz4High:
        return lz4(in, out, src);
      case Compression::kZstd:
      case Compression::kZstdHigh:
        return zstd(in, out, src);
    }
    throw Error(ErrorCode::kFormatError,
                fmt::format("'{}': unknown AEDAT4 compression type {}", src, static_cast<int>(c)));
  }

 private:
  ByteView lz4(ByteView in, ByteBuffer& out, const std::string& src) {
#ifdef DIFFEVENT_HAVE_LZ4
    if (!lz4_) {
      DIFFEVENT_CHECK(!LZ4F_isError(LZ4F_createDecompressionContext(&lz4_, LZ4F_VERSION)),
                      ErrorCode::kInternal, "lz4: cannot create a decompression context");
    } else {
      LZ4F_resetDecompressionContext(lz4_);  // a clean start even after a corrupt packet
    }
    // Straight into the output (sized from the frame's content size when it states one, else
    // grown as needed), so linked blocks need no internal copy.
    LZ4F_frameInfo_t info{};
    size_t pos = in.size;
    size_t rc = LZ4F_getFrameInfo(lz4_, &info, in.data, &pos);
    DIFFEVENT_CHECK(!LZ4F_isError(rc), ErrorCode::kFormatError, "'{}': corrupt LZ4 packet ({})",
                    src, LZ4F_getErrorName(rc));
    if (info.contentSize > kMaxPacketBytes) packet_too_large(src);
    // One byte beyond a stated size, so a complete frame never asks for a larger buffer.
    size_t cap = info.contentSize > 0
                     ? static_cast<size_t>(info.contentSize) + 1
                     : std::min(kMaxPacketBytes, std::max<size_t>(4 * in.size, size_t{1} << 16));
    out.reserve(cap);
    cap = std::max(cap, out.capacity());
    size_t used = 0;
    for (;;) {
      if (used == cap) {
        if (cap >= kMaxPacketBytes) packet_too_large(src);
        cap = std::min(kMaxPacketBytes, 2 * cap);
        out.reserve(cap, used);
      }
      size_t dst = cap - used, srcn = in.size - pos;
      rc = LZ4F_decompress(lz4_, out.data() + used, &dst, in.data + pos, &srcn, nullptr);
      DIFFEVENT_CHECK(!LZ4F_isError(rc), ErrorCode::kFormatError, "'{}': corrupt LZ4 packet ({})",
                      src, LZ4F_getErrorName(rc));
      pos += srcn;
      used += dst;
      if (rc == 0) break;  // frame complete
      DIFFEVENT_CHECK(srcn != 0 || dst != 0 || used == cap, ErrorCode::kFormatError,
                      "'{}': truncated LZ4 packet", src);
    }
    if (used > kMaxPacketBytes) packet_too_large(src);
    return {out.data(), used};
#else
    (void)in;
    (void)out;
    throw Error(
        ErrorCode::kUnsupported,
        fmt::format("'{}': LZ4-compressed AEDAT4 needs liblz4, which was not compiled in", src));
#endif
  }

  ByteView zstd(ByteView in, ByteBuffer& out, const std::string& src) {
#ifdef DIFFEVENT_HAVE_ZSTD
    if (zstd_ && !zstd_clean_) {  // a packet failed mid-frame: a fresh context
      ZSTD_freeDCtx(zstd_);
      zstd_ = nullptr;
    }
    if (!zstd_) {
      zstd_ = ZSTD_createDCtx();
      DIFFEVENT_CHECK(zstd_ != nullptr, ErrorCode::kInternal,
                      "zstd: cannot create a decompression context");
    }
    zstd_clean_ = false;  // until this packet is complete
    // A single frame that states its size (ZSTD_compress writes it) decompresses in one call
    // into a buffer of that size; other packets (and damaged ones, for a precise message)
    // stream.
    const unsigned long long stated = ZSTD_getFrameContentSize(in.data, in.size);
    if (stated != ZSTD_CONTENTSIZE_UNKNOWN && stated != ZSTD_CONTENTSIZE_ERROR &&
        ZSTD_findFrameCompressedSize(in.data, in.size) == in.size) {
      if (stated > kMaxPacketBytes) packet_too_large(src);
      const auto n = static_cast<size_t>(stated);
      out.reserve(std::max<size_t>(n, 1));
      const size_t rc = ZSTD_decompressDCtx(zstd_, out.data(), n, in.data, in.size);
      DIFFEVENT_CHECK(!ZSTD_isError(rc), ErrorCode::kFormatError, "'{}': corrupt ZSTD packet ({})",
                      src, ZSTD_getErrorName(rc));
      DIFFEVENT_CHECK(rc == n, ErrorCode::kFormatError,
                      "'{}': corrupt ZSTD packet ({} bytes where its header states {})", src, rc,
                      n);
      zstd_clean_ = true;
      return {out.data(), n};
    }
    size_t cap = std::min(kMaxPacketBytes, std::max<size_t>(4 * in.size, size_t{1} << 16));
    out.reserve(cap);
    cap = std::max(cap, out.capacity());
    ZSTD_inBuffer ib{in.data, in.size, 0};
    size_t used = 0, rc = 1;
    while (ib.pos < ib.size || rc != 0) {
      if (used == cap) {
        if (cap >= kMaxPacketBytes) packet_too_large(src);
        cap = std::min(kMaxPacketBytes, 2 * cap);
        out.reserve(cap, used);
      }
      ZSTD_outBuffer ob{out.data() + used, cap - used, 0};
      rc = ZSTD_decompressStream(zstd_, &ob, &ib);
      DIFFEVENT_CHECK(!ZSTD_isError(rc), ErrorCode::kFormatError, "'{}': corrupt ZSTD packet ({})",
                      src, ZSTD_getErrorName(rc));
      used += ob.pos;
      if (ob.pos == 0 && ib.pos == ib.size) {
        DIFFEVENT_CHECK(rc == 0, ErrorCode::kFormatError, "'{}': truncated ZSTD packet", src);
        break;
      }
    }
    zstd_clean_ = true;
    return {out.data(), used};
#else
    (void)in;
    (void)out;
    throw Error(
        ErrorCode::kUnsupported,
        fmt::format("'{}': ZSTD-compressed AEDAT4 needs libzstd, which was not compiled in", src));
#endif
  }

#ifdef DIFFEVENT_HAVE_LZ4
  LZ4F_dctx* lz4_ = nullptr;
#endif
#ifdef DIFFEVENT_HAVE_ZSTD
  ZSTD_DCtx* zstd_ = nullptr;
  bool zstd_clean_ = true;  // the last packet ended its frame
#endif
};

// The streams an AEDAT4 file declares in its XML description: the first events (EVTS) and
// frames (FRME) stream, with the sizes their info nodes state.
struct StreamIds {
  int evts = -1, frme = -1;
  int evts_w = 0, evts_h = 0, frme_w = 0, frme_h = 0;
};

StreamIds parse_streams(const std::string& xml) {
  // Stream nodes are <node name="N" ...> with a numeric N; each block runs to the next one.
  std::vector<std::pair<size_t, int>> streams;  // (position, id)
  for (size_t pos = xml.find("<node name=\""); pos != std::string::npos;
       pos = xml.find("<node name=\"", pos + 1)) {
    const size_t a = pos + 12, q = xml.find('"', a);
    if (q == std::string::npos) break;
    const std::string name = xml.substr(a, q - a);
    if (!name.empty() && name.size() < 9 &&
        name.find_first_not_of("0123456789") == std::string::npos)
      streams.push_back({pos, std::atoi(name.c_str())});
  }
  StreamIds ids;
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
    auto attr_int = [&](const char* key) { return std::atoi(value_of(key).c_str()); };
    const std::string type = value_of("typeIdentifier").substr(0, 4);
    if (type == "EVTS" && ids.evts < 0) {
      ids.evts = streams[i].second;
      ids.evts_w = attr_int("\"sizeX\"");
      ids.evts_h = attr_int("\"sizeY\"");
    } else if (type == "FRME" && ids.frme < 0) {
      ids.frme = streams[i].second;
      ids.frme_w = attr_int("\"sizeX\"");
      ids.frme_h = attr_int("\"sizeY\"");
    }
  }
  return ids;
}

// The IOHeader and stream ids of a file, read and checked against its length.
struct Header {
  Compression comp = Compression::kNone;
  int64_t table_pos = -1;  // the data table, where packets end (-1: none)
  int64_t data_start = 0;  // first packet
  int64_t file_bytes = 0;
  StreamIds ids;
};

Header read_header(FileSource& in, const std::string& path) {
  Header h;
  std::error_code size_error;
  // Sizes read from the file are checked against its length before anything is allocated.
  h.file_bytes = static_cast<int64_t>(std::filesystem::file_size(path, size_error));
  DIFFEVENT_CHECK(!size_error, ErrorCode::kIoError, "'{}': cannot get the file size ({})", path,
                  size_error.message());
  char magic[kMagicBytes];
  in.read_exact(magic, kMagicBytes, path, "the AEDAT4 magic");
  DIFFEVENT_CHECK(std::memcmp(magic, kMagic, sizeof magic) == 0, ErrorCode::kFormatError,
                  "'{}': not an AEDAT 4.0 file (bad magic)", path);
  unsigned char lenb[4];
  in.read_exact(lenb, 4, path, "the AEDAT4 header size");
  const uint32_t hlen = load_le<uint32_t>(lenb);
  DIFFEVENT_CHECK(hlen >= 8 && hlen < (64u << 20), ErrorCode::kFormatError,
                  "'{}': AEDAT4 header size {} is implausible", path, hlen);
  DIFFEVENT_CHECK(hlen <= h.file_bytes - 18, ErrorCode::kFormatError,
                  "'{}': file is truncated: the AEDAT4 header claims {} bytes, {} are left", path,
                  hlen, h.file_bytes - 18);
  std::string hdr(hlen, '\0');
  in.read_exact(hdr.data(), hlen, path, "the AEDAT4 header");
  const auto* hb = reinterpret_cast<const unsigned char*>(hdr.data());
  FlatTable probe(hb, hlen, load_le<uint32_t>(hb), path);
  std::string xml;
  if (size_t f = probe.field(0)) {
    probe.need(f, 4);
    h.comp = static_cast<Compression>(load_le<int32_t>(hb + f));
  }
  if (size_t f = probe.field(1)) {
    probe.need(f, 8);
    h.table_pos = load_le<int64_t>(hb + f);
  }
  if (size_t f = probe.field(2)) {
    const size_t s = probe.deref(f);
    const uint32_t n = load_le<uint32_t>(hb + s);
    probe.need(s + 4, n);
    xml.assign(hdr.data() + s + 4, n);
  }
  h.ids = parse_streams(xml);
  h.data_start = 14 + 4 + static_cast<int64_t>(hlen);
  return h;
}

void seek(FileSource& in, int64_t offset, const std::string& path) {
  DIFFEVENT_CHECK(fseeko(in.file(), static_cast<off_t>(offset), SEEK_SET) == 0, ErrorCode::kIoError,
                  "'{}': cannot seek to byte {}", path, offset);
}

// Reads the packet header at `offset` (already the file position); false at the end.
bool next_packet(FileSource& in, const Header& h, const std::string& path, int64_t offset,
                 int32_t& stream, int32_t& size) {
  if (h.table_pos >= 0 && offset >= h.table_pos) return false;
  unsigned char ph[8];
  const size_t got = in.read(ph, 8);
  if (got == 0) return false;
  DIFFEVENT_CHECK(got == 8, ErrorCode::kFormatError,
                  "'{}': file is truncated inside a packet header at byte {}", path, offset);
  stream = load_le<int32_t>(ph);
  size = load_le<int32_t>(ph + 4);
  DIFFEVENT_CHECK(size >= 0 && size < (1 << 30), ErrorCode::kFormatError,
                  "'{}': packet at byte {} has invalid size {}", path, offset, size);
  DIFFEVENT_CHECK(size <= h.file_bytes - offset - 8, ErrorCode::kFormatError,
                  "'{}': file is truncated: the packet at byte {} claims {} bytes, {} are left",
                  path, offset, size, h.file_bytes - offset - 8);
  return true;
}

// The elements of a decompressed EVTS packet: `count` records of 16 bytes at `data`.
struct EventRecords {
  const unsigned char* data = nullptr;
  uint32_t count = 0;
};

EventRecords event_records(ByteView fb, const std::string& path) {
  // Size-prefixed FlatBuffer: uint32 size, uint32 root offset, "EVTS" identifier.
  DIFFEVENT_CHECK(fb.size >= 12, ErrorCode::kFormatError, "'{}': event packet too small", path);
  const unsigned char* u = fb.data + 4;
  const size_t n = fb.size - 4;
  DIFFEVENT_CHECK(std::memcmp(u + 4, "EVTS", 4) == 0, ErrorCode::kFormatError,
                  "'{}': event packet lacks the EVTS identifier", path);
  FlatTable t(u, n, load_le<uint32_t>(u), path);
  const size_t vf = t.field(0);
  if (!vf) return {};
  const size_t vec = t.deref(vf);
  const uint32_t count = load_le<uint32_t>(u + vec);
  t.need(vec + 4, static_cast<size_t>(count) * 16);
  return {u + vec + 4, count};
}

// Decodes records [a, b) into the builder in blocks (the batch path checks them all at once).
void add_records(const EventRecords& r, size_t a, size_t b, EventBuilder& out) {
  constexpr size_t kBlock = 4096;
  TimestampUs t[kBlock];
  int64_t x[kBlock], y[kBlock];
  int8_t p[kBlock];
  for (size_t s = a; s < b; s += kBlock) {
    const size_t m = std::min(kBlock, b - s);
    for (size_t i = 0; i < m; ++i) {
      const unsigned char* e = r.data + 16 * (s + i);
      t[i] = load_le<int64_t>(e);
      x[i] = load_le<int16_t>(e + 8);
      y[i] = load_le<int16_t>(e + 10);
      p[i] = e[12] ? int8_t{1} : int8_t{-1};
    }
    out.add_batch(t, x, y, p, m);
  }
}

// One packet on its way through a reader: its body, its FlatBuffer and, for an event packet,
// its events decoded into the builder's layout with what the builder checks summarised.
// Buffers keep their capacity, so a slot reused packet after packet allocates nothing.
struct PacketSlot {
  int64_t at = 0;  // file offset of the packet header
  int32_t stream = 0;
  ByteBuffer body, unpacked;
  size_t body_size = 0;
  ByteView fb;  // the FlatBuffer: the body itself, or `unpacked`
  std::vector<TimestampUs> t;
  std::vector<uint16_t> x, y;
  std::vector<int8_t> p;
  size_t count = 0;
  TimestampUs t_first = 0, t_last = 0;  // an event packet's first and last timestamps
  uint16_t max_x = 0, max_y = 0;
  bool bad = false;         // a coordinate outside [0, limit)
  bool decreasing = false;  // a timestamp earlier than the one before it, inside the packet

  void decode(const EventRecords& r, uint32_t x_limit, uint32_t y_limit) {
    count = r.count;
    if (t.size() < count) {
      t.resize(count);
      x.resize(count);
      y.resize(count);
      p.resize(count);
    }
    bool out_of_range = false, dec = false;
    uint16_t mx = 0, my = 0;
    TimestampUs prev = count > 0 ? load_le<int64_t>(r.data) : 0;
    for (size_t k = 0; k < count; ++k) {
      const unsigned char* e = r.data + 16 * k;
      const TimestampUs ts = load_le<int64_t>(e);
      // Signed 16-bit on disk: a negative coordinate wraps above any limit.
      const auto xi = static_cast<uint32_t>(static_cast<int32_t>(load_le<int16_t>(e + 8)));
      const auto yi = static_cast<uint32_t>(static_cast<int32_t>(load_le<int16_t>(e + 10)));
      out_of_range |= (xi >= x_limit) | (yi >= y_limit);
      dec |= ts < prev;
      prev = ts;
      t[k] = ts;
      x[k] = static_cast<uint16_t>(xi);
      y[k] = static_cast<uint16_t>(yi);
      p[k] = e[12] ? int8_t{1} : int8_t{-1};
      mx = std::max(mx, x[k]);
      my = std::max(my, y[k]);
    }
    bad = out_of_range;
    decreasing = dec;
    max_x = mx;
    max_y = my;
  }
};

// Note [AEDAT4 packet pipeline]
// Compressed packets are independent, so a read is a pipeline over a ring of a few packet
// slots. Whoever is free (worker threads, and the calling thread when its next packet is not
// ready) takes the next packet from the file (one reader at a time, so slots follow file
// order), then decompresses, decodes and checks it in parallel with the others. The calling
// thread takes packets in file order and appends their already-checked arrays to the builder
// (a copy, plus the time order at the packet's start). Threads sleep only when there is
// nothing to do, and are woken only when someone sleeps. The ring bounds memory whatever the
// file's length; the first error in file order is rethrown on the calling thread, and the
// destructor stops and joins the workers on every path out.
class PacketPipeline {
 public:
  using ReadFn = std::function<bool(PacketSlot&)>;
  using ProcessFn = std::function<void(PacketSlot&, Decompressor&)>;

  // `workers` threads besides the calling one.
  PacketPipeline(unsigned workers, ReadFn read, ProcessFn process)
      : read_(std::move(read)), process_(std::move(process)), ring_(workers + 3) {
    for (unsigned k = 0; k < workers; ++k) pool_.emplace_back([this] { work(); });
  }
  PacketPipeline(const PacketPipeline&) = delete;
  PacketPipeline& operator=(const PacketPipeline&) = delete;
  ~PacketPipeline() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    free_.notify_all();
    for (auto& t : pool_) t.join();
  }

  // Hands every packet to `consume` in file order on this thread.
  void run(const std::function<void(PacketSlot&)>& consume) {
    Decompressor d;
    for (size_t i = 0;;) {
      Entry& e = ring_[i % ring_.size()];
      std::unique_lock<std::mutex> lk(m_);
      if (e.state != State::kReady) {
        if (step(lk, d)) continue;  // helped with a later packet meanwhile
        ++sleepers_;
        ready_.wait(lk, [&] { return e.state == State::kReady; });
        --sleepers_;
        continue;
      }
      lk.unlock();
      if (e.error) std::rethrow_exception(e.error);
      if (e.end) return;
      consume(e.slot);
      lk.lock();
      e.state = State::kFree;
      ++i;
      if (sleepers_ > 0) {
        lk.unlock();
        free_.notify_all();
      }
    }
  }

 private:
  enum class State { kFree, kBusy, kReady };
  struct Entry {
    PacketSlot slot;
    State state = State::kFree;
    bool end = false;  // no packet: the file's packets have ended
    std::exception_ptr error;
  };

  // Whether the next packet can be taken now.
  bool can_take() const {
    return !done_ && !reading_ && ring_[next_ % ring_.size()].state == State::kFree;
  }

  // Takes the next packet, reads it, then processes it with the lock released; false (and
  // nothing done) when it cannot be taken now. Called with the lock held; returns with it held.
  bool step(std::unique_lock<std::mutex>& lk, Decompressor& d) {
    if (stop_ || !can_take()) return false;
    Entry& e = ring_[next_ % ring_.size()];
    reading_ = true;
    lk.unlock();
    bool got = false;
    try {
      got = read_(e.slot);
    } catch (...) {
      e.error = std::current_exception();
    }
    lk.lock();
    reading_ = false;
    if (!got) {
      e.end = !e.error;
      e.state = State::kReady;
      done_ = true;
      wake(lk);
      return true;
    }
    ++next_;
    e.state = State::kBusy;
    if (sleepers_ > 0) free_.notify_all();  // the next packet may be taken
    lk.unlock();
    try {
      process_(e.slot, d);
    } catch (...) {
      e.error = std::current_exception();
    }
    lk.lock();
    e.state = State::kReady;
    wake(lk);
    return true;
  }

  void wake(std::unique_lock<std::mutex>& lk) {
    if (sleepers_ == 0) return;
    lk.unlock();
    ready_.notify_all();
    free_.notify_all();
    lk.lock();
  }

  void work() {
    Decompressor d;
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      if (stop_ || done_) return;
      if (step(lk, d)) continue;
      ++sleepers_;
      free_.wait(lk, [&] { return stop_ || done_ || can_take(); });
      --sleepers_;
    }
  }

  ReadFn read_;
  ProcessFn process_;
  std::vector<Entry> ring_;
  std::mutex m_;
  std::condition_variable ready_, free_;
  size_t next_ = 0;       // index of the next packet to take
  bool reading_ = false;  // a thread is reading the file
  int sleepers_ = 0;      // threads waiting on ready_ or free_
  bool done_ = false, stop_ = false;
  std::vector<std::thread> pool_;
};

// Reads the next event or frame packet's body into s (false at the end of the packets); s.at is
// the packet header's offset.
bool read_packet(FileSource& in, const Header& h, const std::string& path, int64_t& offset,
                 PacketSlot& s) {
  int32_t stream = 0, size = 0;
  while (next_packet(in, h, path, offset, stream, size)) {
    s.at = offset;
    offset += 8 + size;
    if (stream != h.ids.evts && stream != h.ids.frme) {
      seek(in, offset, path);
      continue;
    }
    s.stream = stream;
    s.body.reserve(static_cast<size_t>(size));
    s.body_size = static_cast<size_t>(size);
    in.read_exact(s.body.data(), s.body_size, path, "a packet body");
    return true;
  }
  return false;
}

// Every packet through process (decompression, decoding: any thread) and then consume (in
// file order, on this thread): a pipeline on every core for compressed files (Note [AEDAT4
// packet pipeline]), one loop otherwise.
void run_packets(Compression c, const PacketPipeline::ReadFn& read,
                 const PacketPipeline::ProcessFn& process,
                 const std::function<void(PacketSlot&)>& consume) {
  const unsigned threads = c == Compression::kNone
                               ? 1u
                               : std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  if (threads == 1) {
    PacketSlot s;
    Decompressor d;
    while (read(s)) {
      process(s, d);
      consume(s);
    }
    return;
  }
  PacketPipeline pipe(threads - 1, read, process);
  pipe.run(consume);
}

// One frame's metadata, decoded from a FRME packet.
struct FrameInfo {
  Exposure exposure;
  int width = 0, height = 0, channels = 0, stored_channels = 0;
  size_t pixels = 0;  // offset of the pixel bytes in the decompressed packet
};

FrameInfo frame_info(ByteView fb, const std::string& path, size_t index) {
  DIFFEVENT_CHECK(fb.size >= 12, ErrorCode::kFormatError, "'{}': frame packet too small", path);
  const unsigned char* u = fb.data + 4;
  const size_t n = fb.size - 4;
  FlatTable t(u, n, load_le<uint32_t>(u), path);
  auto i64 = [&](int f) -> int64_t {
    const size_t at = t.field(f);
    if (!at) return 0;
    t.need(at, 8);
    return load_le<int64_t>(u + at);
  };
  auto i16 = [&](int f) -> int {
    const size_t at = t.field(f);
    if (!at) return 0;
    t.need(at, 2);
    return load_le<int16_t>(u + at);
  };
  FrameInfo fi;
  fi.exposure = {i64(kStartOfExposure), i64(kEndOfExposure)};
  DIFFEVENT_CHECK(fi.exposure.valid(), ErrorCode::kFormatError,
                  "'{}': frame {} has no valid exposure (start {} us, end {} us)", path, index,
                  fi.exposure.t0_us, fi.exposure.t1_us);
  int8_t format = kGray;
  if (const size_t at = t.field(kFormat)) {
    t.need(at, 1);
    format = static_cast<int8_t>(u[at]);
  }
  DIFFEVENT_CHECK(format == kGray || format == kBgr || format == kBgra, ErrorCode::kFormatError,
                  "'{}': frame {} has pixel format {} (grey 0, BGR 16 or BGRA 24 are read)", path,
                  index, static_cast<int>(format));
  fi.stored_channels = format == kGray ? 1 : format == kBgr ? 3 : 4;
  fi.channels = format == kGray ? 1 : 3;
  fi.width = i16(kSizeX);
  fi.height = i16(kSizeY);
  DIFFEVENT_CHECK(fi.width >= 1 && fi.height >= 1, ErrorCode::kFormatError,
                  "'{}': frame {} is {}x{}", path, index, fi.width, fi.height);
  DIFFEVENT_CHECK(i16(kPositionX) == 0 && i16(kPositionY) == 0, ErrorCode::kUnsupported,
                  "'{}': frame {} is a region of interest at ({}, {}); only whole frames are read",
                  path, index, i16(kPositionX), i16(kPositionY));
  const size_t pf = t.field(kPixels);
  DIFFEVENT_CHECK(pf != 0, ErrorCode::kFormatError, "'{}': frame {} has no pixels", path, index);
  const size_t vec = t.deref(pf);
  const uint32_t count = load_le<uint32_t>(u + vec);
  const size_t want = static_cast<size_t>(fi.width) * static_cast<size_t>(fi.height) *
                      static_cast<size_t>(fi.stored_channels);
  DIFFEVENT_CHECK(count == want, ErrorCode::kFormatError,
                  "'{}': frame {} holds {} pixel bytes, a {}x{} frame of {} channels needs {}",
                  path, index, count, fi.width, fi.height, fi.stored_channels, want);
  t.need(vec + 4, want);
  fi.pixels = 4 + vec + 4;
  return fi;
}

Image frame_image(ByteView fb, const FrameInfo& fi) {
  const unsigned char* px = fb.data + fi.pixels;
  Image im(fi.channels, fi.height, fi.width);
  const int S = fi.stored_channels;
  for (int y = 0; y < fi.height; ++y)
    for (int x = 0; x < fi.width; ++x) {
      const unsigned char* p =
          px + (static_cast<size_t>(y) * static_cast<size_t>(fi.width) + static_cast<size_t>(x)) *
                   static_cast<size_t>(S);
      if (S == 1) {
        im.at(0, y, x) = p[0] / 255.0f;
      } else {
        for (int c = 0; c < 3; ++c) im.at(c, y, x) = p[2 - c] / 255.0f;  // BGR(A) -> RGB
      }
    }
  return im;
}

// An AEDAT4 file opened as a recording: the frames stream's metadata and, per event packet,
// its place in the file and its time span, so a window reads only the packets it overlaps.
class Aedat4Recording final : public Recording::Source {
 public:
  Aedat4Recording(const std::string& file, const RecordingOptions& o) : in_(file), read_(o.read) {
    path = file;
    layout = "aedat4";
    h_ = read_header(in_, path);
    DIFFEVENT_CHECK(h_.ids.evts >= 0, ErrorCode::kFormatError,
                    "'{}': AEDAT4 file has no event (EVTS) stream", path);
    width = read_.width ? read_.width : h_.ids.evts_w;
    height = read_.width ? read_.height : h_.ids.evts_h;
    DIFFEVENT_CHECK(width >= 1 && height >= 1 && width <= 65535 && height <= 65535,
                    ErrorCode::kFormatError,
                    "'{}': the events stream states no sensor size ({}x{}); give width and height",
                    path, width, height);
    // Every packet is read once to index it: event packets by their time span, frames by
    // their exposure; decompressed on every core.
    int64_t offset = h_.data_start;
    TimestampUs last_t = INT64_MIN;
    auto read = [&](PacketSlot& s) { return read_packet(in_, h_, path, offset, s); };
    auto process = [&](PacketSlot& s, Decompressor& d) {
      s.fb = d.run(h_.comp, {s.body.data(), s.body_size}, s.unpacked, path);
      if (s.stream != h_.ids.evts) return;
      const EventRecords r = event_records(s.fb, path);
      s.count = r.count;
      if (r.count == 0) return;
      s.t_first = load_le<int64_t>(r.data);
      s.t_last = load_le<int64_t>(r.data + 16 * (size_t{r.count} - 1));
    };
    auto consume = [&](PacketSlot& s) {
      const int64_t at = s.at + 8;
      const auto size = static_cast<int32_t>(s.body_size);
      if (s.stream == h_.ids.evts) {
        if (s.count == 0) return;
        DIFFEVENT_CHECK(s.t_first >= last_t && s.t_last >= s.t_first, ErrorCode::kFormatError,
                        "'{}': events are not in time order (packet at byte {}); sort the file "
                        "first (diffevent convert --sort)",
                        path, s.at);
        last_t = s.t_last;
        packets_.push_back({at, size, s.t_first, s.t_last});
      } else {
        const FrameInfo fi = frame_info(s.fb, path, frames_at_.size());
        frames_at_.push_back({at, size});
        frames.push_back({fi.exposure, frame_number_name(frames.size())});
      }
    };
    run_packets(h_.comp, read, process, consume);
    // Frames in exposure order (a file may interleave them with the events out of order).
    std::vector<size_t> order(frames.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return frames[a].exposure.t0_us < frames[b].exposure.t0_us;
    });
    std::vector<RecordingFrame> sorted;
    std::vector<Packet> at;
    for (size_t i : order) {
      sorted.push_back({frames[i].exposure, frame_number_name(sorted.size())});
      at.push_back(frames_at_[i]);
    }
    frames = std::move(sorted);
    frames_at_ = std::move(at);
  }

  Image image(size_t i) override {
    const ByteView fb = packet_bytes(frames_at_[i]);
    return frame_image(fb, frame_info(fb, path, i));
  }

  EventStream events_between(TimestampUs t0, TimestampUs t1) override {
    ReadOptions ro = read_;
    ro.on_chunk = nullptr;
    EventBuilder b(path, width, height, ro);
    // First packet whose last event is at or after t0.
    auto it = std::lower_bound(packets_.begin(), packets_.end(), t0,
                               [](const Packet& p, TimestampUs t) { return p.t_last < t; });
    for (; it != packets_.end() && it->t_first < t1; ++it) {
      const ByteView fb = packet_bytes({it->at, it->size});
      const EventRecords r = event_records(fb, path);
      size_t a = 0, e = r.count;
      while (a < e && load_le<int64_t>(r.data + 16 * a) < t0) ++a;
      while (e > a && load_le<int64_t>(r.data + 16 * (e - 1)) >= t1) --e;
      add_records(r, a, e, b);
    }
    return b.finish();
  }

 private:
  struct Packet {
    int64_t at = 0;
    int32_t size = 0;
    TimestampUs t_first = 0, t_last = 0;
  };
  // The FlatBuffer of the packet whose body is at p.at (valid until the next call).
  ByteView packet_bytes(const Packet& p) {
    seek(in_, p.at, path);
    body_.reserve(static_cast<size_t>(p.size));
    in_.read_exact(body_.data(), static_cast<size_t>(p.size), path, "a packet body");
    return decompress_.run(h_.comp, {body_.data(), static_cast<size_t>(p.size)}, unpacked_, path);
  }

  FileSource in_;
  ReadOptions read_;
  Header h_;
  Decompressor decompress_;
  ByteBuffer body_, unpacked_;
  std::vector<Packet> packets_;    // event packets in file (= time) order
  std::vector<Packet> frames_at_;  // frame packets, in frames' order
};

}  // namespace

std::unique_ptr<Recording::Source> open_aedat4_recording(const std::string& path,
                                                         const RecordingOptions& o) {
  return std::make_unique<Aedat4Recording>(path, o);
}

EventFile read_aedat4(const std::string& path, const ReadOptions& o) {
  FileSource in(path);
  const Header h = read_header(in, path);
  DIFFEVENT_CHECK(h.ids.evts >= 0, ErrorCode::kFormatError,
                  "'{}': AEDAT4 file has no event (EVTS) stream", path);
  EventBuilder b(path, o.width ? o.width : h.ids.evts_w, o.width ? o.height : h.ids.evts_h, o);
  // Uncompressed: 16 bytes per event bound the count, so the arrays are reserved once.
  if (h.comp == Compression::kNone) b.expect(static_cast<size_t>(h.file_bytes / 16));
  const uint32_t x_limit = b.width() > 0 ? static_cast<uint32_t>(b.width()) : 65536;
  const uint32_t y_limit = b.height() > 0 ? static_cast<uint32_t>(b.height()) : 65536;
  EventFile out;
  int64_t offset = h.data_start;
  auto read_next = [&](PacketSlot& s) { return read_packet(in, h, path, offset, s); };
  // Decompresses and decodes s (any thread).
  auto process = [&](PacketSlot& s, Decompressor& d) {
    s.fb = d.run(h.comp, {s.body.data(), s.body_size}, s.unpacked, path);
    if (s.stream == h.ids.evts) s.decode(event_records(s.fb, path), x_limit, y_limit);
  };
  // Compressed: the count is known only roughly, from the file's size and the first event
  // packet's ratio, with a margin (EventBuilder::expect_about).
  bool estimated = h.comp == Compression::kNone;
  // Hands s to the builder or the frame list, in file order (the calling thread).
  auto consume = [&](PacketSlot& s) {
    if (s.stream == h.ids.evts) {
      if (s.count == 0) return;
      if (!estimated && s.body_size > 0) {
        const double events_per_byte =
            static_cast<double>(s.count) / static_cast<double>(s.body_size);
        b.expect_about(
            static_cast<size_t>(events_per_byte * static_cast<double>(h.file_bytes) * 1.25) +
            s.count);
      }
      estimated = true;
      if (s.bad || (s.decreasing && !o.sort_if_unsorted)) {
        // Replayed event by event: the builder names the first bad one.
        const EventRecords r = event_records(s.fb, path);
        add_records(r, 0, r.count, b);
        return;
      }
      b.add_checked(s.t.data(), s.x.data(), s.y.data(), s.p.data(), s.count, s.max_x, s.max_y,
                    s.decreasing);
    } else {
      // Frames: their exposures, and the first frame's image (as HDF5 images/ gives it).
      const FrameInfo fi = frame_info(s.fb, path, out.exposures.size());
      out.exposures.push_back(fi.exposure);
      if (!out.image) out.image = frame_image(s.fb, fi);
    }
  };
  run_packets(h.comp, read_next, process, consume);
  out.events = b.finish(&out.size_inferred);
  return out;
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
