#pragma once
/// \file event_io.hpp
/// Reading and writing event files: RPG text, EFNet/event_utils HDF5, Prophesee EVT 2.0 /
/// EVT 3.0 RAW and DAT, AEDAT 4.0, MATLAB v5 .mat, NumPy .npy/.npz. See docs/formats.md.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "diffevent/core/export.hpp"
#include "diffevent/events/edi.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// Event file formats.
enum class EventFormat {
  kAuto,    ///< Detect from content (magic bytes, header), then the extension.
  kText,    ///< RPG/E2VID text: optional "width height" line, then "t x y p" (t in seconds).
  kHdf5,    ///< event_utils / EFNet HDF5 (events/xs, ys, ts, ps; images with exposure attrs).
  kEvt2,    ///< Prophesee RAW, EVT 2.0.
  kEvt3,    ///< Prophesee RAW, EVT 3.0.
  kDat,     ///< Prophesee DAT (CD events).
  kAedat4,  ///< iniVation AEDAT 4.0 (uncompressed, LZ4 or ZSTD packets).
  kMat,     ///< MATLAB v5 .mat (ni-joint, eSL-Net and EDI layouts).
  kNpy,     ///< NumPy .npy: an N x 4 array (t, x, y, p) or a structured array.
  kNpz,     ///< NumPy .npz: arrays named x, y, t|ts|timestamp, p|polarity.
};

/// Short lowercase name of a format ("text", "hdf5", "evt2", ...).
DIFFEVENT_API const char* format_name(EventFormat format) noexcept;
/// Parses a name as printed by format_name; throws kInvalidArgument otherwise.
DIFFEVENT_API EventFormat parse_format(const std::string& name);

/// Options for read_events.
struct ReadOptions {
  EventFormat format = EventFormat::kAuto;
  /// Sort events by time instead of rejecting a file whose timestamps decrease.
  bool sort_if_unsorted = false;
  /// Sensor size when the file does not state one (text without a size line, ni-joint .mat,
  /// DAT without Width/Height, .npy). 0 = infer as max coordinate + 1 (reported in the result).
  int width = 0;
  int height = 0;
  /// Prophesee RAW: subtract the first TIME_HIGH time (OpenEB's default). Off: sensor time.
  bool time_shift = false;
  /// NumPy .npz: swap the x and y arrays (HighREV stores them swapped).
  bool swap_xy = false;
  /// Unit of floating-point timestamps in .npy/.npz/.mat files whose layout does not say.
  /// true: seconds (RPG, event_utils); false: microseconds.
  bool float_time_is_seconds = true;
  /// Streaming: when set, events are delivered in validated, time-ordered chunks of up to
  /// 2^20 events and EventFile::events comes back empty (with the sensor size). When the
  /// sensor size is known (from the file or width/height) chunks go out as they are decoded
  /// and memory stays constant; otherwise they are held until the end, where the size is
  /// inferred (size_inferred), and memory is that of a whole read. Return false to stop:
  /// reading then ends with ErrorCode::kCancelled. Cannot be combined with sort_if_unsorted.
  std::function<bool(const EventStream& chunk)> on_chunk;
  /// The most events a read may return (13 bytes each in memory): beyond it the read stops
  /// with kOutOfRange naming the file, before the memory is spent. Lower it for untrusted
  /// files; streamed reads (on_chunk with a known sensor size) count the events they deliver.
  int64_t max_events = int64_t{1} << 30;
};

/// What a file yields besides events.
struct EventFile {
  EventStream events;
  EventFormat format = EventFormat::kAuto;
  /// True when the sensor size was inferred from the coordinates (the file had none).
  bool size_inferred = false;
  /// Exposure windows stated by the file (HDF5 image attributes, eSL-Net/EDI .mat), in order.
  std::vector<Exposure> exposures;
  /// The first frame stored in the file (HDF5 images/), linear [0,1] as stored.
  std::optional<Image> image;
  /// The contrast thresholds the file states (HDF5 root attributes contrast_threshold_pos and
  /// contrast_threshold_neg, as write_events stores WriteOptions::thresholds), if any.
  std::optional<Thresholds> thresholds;
};

/// Reads an event file. Errors name the file and the problem (truncation, bad magic,
/// coordinates outside the sensor, decreasing timestamps, ...). Memory: at most about twice
/// the in-memory size of the result (13 bytes per event), whatever the file size.
DIFFEVENT_API EventFile read_events(const std::string& path, const ReadOptions& options = {});

/// Detects a file's format from its first bytes, then its extension; throws kFormatError.
DIFFEVENT_API EventFormat detect_format(const std::string& path);

/// Extra content for write_events.
struct WriteOptions {
  EventFormat format = EventFormat::kAuto;  ///< kAuto: from the extension.
  /// HDF5: stored as attributes of the image (exposure_start/_end in seconds, and _us).
  std::optional<Exposure> exposure;
  /// HDF5: stored as images/image000000000 (uint8 grey or colour).
  std::optional<Image> image;
  /// HDF5: the sensor's contrast thresholds (c_pos, c_neg; log units), stored as the root
  /// attributes contrast_threshold_pos and contrast_threshold_neg (EventFile::thresholds).
  std::optional<Thresholds> thresholds;
  /// HDF5: gzip level of the event datasets, 0 (default: none; read at memory speed) to 9
  /// (smaller files, read at the speed of zlib).
  int hdf5_deflate_level = 0;
  /// AEDAT4: packet compression.
  enum class Compression { kNone, kLz4, kZstd } aedat_compression = Compression::kLz4;
  /// AEDAT4: events per packet, 1 to 1,048,576 (16 bytes each; readers refuse packets that
  /// expand beyond 32 MiB).
  size_t aedat_packet_events = 8192;
};

/// Writes events as text (.txt), HDF5 (.h5/.hdf5), NumPy (.npy, .npz), Prophesee EVT 2.0
/// (.raw), DAT (.dat) or AEDAT 4.0 (.aedat4). The file appears atomically (temporary file,
/// then rename).
DIFFEVENT_API void write_events(const std::string& path, const EventStream& events,
                                const WriteOptions& options = {});

/// Which optional formats were compiled in.
DIFFEVENT_API bool hdf5_supported() noexcept;
DIFFEVENT_API bool aedat4_compression_supported() noexcept;

}  // namespace v1
}  // namespace diffevent
