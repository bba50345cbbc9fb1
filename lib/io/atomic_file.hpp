#pragma once
// Private helper: write a file through a temporary sibling and rename it into place, so a
// failure never leaves a half-written output behind.

#include <cstdio>
#include <functional>
#include <string>

namespace diffevent {
inline namespace v1 {
namespace detail {

/// Calls `write(tmp_path)` to produce the file at a temporary path next to `path`, then renames
/// it to `path`. If `write` throws, the temporary file is removed and the exception propagates.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write);

/// Opens `path` for binary writing; throws kIoError naming the path on failure.
std::FILE* open_for_write(const std::string& path);
/// Opens `path` for binary reading; throws kIoError naming the path on failure.
std::FILE* open_for_read(const std::string& path);

/// RAII closer for std::FILE*.
struct FileCloser {
  void operator()(std::FILE* f) const noexcept {
    if (f) std::fclose(f);
  }
};

/// Reads a whole file into memory; throws kIoError on failure.
std::string read_file(const std::string& path);

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
