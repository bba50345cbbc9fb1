#pragma once
// Private: what the AEDAT 4.0 reader (aedat4_format.cpp) and writer (aedat4_writer.cpp) share:
// the file's magic, the size limits of a packet and the fields of a Frame table.
#include <cstddef>
#include <cstdint>

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace aedat4 {

// "#!AER-DAT4.0\r\n", without a terminating zero.
inline constexpr size_t kMagicBytes = 14;
inline constexpr char kMagic[kMagicBytes + 1] = "#!AER-DAT4.0\r\n";

// One packet never holds more than this once decompressed (DV writes packets of a few MB: a
// frame of 1280 x 720 BGRA is 3.5 MiB); a larger output is a decompression bomb or a corrupt
// stream. A reader holds a few packets at a time per thread, so this also bounds its memory.
inline constexpr size_t kMaxPacketBytes = size_t{32} << 20;
// The writer's largest packet: half the reader's limit.
inline constexpr size_t kMaxPacketEvents = size_t{1} << 20;

// Frame fields (dv Frame table) and formats.
enum FrameField {
  kTimestamp = 0,
  kStartOfFrame,
  kEndOfFrame,
  kStartOfExposure,
  kEndOfExposure,
  kFormat,
  kSizeX,
  kSizeY,
  kPositionX,
  kPositionY,
  kPixels,
  kExposureDuration,
  kFrameFields
};
enum : int8_t { kGray = 0, kBgr = 16, kBgra = 24 };

}  // namespace aedat4
}  // namespace detail
}  // namespace v1
}  // namespace diffevent
