#pragma once
// Private: what each recording layout implements (aedat4_format.cpp and aedat4_writer.cpp,
// hdf5_format.cpp, recording.cpp for folders). Recording serialises calls into one source with
// its mutex.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "diffevent/events/recording.hpp"

namespace diffevent {
inline namespace v1 {

struct Recording::Source {
  virtual ~Source() = default;
  /// Frame i's image (i < frames.size()).
  virtual Image image(size_t i) = 0;
  /// Events with t0 <= t < t1, on the sensor (width x height).
  virtual EventStream events_between(TimestampUs t0, TimestampUs t1) = 0;
  /// Events of frame i's exposure; per-frame layouts read the frame's own file.
  virtual EventStream frame_events(size_t i) {
    return events_between(frames[i].exposure.t0_us, frames[i].exposure.t1_us);
  }

  std::string path;
  const char* layout = "";
  int width = 0, height = 0;
  std::vector<RecordingFrame> frames;
  std::optional<Thresholds> thresholds;  ///< As the file states them, if it does.
  std::mutex mutex;
};

namespace detail {

/// An AEDAT 4.0 file: its frames stream (when any) and an index of its event packets.
std::unique_ptr<Recording::Source> open_aedat4_recording(const std::string& path,
                                                         const RecordingOptions& o);
/// An event_utils / EFNet HDF5 file: images/* and events/ read by range.
std::unique_ptr<Recording::Source> open_hdf5_recording(const std::string& path,
                                                       const RecordingOptions& o);
void write_aedat4_recording(const std::string& path, const EventStream& ev,
                            const std::vector<FrameRecord>& frames, const WriteOptions& w);
void write_hdf5_recording(const std::string& path, const EventStream& ev,
                          const std::vector<FrameRecord>& frames, const WriteOptions& w);

/// Frame names for numbered outputs: "000000", "000001", ...
std::string frame_number_name(size_t i);

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
