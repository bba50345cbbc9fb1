// diffevent deblur-recording: every frame of a recording (AEDAT4, HDF5, folder) deblurred into
// numbered PNGs with a manifest.json and a before/after video. Frames run in parallel within
// a memory budget; each frame's outputs appear atomically, its record (NNNNNN.json) last, so a
// rerun skips complete frames and an interrupted run leaves only complete ones.
#include "deblur_recording.hpp"

#include <fcntl.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <thread>

#include "core/check.hpp"
#include "core/median.hpp"
#include "usage.hpp"

extern char** environ;

namespace fs = std::filesystem;
using diffevent::Error;
using diffevent::ErrorCode;

namespace diffevent_cli {

std::vector<diffevent::Image> frames_from_sharp(const diffevent::Image& sharp,
                                                const diffevent::EventStream& events,
                                                const diffevent::Exposure& exposure,
                                                const diffevent::Thresholds& thresholds, int n) {
  std::vector<diffevent::TimestampUs> times;
  const double T = static_cast<double>(exposure.duration_us());
  for (int k = 0; k < n; ++k)
    times.push_back(exposure.t0_us +
                    static_cast<diffevent::TimestampUs>(std::llround((k + 0.5) * T / n)));
  const auto changes = diffevent::EventIntegrator(diffevent::IntegratorOptions::with(thresholds))
                           .log_changes(events, exposure.mid_us(), times);
  std::vector<diffevent::Image> out;
  for (const auto& d : changes) {
    diffevent::Image f = sharp;
    const size_t plane = static_cast<size_t>(f.width()) * static_cast<size_t>(f.height());
    for (int c = 0; c < f.channels(); ++c) {
      float* p = f.plane(c);
      for (size_t i = 0; i < plane; ++i)
        p[i] = std::min(1.0f, std::max(0.0f, p[i] * std::exp(d.plane(0)[i])));
    }
    out.push_back(std::move(f));
  }
  return out;
}

ThresholdSource recording_thresholds(const RecordingArgs& a, const diffevent::Recording& recording,
                                     diffevent::Thresholds& thresholds) {
  const ThresholdSource source =
      resolve_thresholds(a.flags.thresholds(a.threshold), recording.thresholds(), thresholds);
  if (a.auto_threshold) return ThresholdSource::kEstimated;
  note_unused_threshold_range("deblur-recording", a.threshold_range, source);
  if (source == ThresholdSource::kEstimated)
    std::cerr << fmt::format(
        "deblur-recording: '{}' states no contrast threshold: each frame's is estimated from "
        "its data (--threshold sets one)\n",
        recording.path());
  return source;
}

namespace {

RecordingMethod edi_method(const RecordingArgs& a, const diffevent::Recording& recording) {
  RecordingMethod m;
  diffevent::Thresholds th;
  const ThresholdSource source = recording_thresholds(a, recording, th);
  const bool autoc = source == ThresholdSource::kEstimated;
  const diffevent::ThresholdSearchOptions search = parse_threshold_range(a.threshold_range);
  m.settings = {{"method", "edi"},
                {"threshold", autoc ? json("auto") : json(th.c_pos)},
                {"threshold_neg", autoc ? json("auto") : json(th.c_neg)},
                {"threshold_source", threshold_source_name(source)}};
  if (autoc) m.settings["threshold_range"] = {search.c_min, search.c_max};
  m.bytes_per_pixel = 48;  // the integrator's planes and the output
  m.default_jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  m.run = [th, autoc, search](const diffevent::Image& blurry, const diffevent::EventStream& events,
                              const diffevent::Exposure& exposure, int n) {
    FrameOutput out;
    diffevent::EdiOptions eo;
    eo.thresholds = th;
    if (autoc) {
      const auto est = diffevent::Edi().estimate_threshold(blurry, events, exposure, search);
      eo.thresholds = diffevent::Thresholds::symmetric(est.c);
      out.extra["threshold_at_bound"] = est.at_bound;
      out.extra["threshold_std_error"] = est.std_error;
    }
    const diffevent::Edi edi(eo);
    out.sharp = edi.deblur(blurry, events, exposure);
    if (n > 0) out.frames = edi.frames(blurry, events, exposure, n);
    out.threshold = eo.thresholds.c_pos;
    return out;
  };
  return m;
}

// The recording's sensor threshold: the median of its frames' estimates (a sensor setting
// holds over a recording; each frame alone sees only its own edges), with the spread of the
// frames' values (1.4826 median absolute deviation), how many frames had none, and the
// medians of the frames' per-polarity estimates.
json pooled_sensor_threshold(const json& records) {
  std::vector<double> cs, ons, offs;
  size_t without = 0;
  for (const json& r : records) {
    const json s = r.value("sensor_threshold", json::object());
    if (!s.contains("c")) {
      ++without;
      continue;
    }
    cs.push_back(s["c"].get<double>());
    if (s.value("c_pos", 0.0) > 0) ons.push_back(s["c_pos"].get<double>());
    if (s.value("c_neg", 0.0) > 0) offs.push_back(s["c_neg"].get<double>());
  }
  json out = {{"frames", cs.size()}, {"frames_without_estimate", without}};
  if (cs.empty()) return out;
  using diffevent::detail::median;
  const double m = median(cs);
  std::vector<double> dev;
  for (const double c : cs) dev.push_back(std::abs(c - m));
  out["c"] = m;
  out["spread"] = 1.4826 * median(dev);
  out["c_pos"] = ons.empty() ? 0.0 : median(ons);  // per polarity, over the frames with one
  out["c_neg"] = offs.empty() ? 0.0 : median(offs);
  return out;
}

std::string frame_stem(const std::string& dir, size_t i) {
  return fmt::format("{}/{:06d}", dir, i);
}

// The record of a finished frame, if its outputs are all there and were made with `settings`.
bool load_record(const std::string& path, const json& settings, json& record) {
  std::ifstream in(path);
  if (!in) return false;
  try {
    record = json::parse(in);
  } catch (const std::exception&) {
    return false;
  }
  if (!record.is_object() || record.value("settings", json()) != settings) return false;
  const fs::path dir = fs::path(path).parent_path();
  std::vector<std::string> files{record.value("output", std::string())};
  for (const auto& f : record.value("frames", json::array())) files.push_back(f.get<std::string>());
  for (const std::string& f : files) {
    std::error_code ec;
    if (f.empty() || fs::file_size(dir / f, ec) == 0 || ec) return false;
  }
  return true;
}

// Removes the temporary files that a run killed mid-write (SIGKILL, out of memory) left in the
// output folder: the library writes NAME through ".NAME.tmp" plus 16 hex digits beside it, and
// removes that file itself on every other way out. Called once every frame is complete, when no
// writer is left.
void remove_dead_temporaries(const std::string& dir) {
  static const std::regex temporary(
      R"(\.(\d{6}(_\d{3})?\.(png|json)|manifest\.json)\.tmp[0-9a-f]{16})");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code ignored;
    if (std::regex_match(name, temporary)) fs::remove(it->path(), ignored);
  }
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::string p(path);
  for (size_t a = 0; a <= p.size();) {
    const size_t b = std::min(p.find(':', a), p.size());
    const fs::path cand = fs::path(p.substr(a, b - a)) / program;
    if (b > a && ::access(cand.c_str(), X_OK) == 0) return true;
    a = b + 1;
  }
  return false;
}

// before | after, 8-bit, both grey or both RGB.
diffevent::Image side_by_side(diffevent::Image before, diffevent::Image after) {
  auto rgb = [](const diffevent::Image& g) {
    diffevent::Image out(3, g.height(), g.width());
    for (int c = 0; c < 3; ++c) std::copy(g.plane(0), g.plane(0) + g.size(), out.plane(c));
    return out;
  };
  if (before.channels() != after.channels()) {
    if (before.channels() == 1) before = rgb(before);
    if (after.channels() == 1) after = rgb(after);
  }
  const int W = before.width(), H = before.height(), C = before.channels();
  // Widths even for the H.264 encoder's 4:2:0 chroma.
  const int W2 = (2 * W + 1) / 2 * 2, H2 = (H + 1) / 2 * 2;
  diffevent::Image out(C, H2, W2);
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        out.at(c, y, x) = before.at(c, y, x);
        out.at(c, y, W + x) = after.at(c, y, x);
      }
  return out;
}

// Runs a program and waits; its exit status (or -1 when it could not start).
int run_program(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// before_after.mp4 through ffmpeg; a note when there is none. Returns the video's name or "".
std::string make_video(const diffevent::Recording& rec, const RecordingArgs& a, const json& records,
                       Progress& progress) {
  if (!on_path("ffmpeg")) {
    progress.note("no before/after video: ffmpeg is not on PATH (install it, or pass --no-video)");
    return "";
  }
  const std::string tmp = a.out_dir + "/.video_frames";
  fs::remove_all(tmp);
  ensure_dir(tmp);
  for (size_t k = 0; k < records.size(); ++k) {
    const json& r = records[k];
    const size_t i = r["index"].get<size_t>();
    const diffevent::Image after =
        diffevent::read_image(a.out_dir + "/" + r["output"].get<std::string>());
    diffevent::write_image(fmt::format("{}/{:06d}.png", tmp, k), side_by_side(rec.image(i), after),
                           8);
  }
  const std::string part = a.out_dir + "/.before_after.part.mp4";
  const int rc =
      run_program({"ffmpeg", "-y", "-loglevel", "error", "-framerate", fmt::format("{:g}", a.fps),
                   "-i", tmp + "/%06d.png", "-c:v", "libx264", "-pix_fmt", "yuv420p", part});
  fs::remove_all(tmp);
  if (rc != 0) {
    fs::remove(part);
    progress.note(fmt::format("no before/after video: ffmpeg failed (exit status {})", rc));
    return "";
  }
  fs::rename(part, a.out_dir + "/before_after.mp4");
  return "before_after.mp4";
}

int run_deblur_recording(const RecordingArgs& a, const Common& c,
                         const DiffusionMethodFactory& diffusion) {
  DIFFEVENT_CHECK(a.method == "edi" || a.method == "diffevent", ErrorCode::kInvalidArgument,
                  "--method {}: expected edi or diffevent", a.method);
  DIFFEVENT_CHECK(a.frames_per_exposure >= 0 && a.frames_per_exposure <= 1000,
                  ErrorCode::kInvalidArgument, "--frames-per-exposure {}: 0 to 1000",
                  a.frames_per_exposure);
  DIFFEVENT_CHECK(a.jobs >= 0 && a.memory_budget_mb > 0 && a.fps > 0 && a.exposure_us >= 0,
                  ErrorCode::kInvalidArgument,
                  "--jobs, --exposure-us must be >= 0 and --memory-budget-mb, --fps > 0");
  DIFFEVENT_CHECK(a.bit_depth == 8 || a.bit_depth == 16, ErrorCode::kInvalidArgument,
                  "--bit-depth {}: 8 or 16", a.bit_depth);
  diffevent::RecordingOptions ro;
  ro.exposure_us = a.exposure_us;
  const diffevent::Recording rec = diffevent::Recording::open(a.input, ro);
  RecordingMethod method;
  if (a.method == "edi") {
    method = edi_method(a, rec);
  } else {
    DIFFEVENT_CHECK(static_cast<bool>(diffusion), ErrorCode::kUnsupported,
                    "--method diffevent needs LibTorch (diffevent-diffusion)");
    method = diffusion(a, rec);
  }
  json settings = method.settings;
  // Only when asked, so that records made without it stay valid.
  if (a.sensor.report)
    settings["sensor_threshold"] = {{"reference_at_start", a.sensor.reference_at_start}};
  settings["frames_per_exposure"] = a.frames_per_exposure;
  settings["bit_depth"] = a.bit_depth;
  ensure_dir(a.out_dir);
  const size_t n = rec.size();
  std::vector<json> records(n);
  std::vector<size_t> todo;
  for (size_t i = 0; i < n; ++i)
    if (!load_record(frame_stem(a.out_dir, i) + ".json", settings, records[i])) todo.push_back(i);
  // Frames in parallel, as many as the memory budget holds (estimated from the frame size).
  const auto& f0 = rec.frames().front();
  const double exposure_share =
      std::min(1.0, double(f0.exposure.duration_us()) / 1e6);  // events held per frame
  const double per_frame =
      double(rec.width()) * rec.height() * 3 * method.bytes_per_pixel +
      13.0 * 2 * 1e6 * exposure_share;  // up to ~1 M events/s of exposure, read and copied
  const int budget_jobs =
      std::max(1, static_cast<int>(a.memory_budget_mb * 1048576.0 / std::max(per_frame, 1.0)));
  const int jobs = std::max(1, std::min({a.jobs > 0 ? a.jobs : method.default_jobs, budget_jobs,
                                         static_cast<int>(std::max<size_t>(todo.size(), 1))}));
  Progress progress("deblur-recording", "frame");
  progress.note(
      fmt::format("{}: {} frames ({}), {}x{}; {} done before, {} to do, {} at a time, "
                  "method {}",
                  a.input, n, rec.layout(), rec.width(), rec.height(), n - todo.size(), todo.size(),
                  jobs, a.method));
  std::atomic<size_t> next{0};
  std::atomic<long long> finished{static_cast<long long>(n - todo.size())};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;
  {
    CancelOnSigint cancellable;
    auto worker = [&] {
      for (;;) {
        const size_t k = next++;
        if (k >= todo.size() || failed.load() || interrupted().load()) return;
        const size_t i = todo[k];
        try {
          const auto t_start = std::chrono::steady_clock::now();
          const diffevent::RecordingFrame& fr = rec.frame(i);
          const diffevent::Image blurry = rec.image(i);
          const diffevent::EventStream events = rec.events(i);
          FrameOutput r = method.run(blurry, events, fr.exposure, a.frames_per_exposure);
          if (interrupted().load()) return;  // a cancelled sampler's output is not a result
          const std::string stem = frame_stem(a.out_dir, i);
          json rec_json = {{"index", i},
                           {"name", fr.name},
                           {"exposure_us", {fr.exposure.t0_us, fr.exposure.t1_us}},
                           {"events", events.size()},
                           {"threshold", r.threshold},
                           {"output", fs::path(stem).filename().string() + ".png"},
                           {"settings", settings}};
          json frames = json::array();
          for (size_t j = 0; j < r.frames.size(); ++j) {
            const std::string f = fmt::format("{}_{:03d}.png", stem, j);
            diffevent::write_image(f, r.frames[j], a.bit_depth);
            frames.push_back(fs::path(f).filename().string());
          }
          if (!frames.empty()) rec_json["frames"] = frames;
          diffevent::write_image(stem + ".png", r.sharp, a.bit_depth);
          for (auto& [key, value] : r.extra.items()) rec_json[key] = value;
          if (a.sensor.report)  // one thread: frames run in parallel already
            rec_json["sensor_threshold"] =
                sensor_threshold_report(fmt::format("deblur-recording: frame {}", i),
                                        diffevent::Edi(), blurry, events, fr.exposure, a.sensor);
          rec_json["seconds"] =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
          write_text_atomically(stem + ".json", rec_json.dump(2) + "\n");  // last: complete
          std::lock_guard<std::mutex> lock(mu);
          records[i] = std::move(rec_json);
          progress.update(++finished, static_cast<long long>(n));
        } catch (...) {
          if (interrupted().load()) return;  // cancelled mid-frame: not a failure
          std::lock_guard<std::mutex> lock(mu);
          if (!error) error = std::current_exception();
          failed = true;
          return;
        }
      }
    };
    std::vector<std::thread> pool;
    for (int j = 1; j < jobs; ++j) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
  }
  if (error) std::rethrow_exception(error);
  json done = json::array();
  for (const json& r : records)
    if (!r.is_null()) done.push_back(r);
  const bool complete = done.size() == n;
  if (complete) remove_dead_temporaries(a.out_dir);
  json manifest = {{"input", a.input},       {"layout", rec.layout()}, {"width", rec.width()},
                   {"height", rec.height()}, {"frames_total", n},      {"frames_done", done.size()},
                   {"complete", complete},   {"settings", settings},   {"frames", done}};
  if (a.sensor.report) manifest["sensor_threshold"] = pooled_sensor_threshold(done);
  if (complete && !a.no_video) {
    const std::string video = make_video(rec, a, done, progress);
    if (!video.empty()) manifest["video"] = video;
  }
  write_text_atomically(a.out_dir + "/manifest.json", manifest.dump(2) + "\n");
  std::vector<std::string> at_bound;  // frames whose estimate ended at the search's end
  for (const json& r : done)
    if (r.value("threshold_at_bound", false))
      at_bound.push_back(fmt::format("frame {} '{}' (c = {:.3f})", r.value("index", -1),
                                     r.value("name", std::string()), r.value("threshold", 0.0)));
  if (!at_bound.empty())
    std::cerr << fmt::format(
        "deblur-recording: warning: {} estimated threshold(s) at the end of the search interval: "
        "{}; consider --threshold, or --threshold-range to widen it\n",
        at_bound.size(), fmt::join(at_bound, ", "));
  if (!complete) {
    throw Error(ErrorCode::kCancelled,
                fmt::format("interrupted: {} of {} frames are complete in {}; run the same "
                            "command again to finish",
                            done.size(), n, a.out_dir));
  }
  if (c.json_out) {
    json summary = manifest;
    summary.erase("frames");
    std::cout << summary.dump() << "\n";
  } else {
    std::cout << fmt::format("deblur-recording: {} frames -> {}/manifest.json{}\n", n, a.out_dir,
                             manifest.contains("video") ? " and before_after.mp4" : "");
    if (manifest.contains("sensor_threshold") && manifest["sensor_threshold"].contains("c"))
      std::cout << fmt::format(
          "sensor threshold: c = {:.4f} (median of {} frames, spread {:.4f}; {} without one)\n",
          manifest["sensor_threshold"]["c"].get<double>(),
          manifest["sensor_threshold"]["frames"].get<size_t>(),
          manifest["sensor_threshold"]["spread"].get<double>(),
          manifest["sensor_threshold"]["frames_without_estimate"].get<size_t>());
  }
  return 0;
}

}  // namespace

Command add_deblur_recording(CLI::App& app, const Common& c, DiffusionMethodFactory diffusion) {
  auto* sub = app.add_subcommand(
      "deblur-recording",
      "Deblur every frame of a recording (AEDAT4 with frames, HDF5 with images/, or a folder)");
  auto a = std::make_shared<RecordingArgs>();
  sub->add_option("-i,--input", a->input, "Recording: .aedat4, .h5, or a folder")->required();
  sub->add_option("-o,--out-dir", a->out_dir, "Output folder (NNNNNN.png, manifest.json)")
      ->required();
  sub->add_option("--method", a->method, "edi or diffevent");
  sub->add_option("--frames-per-exposure", a->frames_per_exposure,
                  "Also write N frames across each exposure (NNNNNN_KKK.png)");
  sub->add_option("-j,--jobs", a->jobs,
                  "Frames in parallel (0: every core for edi, 1 for diffevent), within "
                  "--memory-budget-mb");
  sub->add_option("--memory-budget-mb", a->memory_budget_mb,
                  "Memory the frames in flight may use (estimated from the frame size)");
  auto* thr =
      sub->add_option("-c,--threshold", a->threshold,
                      "Contrast threshold c for both polarities (default: what the recording "
                      "states, else each frame's estimate)")
          ->default_str("");
  sub->add_option("--threshold-pos", a->flags.options.thresholds.c_pos,
                  "ON threshold (overrides --threshold)");
  sub->add_option("--threshold-neg", a->flags.options.thresholds.c_neg,
                  "OFF threshold (overrides --threshold)");
  sub->add_flag("--auto-threshold", a->auto_threshold, "Estimate c for each frame")->excludes(thr);
  add_threshold_range(*sub, a->threshold_range, thr);
  add_sensor_flags(*sub, a->sensor);
  sub->add_option("--exposure-us", a->exposure_us,
                  "Exposure of frames that give only a timestamp (HDF5), centred on it");
  sub->add_option("--bit-depth", a->bit_depth, "PNG bit depth (8 or 16)");
  sub->add_flag("--no-video", a->no_video, "Do not make before_after.mp4");
  sub->add_option("--fps", a->fps, "Frame rate of before_after.mp4");
  // The diffusion method's flags (parsed by both programs; used by diffevent-diffusion).
  sub->add_option("--prior", a->prior, "diffevent: TorchScript prior for x, or 'analytic'");
  sub->add_option("--residual-prior", a->residual_prior,
                  "diffevent: TorchScript prior for r, or 'none'");
  add_deblur_flags(*sub, a->flags);
  sub->add_option("--seed", a->flags.options.sampler.seed, "diffevent: random seed");
  sub->add_option("--device", a->device, "diffevent: cpu or cuda:N");
  sub->add_option("--threads", a->threads,
                  "diffevent: CPU threads of the prior network (0: every core)");
  return {sub, [a, &c, diffusion] { return run_deblur_recording(*a, c, diffusion); }};
}

}  // namespace diffevent_cli
