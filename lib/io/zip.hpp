#pragma once
// Private: zip archives (NumPy's .npz) and deflate: CRC-32, inflating a known-size buffer (zip
// members, MAT's zlib streams), reading an archive's central directory, streaming one member,
// and writing an archive of stored members.
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/check.hpp"
#include "io/byte_source.hpp"

#ifdef DIFFEVENT_HAVE_ZLIB
#include <zlib.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {

/// CRC-32 (IEEE, as zip uses).
uint32_t crc32_ieee(const unsigned char* data, size_t n, uint32_t crc = 0);
/// Inflates raw deflate (zip) or zlib-wrapped (MAT) data whose inflated size is known.
/// Throws kUnsupported when built without zlib, kFormatError on corrupt data.
std::string inflate_bytes(const unsigned char* data, size_t n, size_t expected, bool zlib_header,
                          const std::string& source);

/// One member of a zip archive, from its central directory.
struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0, offset = 0;
};

/// The members of the zip archive `f` (of `file_size` bytes), by name (Note [NPZ members are
/// streamed]).
std::map<std::string, ZipEntry> zip_directory(std::FILE* f, uint64_t file_size,
                                              const std::string& src);

/// An archive of stored (uncompressed) members, as bytes; at most 4 GiB (no ZIP64).
std::string zip_archive(const std::vector<std::pair<std::string, std::string>>& members);

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

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
