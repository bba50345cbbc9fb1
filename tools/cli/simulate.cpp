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

int run_simulate(const std::string& image_path, const std::string& out_dir, const std::string& size,
                 diffevent::SimulatorOptions o, std::vector<double> motion, bool srgb, bool grey,
                 int bit_depth, const Common& c) {
  diffevent::Image photo = diffevent::read_image(image_path);
  if (srgb) diffevent::srgb_to_linear(photo);
  if (grey) photo = photo.to_grey();  // like a DAVIS APS frame
  if (!size.empty()) {
    const auto [w, h] = parse_size(size);
    o.width = w;
    o.height = h;
    // Scale the photo to cover the sensor with a margin for the motion, keeping its aspect.
    const double scale = 1.15 * std::max(double(w) / photo.width(), double(h) / photo.height());
    photo =
        diffevent::resize(photo, std::max(h, static_cast<int>(std::lround(photo.height() * scale))),
                          std::max(w, static_cast<int>(std::lround(photo.width() * scale))));
  }
  const uint64_t seed = o.seed;
  diffevent::CameraMotion m;
  if (motion.empty()) {
    // A seeded random motion: 10-24 px of translation, small rotation and zoom.
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> len(10, 24), ang(0, 2 * M_PI), rot(-0.03, 0.03),
        zm(0.97, 1.03);
    const double l = len(rng), a = ang(rng);
    m.dx_px = l * std::cos(a);
    m.dy_px = l * std::sin(a);
    m.rotation_rad = rot(rng);
    m.zoom = zm(rng);
  } else {
    if (motion.size() != 4)
      throw Error(ErrorCode::kInvalidArgument, "--motion expects dx,dy,rotation_rad,zoom");
    m = {motion[0], motion[1], motion[2], motion[3]};
  }
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
               {"motion",
                {{"dx_px", m.dx_px},
                 {"dy_px", m.dy_px},
                 {"rotation_rad", m.rotation_rad},
                 {"zoom", m.zoom}}},
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
  struct Args {
    std::string image, out, size;
    diffevent::SimulatorOptions o;  // the defaults shown by --help
    std::vector<double> motion;
    bool srgb = false, grey = false;
    int depth = 8;
  };
  auto a = std::make_shared<Args>();
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
  return {sim, [a, &c] {
            return run_simulate(a->image, a->out, a->size, a->o, a->motion, a->srgb, a->grey,
                                a->depth, c);
          }};
}

}  // namespace diffevent_cli
