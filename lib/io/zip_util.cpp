#include <algorithm>

#include "core/check.hpp"
#include "io/byte_source.hpp"

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

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
