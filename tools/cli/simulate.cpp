// diffevent simulate: a blurry frame and its events from a photo (ESIM model).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "cli.hpp"
#include "core/check.hpp"

using diffevent::Error;
using diffevent::ErrorCode;

namespace diffevent_cli {
namespace {

struct SimulateArgs {
  std::string image, out, size;
  diffevent::SimulatorOptions o;  // the defaults shown by --help
  std::vector<double> motion;
  bool srgb = false, grey = false;
  int depth = 8;
  diffevent::VideoOptions video;  // used when --video is given
  bool is_video = false;
};

// The camera motion per exposure: --motion, or a seeded random one (10-24 px of translation,
// small rotation and zoom; half of that for a video, whose camera keeps moving).
diffevent::CameraMotion choose_motion(const SimulateArgs& a) {
  diffevent::CameraMotion m;
  if (!a.motion.empty()) {
    if (a.motion.size() != 4)
      throw Error(ErrorCode::kInvalidArgument, "--motion expects dx,dy,rotation_rad,zoom");
    return {a.motion[0], a.motion[1], a.motion[2], a.motion[3]};
  }
  std::mt19937_64 rng(a.o.seed);
  std::uniform_real_distribution<double> len(10, 24), ang(0, 2 * M_PI), rot(-0.03, 0.03),
      zm(0.97, 1.03);
  const double l = len(rng), an = ang(rng);
  const double k = a.is_video ? 0.5 : 1.0;
  m.dx_px = k * l * std::cos(an);
  m.dy_px = k * l * std::sin(an);
  m.rotation_rad = k * rot(rng);
  m.zoom = std::pow(zm(rng), k);
  return m;
}

// The photo, linear and grey as asked, scaled to cover the sensor with a margin for the
// camera's whole path (`exposures`: how many exposure-lengths it moves).
diffevent::Image prepare_photo(const SimulateArgs& a, diffevent::SimulatorOptions& o,
                               const diffevent::CameraMotion& m, double exposures) {
  diffevent::Image photo = diffevent::read_image(a.image);
  if (a.srgb) diffevent::srgb_to_linear(photo);
  if (a.grey) photo = photo.to_grey();  // like a DAVIS APS frame
  if (!a.size.empty()) {
    const auto [w, h] = parse_size(a.size);
    o.width = w;
    o.height = h;
    const double mx = std::abs(m.dx_px) * std::max(0.0, exposures - 1);
    const double my = std::abs(m.dy_px) * std::max(0.0, exposures - 1);
    // Scale the photo to cover the sensor with a margin for the motion, keeping its aspect.
    const double scale = 1.15 * std::max((w + mx) / photo.width(), (h + my) / photo.height());
    photo =
        diffevent::resize(photo, std::max(h, static_cast<int>(std::lround(photo.height() * scale))),
                          std::max(w, static_cast<int>(std::lround(photo.width() * scale))));
  }
  return photo;
}

json motion_json(const diffevent::CameraMotion& m) {
  return {
      {"dx_px", m.dx_px}, {"dy_px", m.dy_px}, {"rotation_rad", m.rotation_rad}, {"zoom", m.zoom}};
}

// --video: a recording (AEDAT4, and HDF5 when compiled in) with its ground truth per frame.
int run_simulate_video(const SimulateArgs& a, const Common& c) {
  diffevent::SimulatorOptions o = a.o;
  const diffevent::CameraMotion m = choose_motion(a);
  const double span =
      (double(a.video.frames - 1) * double(a.video.frame_interval_us) + double(o.exposure_us)) /
      double(o.exposure_us);
  const diffevent::Image photo = prepare_photo(a, o, m, span);
  const auto t_start = std::chrono::steady_clock::now();
  const diffevent::VideoSimulation r =
      diffevent::EventSimulator(o).simulate_video(photo, m, a.video);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  ensure_dir(a.out);
  ensure_dir(a.out + "/sharp");
  ensure_dir(a.out + "/blur");
  std::vector<diffevent::FrameRecord> frames;
  json exposures = json::array();
  for (size_t k = 0; k < r.blurry.size(); ++k) {
    frames.push_back({r.blurry[k], r.exposures[k]});
    exposures.push_back({r.exposures[k].t0_us, r.exposures[k].t1_us});
    diffevent::write_image(fmt::format("{}/sharp/{:06d}.png", a.out, k), r.sharp[k], a.depth);
    diffevent::write_image(fmt::format("{}/blur/{:06d}.png", a.out, k), r.blurry[k], a.depth);
  }
  std::vector<std::string> files{"recording.aedat4"};
  diffevent::WriteOptions wo;  // HDF5 states the nominal threshold, as a sensor's file would
  wo.thresholds = diffevent::Thresholds{o.c_pos, o.c_neg, {}, {}};
  diffevent::write_recording(a.out + "/recording.aedat4", r.events, frames, wo);
  if (diffevent::hdf5_supported()) {
    diffevent::write_recording(a.out + "/recording.h5", r.events, frames, wo);
    files.push_back("recording.h5");
  }
  json meta = {{"source", a.image},
               {"width", r.events.width()},
               {"height", r.events.height()},
               {"frames", r.blurry.size()},
               {"frame_interval_us", a.video.frame_interval_us},
               {"exposures_us", exposures},
               {"threshold", o.c_pos},
               {"threshold_sigma", o.threshold_sigma},
               {"noise_hz", o.shot_noise_hz},
               {"leak_hz", o.leak_hz},
               {"refractory_us", o.refractory_us},
               {"seed", o.seed},
               {"motion_per_exposure", motion_json(m)},
               {"events", r.events.size()},
               {"recordings", files},
               {"ground_truth", "sharp/NNNNNN.png (the frame at mid-exposure)"},
               {"blurry", "blur/NNNNNN.png (as stored in the recordings)"},
               {"samples", r.samples},
               {"linear_intensity", true},
               {"seconds", secs}};
  write_text_atomically(a.out + "/meta.json", meta.dump(2) + "\n");
  if (c.json_out) {
    std::cout << meta.dump() << "\n";
  } else {
    std::cout << fmt::format("simulated {} frames, {} events on {}x{} in {:.2f} s -> {}/{}\n",
                             r.blurry.size(), r.events.size(), r.events.width(), r.events.height(),
                             secs, a.out, fmt::join(files, ", "));
  }
  return 0;
}

int run_simulate(const SimulateArgs& a, const Common& c) {
  if (a.is_video) return run_simulate_video(a, c);
  diffevent::SimulatorOptions o = a.o;
  const diffevent::CameraMotion m = choose_motion(a);
  const diffevent::Image photo = prepare_photo(a, o, m, 1.0);
  const std::string& image_path = a.image;
  const std::string& out_dir = a.out;
  const int bit_depth = a.depth;
  const uint64_t seed = o.seed;
  const auto t_start = std::chrono::steady_clock::now();
  const diffevent::SimulationResult r = diffevent::EventSimulator(o).simulate_motion(photo, m);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  ensure_dir(out_dir);
  // events.h5 carries the blur and exposure; a build without HDF5 writes events.npz instead
  // (decided here, so a run never stops half-way through its outputs).
  const std::string events_name = diffevent::hdf5_supported() ? "events.h5" : "events.npz";
  diffevent::write_image(out_dir + "/blur.png", r.blurry, bit_depth);
  diffevent::write_image(out_dir + "/sharp.png", r.sharp, bit_depth);
  diffevent::WriteOptions wo;
  wo.exposure = r.exposure;
  wo.image = r.blurry;
  wo.thresholds = diffevent::Thresholds{o.c_pos, o.c_neg, {}, {}};  // the nominal, as stated
  diffevent::write_events(out_dir + "/" + events_name, r.events, wo);
  diffevent::write_events(out_dir + "/events.txt", r.events);
  size_t on = 0;
  for (auto p : r.events.p()) on += p > 0;
  json meta = {{"source", image_path},
               {"width", r.events.width()},
               {"height", r.events.height()},
               {"exposure_us", {r.exposure.t0_us, r.exposure.t1_us}},
               {"tau_us", r.exposure.mid_us()},
               {"threshold", o.c_pos},
               {"threshold_sigma", o.threshold_sigma},
               {"noise_hz", o.shot_noise_hz},
               {"leak_hz", o.leak_hz},
               {"refractory_us", o.refractory_us},
               {"seed", seed},
               {"motion", motion_json(m)},
               {"events", r.events.size()},
               {"events_file", events_name},
               {"events_on", on},
               {"events_off", r.events.size() - on},
               {"samples", r.samples},
               {"linear_intensity", true},
               {"seconds", secs}};
  write_text_atomically(out_dir + "/meta.json", meta.dump(2) + "\n");
  if (c.json_out) {
    std::cout << meta.dump() << "\n";
  } else {
    std::cout << fmt::format(
        "simulated {} events ({} ON, {} OFF) on {}x{} over {} us in {:.2f} s -> {}\n",
        r.events.size(), on, r.events.size() - on, r.events.width(), r.events.height(),
        o.exposure_us, secs, out_dir);
  }
  return 0;
}

}  // namespace

Command add_simulate(CLI::App& app, const Common& c) {
  auto* sim = app.add_subcommand(
      "simulate", "Simulate a blurry frame and its events from a photo (ESIM model)");
  auto a = std::make_shared<SimulateArgs>();
  sim->add_option("-i,--image", a->image, "Sharp source photo (PNG or PFM)")->required();
  sim->add_option("-o,--out", a->out, "Output folder")->required();
  sim->add_option("--size", a->size, "Sensor size WxH (the photo is scaled to cover it)");
  sim->add_option("--exposure-us", a->o.exposure_us, "Exposure time in microseconds");
  sim->add_option_function<double>(
         "-c,--threshold", [a](double v) { a->o.c_pos = a->o.c_neg = v; },
         "Contrast threshold (log units)")
      ->default_str(fmt::format("{:g}", a->o.c_pos));
  sim->add_option("--threshold-sigma", a->o.threshold_sigma,
                  "Per-pixel threshold mismatch (std. dev.)");
  sim->add_option("--noise-hz", a->o.shot_noise_hz, "Shot-noise event rate per pixel (Hz)");
  sim->add_option("--leak-hz", a->o.leak_hz, "Leak event rate per pixel (Hz)");
  sim->add_option("--refractory-us", a->o.refractory_us, "Refractory period (us)");
  sim->add_option("--seed", a->o.seed, "Random seed (noise and default motion)");
  sim->add_option("--motion", a->motion,
                  "dx_px,dy_px,rotation_rad,zoom over the exposure (default: random from seed)")
      ->delimiter(',')
      ->default_str("");
  sim->add_flag("--srgb", a->srgb, "The photo is sRGB-encoded: linearise it first");
  sim->add_flag("--grey", a->grey, "Simulate a grey sensor (luminance of the photo)");
  sim->add_option("--bit-depth", a->depth, "PNG bit depth of blur.png/sharp.png (8 or 16)");
  sim->add_option("--max-events", a->o.max_events,
                  "Refuse simulations beyond this many events (memory: ~40 bytes each)");
  sim->add_option_function<int>(
         "--video",
         [a](int n) {
           a->video.frames = n;
           a->is_video = true;
         },
         "Simulate a recording of N frames instead: OUT/recording.aedat4 and recording.h5 (events "
         "and blurry frames with their exposures), OUT/sharp/NNNNNN.png (ground truth), "
         "OUT/blur/NNNNNN.png")
      ->check(CLI::Range(1, 100000));
  sim->add_option("--frame-interval-us", a->video.frame_interval_us,
                  "--video: time from one exposure's start to the next (>= --exposure-us)");
  return {sim, [a, &c] { return run_simulate(*a, c); }};
}

}  // namespace diffevent_cli
