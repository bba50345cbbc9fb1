#pragma once
/// \file recording.hpp
/// Recording: the frames of a recording with their exposures, and the events of any time
/// window, read on demand (a recording of 10^9 events is never all in memory).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diffevent/core/export.hpp"
#include "diffevent/events/event_io.hpp"
#include "diffevent/events/exposure.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// One frame of a recording.
struct RecordingFrame {
  Exposure exposure;  ///< When the sensor integrated light for this frame.
  std::string name;   ///< A stable name for outputs: the image's stem, or the frame's index.
};

/// Options for Recording::open.
struct RecordingOptions {
  /// How the event data are read (format of a folder's event file, sort_if_unsorted,
  /// width/height for files without a size, max_events per window, ...). on_chunk is ignored.
  ReadOptions read;
  /// Exposure of frames whose file gives only a timestamp (event_utils images with a
  /// `timestamp` attribute alone): [timestamp - T/2, timestamp + T/2). 0: such a file is an
  /// error that names the frame.
  TimestampUs exposure_us = 0;
};

/// The frames of a recording and the events around them. Opened from:
/// - an AEDAT 4.0 file with a frames stream (FRME: grey, BGR or BGRA; exposure start/end),
/// - an event_utils / EFNet HDF5 file (images/* with exposure_start/_end or timestamp),
/// - a folder of numbered images, one event file and a timestamps file (`timestamps.txt`,
///   `exposures.txt` or `.csv`: one "start end" line per image; integers are microseconds,
///   numbers with a decimal point seconds),
/// - a folder of per-frame event files (.mat of ni-joint, eSL-Net, EDI; .h5, .npz, ...), each
///   beside its image (same stem, or the stem without trailing digits).
/// See docs/recordings.md. All const methods may be called from several threads at once.
///
/// \code
///   Recording rec = Recording::open("run.aedat4");
///   for (size_t i = 0; i < rec.size(); ++i) {
///     Image blurry = rec.image(i);
///     EventStream ev = rec.events(i);
///     Image sharp = Edi().deblur(blurry, ev, rec.frame(i).exposure);
///   }
/// \endcode
class DIFFEVENT_API Recording {
 public:
  /// Opens a recording. Reads the frame index only (headers of an AEDAT4 file's packets, the
  /// image attributes of an HDF5 file, a folder's listing). Errors name the file and problem.
  static Recording open(const std::string& path, const RecordingOptions& options = {});

  Recording(Recording&&) noexcept;
  Recording& operator=(Recording&&) noexcept;
  ~Recording();

  const std::string& path() const noexcept;
  /// "aedat4", "hdf5", "folder" (images + one event file) or "per-frame" (event file per image).
  const char* layout() const noexcept;
  /// The event sensor's size.
  int width() const noexcept;
  int height() const noexcept;
  /// The contrast thresholds the file states (an HDF5 file's root attributes
  /// contrast_threshold_pos and contrast_threshold_neg, as write_recording stores
  /// WriteOptions::thresholds), if any.
  const std::optional<Thresholds>& thresholds() const noexcept;
  /// Number of frames.
  size_t size() const noexcept;
  const RecordingFrame& frame(size_t i) const;
  const std::vector<RecordingFrame>& frames() const noexcept;
  /// Frame i's image, values in [0, 1] as stored (grey or RGB).
  Image image(size_t i) const;
  /// The events of frame i's exposure: [t0, t1).
  EventStream events(size_t i) const;
  /// The events with t0 <= t < t1. Reads only the part of the file that holds them where the
  /// format allows it (AEDAT4 packets, HDF5 ranges); a folder's text, NumPy, Prophesee or .mat
  /// event file is streamed from its start each time. Not available for per-frame layouts.
  EventStream events_between(TimestampUs t0_us, TimestampUs t1_us) const;

  /// Implementation interface (one per layout).
  struct Source;

 private:
  explicit Recording(std::unique_ptr<Source> source);
  std::unique_ptr<Source> source_;
};

/// A frame to store with events (write_recording).
struct FrameRecord {
  Image image;        ///< Grey or RGB, [0, 1]; stored as 8 bits.
  Exposure exposure;  ///< Its exposure window.
};

/// Writes events and frames as one recording: AEDAT 4.0 (.aedat4: an events stream and a
/// frames stream, packets in time order) or HDF5 (.h5/.hdf5: events/ and images/imageNNNNNNNNN
/// with exposure attributes). Atomic like write_events. Frames must have the sensor's size.
DIFFEVENT_API void write_recording(const std::string& path, const EventStream& events,
                                   const std::vector<FrameRecord>& frames,
                                   const WriteOptions& options = {});

}  // namespace v1
}  // namespace diffevent
