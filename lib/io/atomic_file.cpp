#include "io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>

#include "core/check.hpp"
#include "diffevent/core/temporary_files.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

// Note [Temporary files and signals]
// A writer produces its output under a temporary name next to the target and renames it into
// place when complete. The name is unpredictable (64 random bits) and the file is created with
// O_CREAT | O_EXCL | O_NOFOLLOW, so a name planted in advance (a symbolic link to another file,
// say) makes the creation fail and a fresh name is drawn; nothing is ever written through a
// link. Replacing an existing file keeps its permission bits. A thrown exception removes the
// temporary file. A signal cannot unwind the stack, so each temporary path also sits in a
// fixed table of slots while its writer runs, which remove_temporary_files() (async-signal-
// safe: atomic loads and unlink) clears for a host's signal handler. The table is the one
// piece of process-wide state in the library: it describes files that belong to the process.
namespace {

constexpr int kSlots = 64;
constexpr size_t kMaxPath = 4096;
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 holds a live temporary path
  char path[kMaxPath];
};
Slot g_slots[kSlots];

int track(const std::string& path) {
  if (path.size() >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_slots[i].state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].state.store(2, std::memory_order_release);
      return i;
    }
  }
  return -1;  // more writers than slots: this one is not cleaned by a signal handler
}

void untrack(int slot) {
  if (slot >= 0) g_slots[slot].state.store(0, std::memory_order_release);
}

// Creates the temporary sibling exclusively; returns its path.
std::string create_temporary(const std::filesystem::path& target) {
  std::random_device rd;
  struct stat st {};
  const bool replacing = ::stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  for (int attempt = 0; attempt < 16; ++attempt) {
    const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    const std::string tmp =
        (target.parent_path() / fmt::format(".{}.tmp{:016x}", target.filename().string(), r))
            .string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      throw Error(ErrorCode::kIoError,
                  fmt::format("cannot create a temporary file next to '{}': {}", target.string(),
                              std::strerror(errno)));
    }
    if (replacing)
      (void)::fchmod(fd, st.st_mode & 07777);  // the output keeps the replaced file's mode
    ::close(fd);
    return tmp;
  }
  throw Error(ErrorCode::kIoError,
              fmt::format("cannot create a temporary file next to '{}': 16 random names were taken",
                          target.string()));
}

}  // namespace

void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code exists_error;
  DIFFEVENT_CHECK(
      target.parent_path().empty() || fs::is_directory(target.parent_path(), exists_error),
      ErrorCode::kIoError, "cannot write '{}': the folder '{}' does not exist", path,
      target.parent_path().string());
  const std::string tmp = create_temporary(target);
  const int slot = track(tmp);
  auto discard = [&] {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    untrack(slot);
  };
  try {
    write(tmp);
  } catch (const Error& e) {
    discard();
    // Errors name the output the caller asked for, not its temporary sibling.
    std::string message = e.what();
    for (size_t at = message.find(tmp); at != std::string::npos;
         at = message.find(tmp, at + path.size()))
      message.replace(at, tmp.size(), path);
    throw Error(e.code(), message);
  } catch (...) {
    discard();
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);  // before the cleanup can change errno
    discard();
    throw Error(ErrorCode::kIoError,
                fmt::format("cannot move the finished file into place at '{}': {}", path, why));
  }
  untrack(slot);
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

void write_file_atomically(const std::string& path, const std::string& bytes) {
  detail::write_atomically(path, [&](const std::string& tmp) {
    std::unique_ptr<std::FILE, detail::FileCloser> f(detail::open_for_write(tmp));
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size() &&
                    std::fflush(f.get()) == 0;
    DIFFEVENT_CHECK(ok, ErrorCode::kIoError, "error while writing '{}': {}", path,
                    std::strerror(errno));
  });
}

void remove_temporary_files() noexcept {
  for (auto& slot : detail::g_slots) {
    if (slot.state.load(std::memory_order_acquire) == 2) ::unlink(slot.path);
  }
}

}  // namespace v1
}  // namespace diffevent
