// NumPy .npy (format 1.0-3.0) event files: N x 4 numeric arrays or structured (x, y, t, p).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"
#include "io/numpy_dtype.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

using namespace numpy;

EventFile read_npy(const std::string& path, const ReadOptions& o) {
  FileSource in(path);
  EventBuilder b(path, o.width, o.height, o);
  decode_npy(in, path, o, b);
  EventFile out;
  out.events = b.finish(&out.size_inferred);
  return out;
}

void write_npy(const std::string& path, const EventStream& ev) {
  std::unique_ptr<std::FILE, FileCloser> f(open_for_write(path));
  const std::string h = npy_header("[('t', '<i8'), ('x', '<u2'), ('y', '<u2'), ('p', '|i1')]",
                                   fmt::format("({},)", ev.size()));
  std::fwrite(h.data(), 1, h.size(), f.get());
  std::vector<unsigned char> buf;
  buf.reserve(13 * 65536);
  for (size_t i = 0; i < ev.size(); ++i) {
    unsigned char r[13];
    std::memcpy(r, &ev.t_us()[i], 8);
    std::memcpy(r + 8, &ev.x()[i], 2);
    std::memcpy(r + 10, &ev.y()[i], 2);
    r[12] = static_cast<unsigned char>(ev.p()[i]);
    buf.insert(buf.end(), r, r + 13);
    if (buf.size() >= 13 * 65536) {
      std::fwrite(buf.data(), 1, buf.size(), f.get());
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), f.get());
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
