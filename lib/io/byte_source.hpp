#pragma once
// Private: sequential byte sources over a file or a memory buffer.

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "core/check.hpp"
#include "io/atomic_file.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Reads up to n bytes; returns how many were read (0 at the end).
  virtual size_t read(void* dst, size_t n) = 0;
  /// Bytes left to read when the source knows (a regular file, a zip member), else
  /// UINT64_MAX. Lets a decoder trust a declared count only if the data can hold it.
  virtual uint64_t remaining_bytes() const { return UINT64_MAX; }
  /// Reads exactly n bytes or throws kFormatError naming `what`.
  void read_exact(void* dst, size_t n, const std::string& source, const char* what) {
    const size_t got = read(dst, n);
    DIFFEVENT_CHECK(got == n, ErrorCode::kFormatError,
                    "'{}': file is truncated while reading {} ({} of {} bytes)", source, what, got,
                    n);
  }
};

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : f_(open_for_read(path)) {}
  size_t read(void* dst, size_t n) override { return std::fread(dst, 1, n, f_.get()); }
  uint64_t remaining_bytes() const override {
    struct stat st {};
    const long at = std::ftell(f_.get());
    if (at < 0 || ::fstat(::fileno(f_.get()), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < at)
      return UINT64_MAX;
    return static_cast<uint64_t>(st.st_size - at);
  }
  std::FILE* file() { return f_.get(); }

 private:
  std::unique_ptr<std::FILE, FileCloser> f_;
};

class MemSource : public ByteSource {
 public:
  MemSource(const unsigned char* data, size_t size) : p_(data), n_(size) {}
  size_t read(void* dst, size_t n) override {
    const size_t k = std::min(n, n_ - pos_);
    std::memcpy(dst, p_ + pos_, k);
    pos_ += k;
    return k;
  }
  uint64_t remaining_bytes() const override { return n_ - pos_; }

 private:
  const unsigned char* p_;
  size_t n_, pos_ = 0;
};

/// Little-endian loads from a byte buffer (callers check bounds).
template <typename T>
inline T load_le(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
