#include "io/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>

#include "diffevent/error.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code exists_error;
  DIFFEVENT_CHECK(target.parent_path().empty() || fs::is_directory(target.parent_path(), exists_error),
                  ErrorCode::kIoError, "cannot write '{}': the folder '{}' does not exist", path,
                  target.parent_path().string());
  std::random_device rd;
  const std::string tmp =
      (target.parent_path() / fs::path("." + target.filename().string() +
                                       fmt::format(".tmp{:08x}", rd())))
          .string();
  try {
    write(tmp);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error(ErrorCode::kIoError,
                fmt::format("cannot move the finished file into place at '{}': {}", path,
                            ec.message()));
  }
}

std::FILE* open_for_write(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  DIFFEVENT_CHECK(f != nullptr, ErrorCode::kIoError, "cannot open '{}' for writing: {}", path,
                  std::strerror(errno));
  return f;
}

std::FILE* open_for_read(const std::string& path) {
  DIFFEVENT_CHECK(!std::filesystem::is_directory(path), ErrorCode::kIoError,
                  "cannot read '{}': it is a directory", path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  DIFFEVENT_CHECK(f != nullptr, ErrorCode::kIoError, "cannot open '{}': {}", path,
                  std::strerror(errno));
  return f;
}

std::string read_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(open_for_read(path));
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) out.append(buf, n);
  DIFFEVENT_CHECK(!std::ferror(f.get()), ErrorCode::kIoError, "error while reading '{}'", path);
  return out;
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
