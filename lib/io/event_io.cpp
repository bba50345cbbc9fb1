#include "diffevent/events/event_io.hpp"

#include <cstring>
#include <memory>
#include <new>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/event_builder.hpp"
#include "io/formats.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

std::string lower_ext(const std::string& path) {
  const auto slash = path.find_last_of("/\\");
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot);
  for (auto& c : e) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

}  // namespace

namespace detail {

EventFormat format_from_extension(const std::string& path) {
  const std::string e = lower_ext(path);
  if (e == ".txt" || e == ".csv") return EventFormat::kText;
  if (e == ".h5" || e == ".hdf5") return EventFormat::kHdf5;
  if (e == ".raw") return EventFormat::kEvt3;
  if (e == ".dat") return EventFormat::kDat;
  if (e == ".aedat4") return EventFormat::kAedat4;
  if (e == ".mat") return EventFormat::kMat;
  if (e == ".npy") return EventFormat::kNpy;
  if (e == ".npz") return EventFormat::kNpz;
  return EventFormat::kAuto;
}

}  // namespace detail

using detail::format_from_extension;

const char* format_name(EventFormat f) noexcept {
  switch (f) {
    case EventFormat::kAuto:
      return "auto";
    case EventFormat::kText:
      return "text";
    case EventFormat::kHdf5:
      return "hdf5";
    case EventFormat::kEvt2:
      return "evt2";
    case EventFormat::kEvt3:
      return "evt3";
    case EventFormat::kDat:
      return "dat";
    case EventFormat::kAedat4:
      return "aedat4";
    case EventFormat::kMat:
      return "mat";
    case EventFormat::kNpy:
      return "npy";
    case EventFormat::kNpz:
      return "npz";
  }
  return "unknown";
}

EventFormat parse_format(const std::string& name) {
  for (auto f : {EventFormat::kAuto, EventFormat::kText, EventFormat::kHdf5, EventFormat::kEvt2,
                 EventFormat::kEvt3, EventFormat::kDat, EventFormat::kAedat4, EventFormat::kMat,
                 EventFormat::kNpy, EventFormat::kNpz}) {
    if (name == format_name(f)) return f;
  }
  throw Error(ErrorCode::kInvalidArgument,
              fmt::format("unknown event format '{}' (expected auto, text, hdf5, evt2, evt3, dat, "
                          "aedat4, mat, npy or npz)",
                          name));
}

EventFormat detect_format(const std::string& path) {
  std::unique_ptr<std::FILE, detail::FileCloser> f(detail::open_for_read(path));
  std::string head(4096, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), f.get()));
  DIFFEVENT_CHECK(!head.empty(), ErrorCode::kFormatError, "'{}': the file is empty", path);
  auto starts = [&](const char* magic, size_t n) {
    return head.size() >= n && std::memcmp(head.data(), magic, n) == 0;
  };
  if (starts("\x89HDF\r\n\x1a\n", 8)) return EventFormat::kHdf5;
  if (starts("#!AER-DAT4.0", 12)) return EventFormat::kAedat4;
  if (starts("MATLAB 5.0 MAT-file", 19)) return EventFormat::kMat;
  if (starts("\x93NUMPY", 6)) return EventFormat::kNpy;
  if (starts("PK\x03\x04", 4) || starts("PK\x05\x06", 4)) return EventFormat::kNpz;
  if (starts("% ", 2) || starts("%\n", 2)) {
    // Prophesee: RAW headers state the encoding; DAT headers do not and end at binary data.
    if (head.find("EVT3") != std::string::npos || head.find("evt 3.0") != std::string::npos)
      return EventFormat::kEvt3;
    if (head.find("EVT2") != std::string::npos || head.find("evt 2.0") != std::string::npos)
      return EventFormat::kEvt2;
    const EventFormat by_ext = format_from_extension(path);
    if (by_ext == EventFormat::kDat || head.find("% Version") != std::string::npos ||
        head.find("Event2D") != std::string::npos || head.find("Event2d") != std::string::npos)
      return EventFormat::kDat;
    if (by_ext == EventFormat::kEvt3) {
      throw Error(ErrorCode::kFormatError,
                  fmt::format("'{}': Prophesee RAW header does not name its encoding (expected "
                              "'% evt 2.0|3.0' or '% format EVT2|EVT3')",
                              path));
    }
  }
  // Text: the first bytes are digits, signs, dots, spaces and newlines (or '#' comments).
  bool texty = true;
  for (char c : head.substr(0, 256)) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) ||
          std::isspace(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E' || c == ',' || c == '#')) {
      texty = false;
      break;
    }
  }
  const EventFormat by_ext = format_from_extension(path);
  if (texty && (by_ext == EventFormat::kText || by_ext == EventFormat::kAuto))
    return EventFormat::kText;
  if (by_ext == EventFormat::kText) return EventFormat::kText;
  throw Error(ErrorCode::kFormatError,
              fmt::format("'{}': unrecognised event file (no known magic bytes; supported: text, "
                          "HDF5, EVT2/EVT3 RAW, DAT, AEDAT4, MAT v5, NPY, NPZ)",
                          path));
}

EventFile read_events(const std::string& path, const ReadOptions& options) {
  DIFFEVENT_CHECK((options.width == 0) == (options.height == 0) && options.width >= 0 &&
                      options.height >= 0 && options.width <= 65535 && options.height <= 65535,
                  ErrorCode::kInvalidArgument,
                  "read_events: sensor size {}x{} is invalid (give both or neither)", options.width,
                  options.height);
  const EventFormat f = options.format == EventFormat::kAuto ? detect_format(path) : options.format;
  EventFile out;
  try {
    switch (f) {
      case EventFormat::kText:
        out = detail::read_text(path, options);
        break;
      case EventFormat::kHdf5:
        out = detail::read_hdf5(path, options);
        break;
      case EventFormat::kEvt2:
        out = detail::read_evt2(path, options);
        break;
      case EventFormat::kEvt3:
        out = detail::read_evt3(path, options);
        break;
      case EventFormat::kDat:
        out = detail::read_dat(path, options);
        break;
      case EventFormat::kAedat4:
        out = detail::read_aedat4(path, options);
        break;
      case EventFormat::kMat:
        out = detail::read_mat(path, options);
        break;
      case EventFormat::kNpy:
        out = detail::read_npy(path, options);
        break;
      case EventFormat::kNpz:
        out = detail::read_npz(path, options);
        break;
      case EventFormat::kAuto:
        DIFFEVENT_ASSERT(false);
    }
  } catch (const std::bad_alloc&) {
    // Said with the file and what was being held (the events read so far are freed by now).
    throw Error(
        ErrorCode::kOutOfMemory,
        fmt::format(
            "'{}': out of memory while reading its events (at most {} were allowed: "
            "ReadOptions::max_events; lower it to fail early, or read in chunks with on_chunk)",
            path, options.max_events));
  }
  out.format = f;
  return out;
}

void write_events(const std::string& path, const EventStream& events, const WriteOptions& options) {
  EventFormat f = options.format;
  if (f == EventFormat::kAuto) {
    const std::string e = lower_ext(path);
    f = e == ".raw" ? EventFormat::kEvt2 : format_from_extension(path);
  }
  DIFFEVENT_CHECK(f != EventFormat::kAuto, ErrorCode::kInvalidArgument,
                  "write_events: cannot tell the format of '{}' from its extension (use .txt, .h5, "
                  ".npy, .npz, .raw, .dat or .aedat4)",
                  path);
  detail::write_atomically(path, [&](const std::string& tmp) {
    switch (f) {
      case EventFormat::kText:
        detail::write_text(tmp, events);
        break;
      case EventFormat::kHdf5:
        detail::write_hdf5(tmp, events, options);
        break;
      case EventFormat::kNpy:
        detail::write_npy(tmp, events);
        break;
      case EventFormat::kNpz:
        detail::write_npz(tmp, events);
        break;
      case EventFormat::kEvt2:
        detail::write_evt2(tmp, events);
        break;
      case EventFormat::kDat:
        detail::write_dat(tmp, events);
        break;
      case EventFormat::kAedat4:
        detail::write_aedat4(tmp, events, options);
        break;
      default:
        throw Error(ErrorCode::kUnsupported,
                    fmt::format("write_events: writing {} files is not supported", format_name(f)));
    }
  });
}

}  // namespace v1
}  // namespace diffevent
