// Zip archives and deflate (zip.hpp).
#include "io/zip.hpp"

#include <algorithm>

#include "core/check.hpp"

#ifdef DIFFEVENT_HAVE_ZLIB
#include <zlib.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {

uint32_t crc32_ieee(const unsigned char* data, size_t n, uint32_t crc) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string inflate_bytes(const unsigned char* data, size_t n, size_t expected, bool zlib_header,
                          const std::string& source) {
#ifdef DIFFEVENT_HAVE_ZLIB
  // expected == 0: size unknown (MAT miCOMPRESSED); grow the output as needed.
  // Deflate expands at most 1032:1 (zlib's documented limit), so a larger stated size is a
  // corrupt or hostile header: refuse it before allocating.
  DIFFEVENT_CHECK(expected <= n * 1032 + 1024, ErrorCode::kFormatError,
                  "'{}': compressed data claims {} bytes from {} compressed bytes, more than "
                  "deflate can produce",
                  source, expected, n);
  std::string out;
  out.resize(expected ? expected : std::max<size_t>(n * 4, 4096));
  z_stream zs{};
  DIFFEVENT_CHECK(inflateInit2(&zs, zlib_header ? 15 : -15) == Z_OK, ErrorCode::kInternal,
                  "zlib: inflateInit2 failed");
  zs.next_in = const_cast<Bytef*>(data);
  zs.avail_in = static_cast<uInt>(n);
  int rc = Z_OK;
  size_t produced = 0;
  for (;;) {
    zs.next_out = reinterpret_cast<Bytef*>(out.data()) + produced;
    zs.avail_out = static_cast<uInt>(out.size() - produced);
    rc = inflate(&zs, Z_NO_FLUSH);
    produced = out.size() - zs.avail_out;
    if (rc == Z_STREAM_END || rc != Z_OK) break;
    if (zs.avail_out == 0) {
      if (expected) break;
      out.resize(out.size() * 2);
    } else if (zs.avail_in == 0) {
      break;
    }
  }
  inflateEnd(&zs);
  DIFFEVENT_CHECK(rc == Z_STREAM_END || (expected && produced == expected && rc == Z_OK),
                  ErrorCode::kFormatError,
                  "'{}': compressed data is corrupt or truncated (zlib code {}, {} bytes out)",
                  source, rc, produced);
  out.resize(produced);
  return out;
#else
  (void)data;
  (void)n;
  (void)expected;
  (void)zlib_header;
  throw Error(
      ErrorCode::kUnsupported,
      fmt::format("'{}': compressed content needs zlib, which was not compiled in", source));
#endif
}

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

std::string zip_archive(const std::vector<std::pair<std::string, std::string>>& members) {
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
  return out;
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
