// Recording: opens a recording file or folder and serves its frames and event windows. Files
// (AEDAT4, HDF5) are indexed by their readers; folders are handled here: numbered images with
// one event file and a timestamps file, or per-frame event files beside their images.
#include "diffevent/events/recording.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/formats.hpp"
#include "io/recording_source.hpp"

namespace fs = std::filesystem;

namespace diffevent {
inline namespace v1 {
namespace detail {

std::string frame_number_name(size_t i) { return fmt::format("{:06d}", i); }

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_image(const fs::path& p) {
  const std::string e = lower(p.extension().string());
  return e == ".png" || e == ".pgm" || e == ".ppm";
}

bool is_timestamps(const fs::path& p) {
  const std::string n = lower(p.filename().string());
  return n == "timestamps.txt" || n == "exposures.txt" || n == "timestamps.csv" ||
         n == "exposures.csv";
}

// Natural order: digit runs compare as numbers ("frame2" before "frame10").
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      na.erase(0, std::min(na.find_first_not_of('0'), na.size()));
      nb.erase(0, std::min(nb.find_first_not_of('0'), nb.size()));
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// "start end" per line (comma or blanks; '#' starts a comment). Integers are microseconds;
// a number with '.', 'e' or 'E' makes the file's times seconds.
std::vector<Exposure> read_timestamps(const std::string& path) {
  std::ifstream in(path);
  DIFFEVENT_CHECK(in.good(), ErrorCode::kIoError, "cannot open '{}'", path);
  std::vector<std::pair<std::string, std::string>> rows;
  bool seconds = false;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    DIFFEVENT_CHECK(rows.size() < (1u << 24), ErrorCode::kOutOfRange,
                    "'{}': more than 16777216 frames", path);
    if (const size_t h = line.find('#'); h != std::string::npos) line.resize(h);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream ls(line);
    std::string a, b, extra;
    if (!(ls >> a)) continue;
    DIFFEVENT_CHECK(static_cast<bool>(ls >> b) && !(ls >> extra), ErrorCode::kFormatError,
                    "'{}' line {}: expected two numbers, the exposure's start and end", path,
                    line_no);
    for (const std::string* v : {&a, &b})
      if (v->find_first_of(".eE") != std::string::npos) seconds = true;
    rows.emplace_back(a, b);
  }
  std::vector<Exposure> out;
  line_no = 0;
  for (const auto& [a, b] : rows) {
    ++line_no;
    auto parse = [&](const std::string& v) -> TimestampUs {
      char* end = nullptr;
      errno = 0;
      const double d = std::strtod(v.c_str(), &end);
      DIFFEVENT_CHECK(end && *end == '\0' && errno == 0 && std::isfinite(d) &&
                          std::fabs(seconds ? d * 1e6 : d) < 9.2e18,
                      ErrorCode::kFormatError, "'{}': frame {}: '{}' is not a time", path,
                      line_no - 1, v);
      return static_cast<TimestampUs>(std::llround(seconds ? d * 1e6 : d));
    };
    const Exposure e{parse(a), parse(b)};
    DIFFEVENT_CHECK(e.valid(), ErrorCode::kFormatError,
                    "'{}': frame {}: the exposure [{}, {}] ends before it starts", path,
                    line_no - 1, a, b);
    out.push_back(e);
  }
  return out;
}

// Image size of a file (reads the image; folders hold frames of camera size).
void check_frame_size(const Image& im, int w, int h, const std::string& path) {
  DIFFEVENT_CHECK(im.width() == w && im.height() == h, ErrorCode::kInvalidArgument,
                  "'{}' is {}x{} but the events come from a {}x{} sensor", path, im.width(),
                  im.height(), w, h);
}

// Numbered images, one event file and a timestamps file.
class FolderRecording final : public Recording::Source {
 public:
  FolderRecording(const std::string& dir, std::vector<fs::path> images, const fs::path& events,
                  const fs::path& timestamps, const RecordingOptions& o)
      : images_(std::move(images)), events_path_(events.string()), read_(o.read) {
    path = dir;
    layout = "folder";
    const std::vector<Exposure> ex = read_timestamps(timestamps.string());
    DIFFEVENT_CHECK(ex.size() == images_.size(), ErrorCode::kFormatError,
                    "'{}': {} lists {} exposures for {} images", dir,
                    timestamps.filename().string(), ex.size(), images_.size());
    for (size_t i = 0; i < ex.size(); ++i) frames.push_back({ex[i], images_[i].stem().string()});
    read_.on_chunk = nullptr;
    const EventFormat f =
        read_.format == EventFormat::kAuto ? detect_format(events_path_) : read_.format;
    if (f == EventFormat::kAedat4 || f == EventFormat::kHdf5) {
      RecordingOptions eo = o;
      if (f == EventFormat::kHdf5 && eo.read.width == 0) {
        // An HDF5 file need not state its sensor size: the frames' is the sensor's.
        const Image first = read_image(images_.front().string());
        eo.read.width = first.width();
        eo.read.height = first.height();
      }
      indexed_ = f == EventFormat::kAedat4 ? open_aedat4_recording(events_path_, eo)
                                           : open_hdf5_recording(events_path_, eo);
      width = indexed_->width;
      height = indexed_->height;
      thresholds = indexed_->thresholds;  // an HDF5 event file may state them
    } else {
      // The size comes from the file's header, the options, or the first image.
      const Image first = read_image(images_.front().string());
      if (read_.width == 0) {
        read_.width = first.width();
        read_.height = first.height();
      }
      width = read_.width;
      height = read_.height;
    }
  }

  Image image(size_t i) override {
    Image im = read_image(images_[i].string());
    check_frame_size(im, width, height, images_[i].string());
    return im;
  }

  EventStream events_between(TimestampUs t0, TimestampUs t1) override {
    if (indexed_) return indexed_->events_between(t0, t1);
    // Streamed from the start; reading stops at the first chunk past the window.
    ReadOptions ro = read_;
    EventStream out(width, height);
    ro.on_chunk = [&](const EventStream& chunk) {
      const EventStream part = chunk.slice_time(t0, t1);
      if (!part.empty()) out.append(part);
      return chunk.empty() || chunk.t_end() < t1;
    };
    try {
      (void)read_events(events_path_, ro);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kCancelled) throw;
    }
    return out;
  }

 private:
  std::vector<fs::path> images_;
  std::string events_path_;
  ReadOptions read_;
  std::unique_ptr<Recording::Source> indexed_;
};

// Per-frame event files, each beside its image.
class PerFrameRecording final : public Recording::Source {
 public:
  PerFrameRecording(const std::string& dir, std::vector<std::pair<fs::path, fs::path>> pairs,
                    const RecordingOptions& o)
      : pairs_(std::move(pairs)), read_(o.read) {
    path = dir;
    layout = "per-frame";
    read_.on_chunk = nullptr;
    // The exposure of each frame: stated by its file, else the span of its events. Reading
    // every file once here also checks them all before any frame is processed.
    for (const auto& [ev, im] : pairs_) {
      // A file without a sensor size (ni-joint's .mat) takes its image's.
      ReadOptions ro = read_;
      if (ro.width == 0) {
        const Image frame = read_image(im.string());
        ro.width = frame.width();
        ro.height = frame.height();
      }
      sizes_.emplace_back(ro.width, ro.height);
      const EventFile f = read_events(ev.string(), ro);
      Exposure e;
      if (!f.exposures.empty()) {
        e = f.exposures.front();
      } else {
        DIFFEVENT_CHECK(!f.events.empty(), ErrorCode::kFormatError,
                        "'{}' holds no events and no exposure", ev.string());
        e = {f.events.t_begin(), f.events.t_end() + 1};
      }
      DIFFEVENT_CHECK(e.valid(), ErrorCode::kFormatError, "'{}': its exposure is invalid",
                      ev.string());
      if (frames.empty()) {
        width = f.events.width();
        height = f.events.height();
      }
      frames.push_back({e, ev.stem().string()});
    }
  }

  Image image(size_t i) override { return read_image(pairs_[i].second.string()); }

  EventStream frame_events(size_t i) override {
    ReadOptions ro = read_;
    ro.width = sizes_[i].first;
    ro.height = sizes_[i].second;
    EventFile f = read_events(pairs_[i].first.string(), ro);
    return f.events.slice_time(frames[i].exposure.t0_us, frames[i].exposure.t1_us);
  }

  EventStream events_between(TimestampUs, TimestampUs) override {
    throw Error(ErrorCode::kUnsupported,
                fmt::format("'{}': a folder of per-frame event files has no continuous event "
                            "stream; ask for a frame's events",
                            path));
  }

 private:
  std::vector<std::pair<fs::path, fs::path>> pairs_;  // (event file, image)
  std::vector<std::pair<int, int>> sizes_;            // sensor size per frame
  ReadOptions read_;
};

std::unique_ptr<Recording::Source> open_folder(const std::string& dir, const RecordingOptions& o) {
  std::vector<fs::path> images, others, timestamps;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path p = it->path();
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.') continue;
    const std::string ext = lower(p.extension().string());
    if (is_image(p))
      images.push_back(p);
    else if (is_timestamps(p))
      timestamps.push_back(p);
    else if (ext != ".txt" && ext != ".json" && ext != ".md" && ext != ".csv" &&
             name != "LICENSE" && name.find("README") == std::string::npos)
      others.push_back(p);
    else if (ext == ".txt" && name != "LICENSE")
      others.push_back(p);  // a text event file (t x y p)
  }
  DIFFEVENT_CHECK(!ec, ErrorCode::kIoError, "cannot list the folder '{}' ({})", dir, ec.message());
  auto by_name = [](const fs::path& a, const fs::path& b) {
    return natural_less(a.filename().string(), b.filename().string());
  };
  std::sort(images.begin(), images.end(), by_name);
  std::sort(others.begin(), others.end(), by_name);
  DIFFEVENT_CHECK(!images.empty(), ErrorCode::kFormatError,
                  "'{}': the folder holds no frames (.png, .pgm, .ppm images)", dir);
  DIFFEVENT_CHECK(timestamps.size() <= 1, ErrorCode::kFormatError,
                  "'{}': the folder holds {} timestamps files; keep one", dir, timestamps.size());
  if (!timestamps.empty()) {
    DIFFEVENT_CHECK(others.size() == 1, ErrorCode::kFormatError,
                    "'{}': a folder with {} needs exactly one event file beside its images; "
                    "found {}",
                    dir, timestamps.front().filename().string(), others.size());
    return std::make_unique<FolderRecording>(dir, std::move(images), others.front(),
                                             timestamps.front(), o);
  }
  // Per-frame: each event file with the image of the same stem, or of the stem without its
  // trailing digits (two event files may share one frame).
  std::vector<std::pair<fs::path, fs::path>> pairs;
  for (const fs::path& ev : others) {
    const std::string stem = ev.stem().string();
    std::string base = stem;
    while (!base.empty() && std::isdigit(static_cast<unsigned char>(base.back()))) base.pop_back();
    const fs::path* match = nullptr;
    for (const fs::path& im : images)
      if (im.stem().string() == stem) match = &im;
    if (!match)
      for (const fs::path& im : images)
        if (!base.empty() && im.stem().string() == base) match = &im;
    DIFFEVENT_CHECK(match != nullptr, ErrorCode::kFormatError,
                    "'{}': no image for the event file {} (expected {}.png{})", dir,
                    ev.filename().string(), stem,
                    base != stem && !base.empty() ? " or " + base + ".png" : "");
    pairs.emplace_back(ev, *match);
  }
  DIFFEVENT_CHECK(!pairs.empty(), ErrorCode::kFormatError,
                  "'{}': the folder holds images but no event file (give one event file and a "
                  "timestamps.txt, or one event file per image)",
                  dir);
  return std::make_unique<PerFrameRecording>(dir, std::move(pairs), o);
}

}  // namespace
}  // namespace detail

Recording::Recording(std::unique_ptr<Source> source) : source_(std::move(source)) {}
Recording::Recording(Recording&&) noexcept = default;
Recording& Recording::operator=(Recording&&) noexcept = default;
Recording::~Recording() = default;

Recording Recording::open(const std::string& path, const RecordingOptions& options) {
  DIFFEVENT_CHECK(options.exposure_us >= 0 && options.exposure_us <= (int64_t{1} << 40),
                  ErrorCode::kInvalidArgument, "RecordingOptions::exposure_us = {} (0 to 2^40 us)",
                  options.exposure_us);
  std::error_code ec;
  const auto st = fs::status(path, ec);
  DIFFEVENT_CHECK(!ec && fs::exists(st), ErrorCode::kIoError, "cannot open '{}': {}", path,
                  ec ? ec.message() : "no such file or directory");
  std::unique_ptr<Source> s;
  if (fs::is_directory(st)) {
    s = detail::open_folder(path, options);
  } else {
    const EventFormat f =
        options.read.format == EventFormat::kAuto ? detect_format(path) : options.read.format;
    if (f == EventFormat::kAedat4)
      s = detail::open_aedat4_recording(path, options);
    else if (f == EventFormat::kHdf5)
      s = detail::open_hdf5_recording(path, options);
    else
      throw Error(ErrorCode::kUnsupported,
                  fmt::format("'{}' is a {} event file, which holds no frames; a recording is "
                              "an AEDAT4 or HDF5 file with frames, or a folder",
                              path, format_name(f)));
  }
  DIFFEVENT_CHECK(!s->frames.empty(), ErrorCode::kFormatError, "'{}' holds no frames ({})", path,
                  std::string(s->layout) == "aedat4" ? "no FRME stream or an empty one"
                                                     : "no images/ group or an empty one");
  return Recording(std::move(s));
}

const std::string& Recording::path() const noexcept { return source_->path; }
const char* Recording::layout() const noexcept { return source_->layout; }
int Recording::width() const noexcept { return source_->width; }
int Recording::height() const noexcept { return source_->height; }
size_t Recording::size() const noexcept { return source_->frames.size(); }
const std::optional<Thresholds>& Recording::thresholds() const noexcept {
  return source_->thresholds;
}
const std::vector<RecordingFrame>& Recording::frames() const noexcept { return source_->frames; }

const RecordingFrame& Recording::frame(size_t i) const {
  DIFFEVENT_CHECK(i < size(), ErrorCode::kOutOfRange, "'{}': frame {} of {}", path(), i, size());
  return source_->frames[i];
}

Image Recording::image(size_t i) const {
  frame(i);
  std::lock_guard<std::mutex> lock(source_->mutex);
  return source_->image(i);
}

EventStream Recording::events(size_t i) const {
  frame(i);
  std::lock_guard<std::mutex> lock(source_->mutex);
  return source_->frame_events(i);
}

EventStream Recording::events_between(TimestampUs t0_us, TimestampUs t1_us) const {
  DIFFEVENT_CHECK(t0_us <= t1_us, ErrorCode::kInvalidArgument,
                  "events_between: the window [{}, {}) us ends before it starts", t0_us, t1_us);
  std::lock_guard<std::mutex> lock(source_->mutex);
  return source_->events_between(t0_us, t1_us);
}

void write_recording(const std::string& path, const EventStream& events,
                     const std::vector<FrameRecord>& frames, const WriteOptions& options) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const Image& im = frames[i].image;
    DIFFEVENT_CHECK(im.width() == events.width() && im.height() == events.height() &&
                        (im.channels() == 1 || im.channels() == 3),
                    ErrorCode::kInvalidArgument,
                    "write_recording: frame {} is {}x{} with {} channels; the sensor is {}x{} "
                    "(grey or RGB frames)",
                    i, im.width(), im.height(), im.channels(), events.width(), events.height());
    DIFFEVENT_CHECK(frames[i].exposure.valid(), ErrorCode::kInvalidArgument,
                    "write_recording: frame {} has an invalid exposure [{}, {}]", i,
                    frames[i].exposure.t0_us, frames[i].exposure.t1_us);
  }
  const EventFormat f =
      options.format == EventFormat::kAuto ? detail::format_from_extension(path) : options.format;
  DIFFEVENT_CHECK(f == EventFormat::kAedat4 || f == EventFormat::kHdf5, ErrorCode::kInvalidArgument,
                  "write_recording: '{}': recordings are written as .aedat4 or .h5", path);
  detail::write_atomically(path, [&](const std::string& tmp) {
    if (f == EventFormat::kAedat4)
      detail::write_aedat4_recording(tmp, events, frames, options);
    else
      detail::write_hdf5_recording(tmp, events, frames, options);
  });
}

}  // namespace v1
}  // namespace diffevent
