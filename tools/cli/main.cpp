// diffevent command-line tool: simulate, edi, eval, info, convert; with LibTorch also deblur,
// train-prior and benchmark.
// Exit codes: 0 success, 1..8 diffevent::ErrorCode of the failure, 64 usage error.
//
// Built twice when LibTorch is there: `diffevent` without it (DIFFEVENT_DIFFUSION_HELPER), which
// hands a diffusion subcommand's whole command line to `diffevent-diffusion` (this file with
// DIFFEVENT_HAVE_TORCH, installed in libexec/diffevent/), so the event subcommands start
// without loading LibTorch.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <thread>

#ifdef DIFFEVENT_DIFFUSION_HELPER
#include <unistd.h>

#include <cerrno>
#include <cstring>
#endif

#include "core/check.hpp"
#include "diffevent/diffevent.hpp"
#include "usage.hpp"
#include "util.hpp"

#ifdef DIFFEVENT_HAVE_TORCH
#include <atomic>

#include "benchmark.hpp"
#include "diffevent/deblur.hpp"
#include "diffevent/prior_training.hpp"
#endif

namespace fs = std::filesystem;

// SIGINT, SIGTERM and SIGHUP outside a cancellable job: remove the temporary files of the
// writers in flight (no half-written .NAME.tmp... is left), then end as the signal would.
extern "C" void on_terminating_signal(int sig) {
  diffevent::remove_temporary_files();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

using diffevent::Error;
using diffevent::ErrorCode;
using json = nlohmann::json;

namespace {

using diffevent_cli::write_text_atomically;

void ensure_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw Error(ErrorCode::kIoError,
                fmt::format("cannot create folder '{}': {}", dir, ec.message()));
}

diffevent::Exposure parse_exposure(const std::string& s) {
  const auto colon = s.find(':');
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    size_t a = 0, b = 0;
    const long long t0 = std::stoll(s.substr(0, colon), &a);
    const long long t1 = std::stoll(s.substr(colon + 1), &b);
    if (a != colon || b != s.size() - colon - 1) throw std::invalid_argument("trailing");
    if (t1 <= t0)
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("--exposure {}: the end must be after the start", s));
    return {t0, t1};
  } catch (const Error&) {
    throw;
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("--exposure '{}': expected T0:T1 in microseconds (or 'span')", s));
  }
}

std::pair<int, int> parse_size(const std::string& s) {
  int w = 0, h = 0;
  char extra = 0;
  if (std::sscanf(s.c_str(), "%dx%d%c", &w, &h, &extra) != 2 || w < 16 || h < 16 || w > 8192 ||
      h > 8192)
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("--size '{}': expected WxH with sides in [16, 8192]", s));
  return {w, h};
}

// Reads events and makes their sensor size agree with an image when the file stated none.
diffevent::EventFile load_events(const std::string& path, const diffevent::Image* image,
                                 bool sort) {
  diffevent::ReadOptions ro;
  ro.sort_if_unsorted = sort;
  diffevent::EventFile ef = diffevent::read_events(path, ro);
  if (image && ef.size_inferred) {
    const auto& e = ef.events;
    if (e.width() <= image->width() && e.height() <= image->height()) {
      ef.events = std::move(ef.events).with_sensor_size(image->width(), image->height());
      ef.size_inferred = false;
    }
  }
  return ef;
}

struct Common {
  bool json_out = false;
};

int run_simulate(const std::string& image_path, const std::string& out_dir, const std::string& size,
                 long long exposure_us, double threshold, double sigma, double noise_hz,
                 double leak_hz, long long refractory_us, unsigned long long seed,
                 std::vector<double> motion, bool srgb, bool grey, int bit_depth,
                 long long max_events, const Common& c) {
  diffevent::Image photo = diffevent::read_image(image_path);
  if (srgb) diffevent::srgb_to_linear(photo);
  if (grey) photo = photo.to_grey();  // like a DAVIS APS frame
  diffevent::SimulatorOptions o;
  o.max_events = max_events;
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
  o.exposure_us = exposure_us;
  o.c_pos = o.c_neg = threshold;
  o.threshold_sigma = sigma;
  o.shot_noise_hz = noise_hz;
  o.leak_hz = leak_hz;
  o.refractory_us = refractory_us;
  o.seed = seed;
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
               {"threshold", threshold},
               {"threshold_sigma", sigma},
               {"noise_hz", noise_hz},
               {"leak_hz", leak_hz},
               {"refractory_us", refractory_us},
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

// The exposure from --exposure (T0:T1, or "span" for the events' own time span), else from the
// events file; `source` says which.
diffevent::Exposure resolve_exposure(const std::string& arg, const diffevent::EventFile& ef,
                                     const std::string& path, std::string* source) {
  if (!arg.empty() && arg != "span") {
    *source = "command line";
    return parse_exposure(arg);
  }
  if (arg == "span") {
    if (ef.events.empty())
      throw Error(ErrorCode::kInvalidArgument,
                  fmt::format("'{}': no events, so --exposure span is undefined", path));
    *source = "event span";
    return {ef.events.t_begin(), ef.events.t_end() + 1};
  }
  if (!ef.exposures.empty()) {
    *source = "events file";
    return ef.exposures.front();
  }
  throw Error(
      ErrorCode::kInvalidArgument,
      fmt::format("'{}' does not state the exposure: pass --exposure T0:T1 (us) or --exposure span",
                  path));
}

int run_edi(const std::string& blur_path, const std::string& events_path,
            const std::string& exposure_s, double threshold, std::optional<double> c_pos,
            std::optional<double> c_neg, bool auto_threshold, const std::string& out, int frames,
            const std::string& frames_dir, bool srgb, int threads, bool sort, int bit_depth,
            const std::string& ref, const Common& c) {
  if (frames > 0 && frames_dir.empty())
    throw Error(ErrorCode::kInvalidArgument, "--frames needs --frames-dir");
  DIFFEVENT_CHECK(frames >= 0, ErrorCode::kInvalidArgument, "--frames {}: expected a count >= 0",
                  frames);
  const diffevent::Image blur = diffevent::read_image(blur_path);
  // The frames are computed together: bounded before anything is written.
  constexpr double kMaxFrameBytes = 1 << 30;
  const double frame_bytes = 4.0 * static_cast<double>(blur.size());
  DIFFEVENT_CHECK(
      frames * frame_bytes <= kMaxFrameBytes, ErrorCode::kInvalidArgument,
      "--frames {}: {} frames of {}x{}x{} floats need {:.1f} GB; at most {} fit in 1 GB", frames,
      frames, blur.width(), blur.height(), blur.channels(), frames * frame_bytes / 1e9,
      static_cast<long long>(kMaxFrameBytes / frame_bytes));
  diffevent::EventFile ef = load_events(events_path, &blur, sort);
  std::string exposure_source;
  const diffevent::Exposure exp = resolve_exposure(exposure_s, ef, events_path, &exposure_source);
  diffevent::EdiOptions o;
  for (const auto& [name, v] :
       {std::pair<const char*, std::optional<double>>{"--threshold", threshold},
        {"--threshold-pos", c_pos},
        {"--threshold-neg", c_neg}})
    DIFFEVENT_CHECK(!v || (std::isfinite(*v) && *v > 0), ErrorCode::kInvalidArgument,
                    "{} {}: a contrast threshold must be a finite number > 0", name, v.value_or(0));
  o.thresholds.c_pos = c_pos.value_or(threshold);
  o.thresholds.c_neg = c_neg.value_or(threshold);
  o.linearize_srgb = srgb;
  DIFFEVENT_CHECK(threads >= 0, ErrorCode::kInvalidArgument,
                  "--threads {}: expected a count >= 0 (0: every core)", threads);
  o.num_threads = threads > 0
                      ? threads
                      : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
  const auto [first, last] = ef.events.index_range(exp.t0_us, exp.t1_us);
  json result = {{"exposure_us", {exp.t0_us, exp.t1_us}},
                 {"exposure_source", exposure_source},
                 {"events_in_exposure", last - first}};
  if (auto_threshold) {
    const auto est = diffevent::Edi(o).estimate_threshold(blur, ef.events, exp);
    o.thresholds.c_pos = o.thresholds.c_neg = est.c;
    result["auto_threshold"] = {{"c", est.c},
                                {"energy", est.energy},
                                {"evaluations", est.evaluations},
                                {"at_bound", est.at_bound}};
    if (est.at_bound)
      std::cerr << fmt::format(
          "diffevent: warning: the estimated threshold {:.3f} is at the end of the search "
          "interval; "
          "consider --threshold\n",
          est.c);
  }
  result["threshold"] = {{"c_pos", o.thresholds.c_pos}, {"c_neg", o.thresholds.c_neg}};
  const diffevent::Edi edi(o);
  const diffevent::Image sharp = edi.deblur(blur, ef.events, exp);
  diffevent::write_image(out, sharp, bit_depth);
  result["output"] = out;
  if (frames > 0) {
    ensure_dir(frames_dir);
    std::vector<diffevent::TimestampUs> times;
    const auto video = edi.frames(blur, ef.events, exp, frames, &times);
    for (size_t k = 0; k < video.size(); ++k)
      diffevent::write_image(fmt::format("{}/frame_{:04d}.png", frames_dir, k), video[k],
                             bit_depth);
    result["frames"] = {{"count", frames}, {"dir", frames_dir}, {"times_us", times}};
  }
  if (!ref.empty()) {
    const diffevent::Image gt = diffevent::read_image(ref);
    result["psnr_db"] = diffevent::psnr(gt, sharp);
    result["ssim"] = diffevent::ssim(gt, sharp);
    result["blur_psnr_db"] = diffevent::psnr(gt, blur);
    result["blur_ssim"] = diffevent::ssim(gt, blur);
  }
  if (c.json_out) {
    std::cout << result.dump() << "\n";
  } else {
    std::cout << fmt::format(
        "EDI: c+ = {:.4f}, c- = {:.4f}, exposure [{}, {}] us ({}), {} events -> {}\n",
        o.thresholds.c_pos, o.thresholds.c_neg, exp.t0_us, exp.t1_us, exposure_source,
        result["events_in_exposure"].get<size_t>(), out);
    if (!ref.empty())
      std::cout << fmt::format("PSNR {:.2f} dB (blurry {:.2f} dB), SSIM {:.4f} (blurry {:.4f})\n",
                               result["psnr_db"].get<double>(),
                               result["blur_psnr_db"].get<double>(), result["ssim"].get<double>(),
                               result["blur_ssim"].get<double>());
  }
  return 0;
}

int run_eval(const std::string& ref, const std::string& test, const Common& c) {
  const auto a = diffevent::read_image(ref);
  const auto b = diffevent::read_image(test);
  const double p = diffevent::psnr(a, b), s = diffevent::ssim(a, b);
  if (c.json_out) {
    std::cout << json{{"psnr_db", p},
                      {"ssim", s},
                      {"ssim_window", "gaussian 11x11 sigma 1.5, per channel"}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format("PSNR {:.3f} dB  SSIM {:.4f}\n", p, s);
  }
  return 0;
}

int run_info(const std::string& path, bool sort, const Common& c) {
  // Streams the file (constant memory when it states its sensor size).
  diffevent::ReadOptions ro;
  ro.sort_if_unsorted = sort;
  size_t count = 0, on = 0;
  diffevent::TimestampUs t_begin = 0, t_end = 0;
  auto tally = [&](const diffevent::EventStream& e) {
    if (e.empty()) return true;
    if (count == 0) t_begin = e.t_begin();
    t_end = e.t_end();
    count += e.size();
    for (auto p : e.p()) on += p > 0;
    return true;
  };
  if (!sort) ro.on_chunk = tally;
  const diffevent::EventFile ef = diffevent::read_events(path, ro);
  if (!ro.on_chunk) tally(ef.events);
  const auto& e = ef.events;
  json j = {{"file", path},         {"format", diffevent::format_name(ef.format)},
            {"events", count},      {"width", e.width()},
            {"height", e.height()}, {"size_inferred", ef.size_inferred},
            {"events_on", on},      {"events_off", count - on}};
  if (count > 0) {
    j["t_begin_us"] = t_begin;
    j["t_end_us"] = t_end;
    j["duration_us"] = t_end - t_begin;
  }
  json ex = json::array();
  for (const auto& x : ef.exposures) ex.push_back({x.t0_us, x.t1_us});
  j["exposures_us"] = ex;
  j["has_image"] = ef.image.has_value();
  if (c.json_out) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << fmt::format("{}: {} file, {} events ({} ON, {} OFF), sensor {}x{}{}\n", path,
                             diffevent::format_name(ef.format), count, on, count - on, e.width(),
                             e.height(), ef.size_inferred ? " (inferred from coordinates)" : "");
    if (count > 0)
      std::cout << fmt::format("time [{}, {}] us, span {} us\n", t_begin, t_end, t_end - t_begin);
    for (const auto& x : ef.exposures)
      std::cout << fmt::format("exposure [{}, {}] us\n", x.t0_us, x.t1_us);
  }
  return 0;
}

int run_convert(const std::string& in, const std::string& out, const std::string& fmt_name,
                bool sort, const Common& c) {
  diffevent::ReadOptions ro;
  ro.sort_if_unsorted = sort;
  const auto ef = diffevent::read_events(in, ro);
  diffevent::WriteOptions wo;
  if (!fmt_name.empty()) wo.format = diffevent::parse_format(fmt_name);
  if (!ef.exposures.empty()) wo.exposure = ef.exposures.front();
  wo.image = ef.image;
  diffevent::write_events(out, ef.events, wo);
  if (c.json_out) {
    std::cout << json{{"input", in}, {"output", out}, {"events", ef.events.size()}}.dump() << "\n";
  } else {
    std::cout << fmt::format("wrote {} events to {}\n", ef.events.size(), out);
  }
  return 0;
}

#ifdef DIFFEVENT_HAVE_TORCH
std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted.store(true); }

struct DeblurArgs {
  std::string blur, events, exposure, prior, residual_prior, out, residual_out,
      enhance = diffevent::deblur_defaults::kGuidedEnhancer ? "guided" : "identity", device = "cpu",
      guidance = "proximal", ref,
      integral = diffevent::deblur_defaults::kRampIntegral ? "ramp" : "step";
  double threshold = 0.2, s = diffevent::deblur_defaults::kS, s_r = diffevent::deblur_defaults::kSR,
         lambda_tv = diffevent::deblur_defaults::kLambdaTv,
         lambda_l1 = diffevent::deblur_defaults::kLambdaL1,
         start = diffevent::deblur_defaults::kStart,
         threshold_sigma = diffevent::deblur_defaults::kThresholdSigma;
  int samples = diffevent::deblur_defaults::kSamples;
  bool auto_threshold = false, srgb = false, ddim = false;
  int steps = diffevent::deblur_defaults::kSteps, bit_depth = 8;
  std::string respacing;
  unsigned long long seed = 0;
  std::optional<long long> tau_us;
  std::string preset = "balanced";
  bool antithetic = diffevent::deblur_defaults::kAntithetic;
  std::optional<double> threshold_pos, threshold_neg;
  int threads = 0;
  std::function<bool(const char*)> given;  ///< Whether a flag was on the command line.
};

// The shipped prior for x or r (diffevent::find_shipped_prior: $DIFFEVENT_MODELS, the install
// this program belongs to, from PREFIX/bin or PREFIX/libexec/diffevent, then the source tree's
// models/), or "" with a note on stderr when none is installed: deblur then runs the analytic
// prior, as --help says.
std::string shipped_prior(diffevent::PriorRole role, int channels) {
  std::vector<std::string> prefixes;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    prefixes = {exe.parent_path().parent_path().string(),
                exe.parent_path().parent_path().parent_path().string()};
  try {
    return diffevent::find_shipped_prior(role, channels, prefixes);
  } catch (const Error& e) {
    std::cerr << "diffevent: note: " << e.what() << "; using the analytic prior\n";
    return "";
  }
}

int run_deblur(const DeblurArgs& a, bool sort, const Common& c) {
  const diffevent::Image blur = diffevent::read_image(a.blur);
  diffevent::EventFile ef = load_events(a.events, &blur, sort);
  if (blur.width() != ef.events.width() || blur.height() != ef.events.height()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the blurry image is {}x{} but the events come from a {}x{} sensor",
                            blur.width(), blur.height(), ef.events.width(), ef.events.height()));
  }
  std::string exposure_source;
  const diffevent::Exposure exp = resolve_exposure(a.exposure, ef, a.events, &exposure_source);
  json result = {{"exposure_us", {exp.t0_us, exp.t1_us}},
                 {"exposure_source", exposure_source},
                 {"preset", a.preset}};
  // The preset first; flags given on the command line override it.
  diffevent::DeblurOptions o = diffevent::deblur_options(diffevent::parse_deblur_preset(a.preset));
  o.thresholds = diffevent::Thresholds::symmetric(a.threshold);
  if (a.threshold_pos) o.thresholds.c_pos = *a.threshold_pos;
  if (a.threshold_neg) o.thresholds.c_neg = *a.threshold_neg;
  o.auto_threshold = a.auto_threshold;
  o.linearize_srgb = a.srgb;
  if (a.enhance == "guided") {
    o.enhancer.enhancer = diffevent::Enhancer::kGuided;
  } else if (a.enhance.size() > 3 && (a.enhance.substr(a.enhance.size() - 3) == ".pt" ||
                                      a.enhance.find('/') != std::string::npos)) {
    o.enhancer.enhancer = diffevent::Enhancer::kTorchScript;  // a TorchScript enhancer file
    o.enhancer.enhancer_path = a.enhance;
  } else if (a.enhance == "identity") {
    o.enhancer.enhancer = diffevent::Enhancer::kIdentity;
  } else {
    throw Error(
        ErrorCode::kInvalidArgument,
        fmt::format("--enhance '{}': expected identity or guided (or a TorchScript .pt file)",
                    a.enhance));
  }
  std::shared_ptr<diffevent::DiffusionPrior> xp, rp;
  diffevent::TorchScriptPriorOptions po;
  po.device = a.device;
  po.intra_op_threads = a.threads;
  DIFFEVENT_CHECK(
      a.device == "cpu" || (!a.prior.empty() && a.prior != "analytic") ||
          (!a.residual_prior.empty() && a.residual_prior != "none"),
      ErrorCode::kInvalidArgument,
      "--device {}: only TorchScript priors (--prior, --residual-prior) run on a device; the "
      "analytic prior runs on the CPU",
      a.device);
  // --prior: a file, "analytic", or (default) the shipped prior when there is one.
  const std::string x_path = a.prior == "analytic" ? ""
                             : a.prior.empty()
                                 ? shipped_prior(diffevent::PriorRole::kX, blur.channels())
                                 : a.prior;
  const std::string r_path = a.residual_prior == "none" ? ""
                             : a.residual_prior.empty()
                                 ? (a.prior.empty() && o.residual_prior
                                        ? shipped_prior(diffevent::PriorRole::kR, blur.channels())
                                        : "")
                                 : a.residual_prior;
  if (!r_path.empty()) o.residual_prior = true;  // named on the command line
  if (!x_path.empty()) xp = diffevent::load_prior(x_path, po);
  if (!r_path.empty()) rp = diffevent::load_prior(r_path, po);
  result["x_prior"] = x_path.empty() ? "analytic" : x_path;
  result["r_prior"] = r_path.empty() ? "none" : r_path;
  diffevent::SamplerOptions& so = o.sampler;
  so.steps = a.steps;
  so.respacing = a.respacing;
  so.seed = a.seed;
  so.s = a.s;
  so.s_r = a.s_r;
  so.lambda_tv = a.lambda_tv;
  so.lambda_l1 = a.lambda_l1;
  so.start = a.start;
  so.ddim = a.ddim;
  o.threshold_sigma = a.threshold_sigma;
  if (a.given("--samples")) o.samples = a.samples;
  if (a.given("--antithetic")) so.antithetic = a.antithetic;
  if (a.tau_us) o.tau_us = *a.tau_us;
  o.interpolation = diffevent_cli::parse_integral(a.integral);
  if (a.guidance == "sigma2")
    so.guidance = diffevent::GuidanceMode::kGradientSigma2;
  else if (a.guidance == "constant")
    so.guidance = diffevent::GuidanceMode::kGradientConstant;
  else if (a.guidance != "proximal")
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("--guidance '{}': expected proximal, sigma2 or constant", a.guidance));
  so.cancel = &g_interrupted;
  const auto t_start = std::chrono::steady_clock::now();
  diffevent_cli::Progress progress("deblur", "step");
  progress.note(fmt::format("{}x{} {}, preset {}, x prior {}, r prior {}", blur.width(),
                            blur.height(), blur.channels() == 1 ? "grey" : "RGB", a.preset,
                            xp ? fs::path(x_path).filename().string() : "analytic",
                            rp ? fs::path(r_path).filename().string() : "none"));
  so.progress = [&](int done, int total) {
    progress.update(done, total);
    return !g_interrupted.load();
  };
  std::signal(SIGINT, on_sigint);
  const diffevent::DeblurResult res = diffevent::deblur(blur, ef.events, exp, xp, rp, o);
  std::signal(SIGINT, on_terminating_signal);
  if (res.threshold_estimated) result["auto_threshold"] = res.c_pos;
  result["threshold"] = res.c_pos;
  result["tau_us"] = a.tau_us ? *a.tau_us : exp.mid_us();
  diffevent::write_image(a.out, res.sharp, a.bit_depth);
  if (!a.residual_out.empty()) {
    diffevent::Image r = res.residual;
    for (float& v : r.values()) v += 0.5f;  // residual shown around mid-grey
    diffevent::write_image(a.residual_out, r, a.bit_depth);
  }
  result["output"] = a.out;
  result["network_calls"] = res.network_calls;
  result["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  if (!a.ref.empty()) {
    const diffevent::Image gt = diffevent::read_image(a.ref);
    result["psnr_db"] = diffevent::psnr(gt, res.sharp);
    result["ssim"] = diffevent::ssim(gt, res.sharp);
  }
  if (c.json_out) {
    std::cout << result.dump() << "\n";
  } else {
    const std::string start =
        so.start < 1 ? fmt::format(" from {:g} of the schedule (warm start)", so.start) : "";
    std::cout << fmt::format("deblur: {} steps{}, {} network calls, c = {:.3f} -> {}\n", so.steps,
                             start, res.network_calls, res.c_pos, a.out);
    if (!a.ref.empty())
      std::cout << fmt::format("PSNR {:.2f} dB, SSIM {:.4f}\n", result["psnr_db"].get<double>(),
                               result["ssim"].get<double>());
  }
  return 0;
}

struct TrainArgs {
  std::string init, images, out, resume, checkpoint, device = "cpu";
  int64_t steps = 10000;
  int batch = 16, patch = 64, log_every = 50, checkpoint_every = 500;
  double lr = 1e-4, ema = 0.999;
  uint64_t seed = 0;
  bool linear = false;
  bool residual = false;
  int residual_samples = 64, residual_crop = 96;
  std::vector<int> scales{1};
  double low_noise_fraction = 0.0;
  int low_noise_max_t = 200;
};

int run_train_prior(const TrainArgs& a, const Common& c) {
  // SIGINT from here on (loading, simulating residuals, training) stops after the current step
  // with the prior and a checkpoint saved.
  std::signal(SIGINT, on_sigint);
  struct RestoreSigint {
    ~RestoreSigint() { std::signal(SIGINT, on_terminating_signal); }
  } restore;
  const auto meta = diffevent::load_prior(a.init)->metadata();
  diffevent::TrainingData data =
      diffevent::load_training_images(a.images, meta.channels, !a.linear);
  const int originals = static_cast<int>(data.images.size());
  const int copies =
      diffevent::add_downscaled_copies(data, a.scales, a.residual ? a.residual_crop : a.patch);
  if (copies > 0)
    std::cerr << fmt::format("train-prior: {} images and {} downscaled copies (scales {})\n",
                             originals, copies, fmt::join(a.scales, ","));
  if (a.residual) {
    // An r prior: residuals y - f(E) x simulated from the photos at the realistic noise level.
    diffevent::ResidualDataOptions ro;
    ro.samples = a.residual_samples;
    ro.crop = a.residual_crop;
    ro.seed = a.seed;
    std::cerr << fmt::format("train-prior: simulating {} residual samples ({}x{} crops)\n",
                             ro.samples, ro.crop, ro.crop);
    data = diffevent::make_residual_training_data(data, ro);
  }
  diffevent::PriorTrainingOptions o;
  o.steps = a.steps;
  o.batch = a.batch;
  o.patch = a.patch;
  o.lr = a.lr;
  o.ema = a.ema;
  o.seed = a.seed;
  o.low_noise_fraction = a.low_noise_fraction;
  o.low_noise_max_t = a.low_noise_max_t;
  o.log_every = a.log_every;
  o.checkpoint_every = a.checkpoint_every;
  o.checkpoint = a.checkpoint.empty() ? a.out + ".ckpt" : a.checkpoint;
  o.device = a.device;
  o.on_progress = [&](const diffevent::TrainingProgress& p) {
    const double left = static_cast<double>(p.total - p.step) / std::max(p.steps_per_second, 1e-9);
    if (c.json_out) {
      std::cerr << json{{"step", p.step},
                        {"total", p.total},
                        {"loss", p.loss},
                        {"steps_per_second", p.steps_per_second}}
                       .dump()
                << "\n";
    } else {
      std::cerr << fmt::format(
          "train-prior: step {}/{}  loss {:.5f}  {:.2f} step/s  {:.0f} s left\n", p.step, p.total,
          p.loss, p.steps_per_second, left);
    }
    return !g_interrupted.load();
  };
  o.cancel = &g_interrupted;
  const auto r = diffevent::train_prior(a.init, data, a.out, o, a.resume);
  if (r.stopped)
    std::cerr << fmt::format("train-prior: interrupted at step {}; continue with --resume {}\n",
                             r.last_step, o.checkpoint);
  std::cout << fmt::format("train-prior: steps {} to {} on {} image(s) -> {} (checkpoint {})\n",
                           r.first_step, r.last_step, data.images.size(), a.out, o.checkpoint);
  return r.stopped ? static_cast<int>(ErrorCode::kCancelled) : 0;
}
#endif

}  // namespace

#ifdef DIFFEVENT_DIFFUSION_HELPER
namespace {

// The subcommands that run in diffevent-diffusion, with their descriptions for --help.
const std::pair<const char*, const char*> kDiffusionCommands[] = {
    {"deblur", "Deblur with the EBRD model and alternating diffusion sampling (Algorithm 1)"},
    {"train-prior", "Train or fine-tune a TorchScript diffusion prior on image patches"},
    {"benchmark",
     "Quality benchmark: EDI variants and deblur on a simulated suite, three noise levels"},
};

// The subcommand named on the command line: the first argument that is not a flag (the global
// options before it, --json and --sort, take no value).
const char* subcommand_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-') return argv[i];
  return nullptr;
}

// Replaces this process with diffevent-diffusion, given the same arguments: beside this program
// (a build tree) or in ../libexec/diffevent/ (an install). Returns only if there is none.
int run_diffusion_helper(const char* command, char** argv) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path dir = ec ? fs::path(argv[0]).parent_path() : self.parent_path();
  const fs::path candidates[] = {dir / "diffevent-diffusion",
                                 dir / ".." / "libexec" / "diffevent" / "diffevent-diffusion"};
  for (const fs::path& helper : candidates) {
    if (::access(helper.c_str(), X_OK) != 0) continue;
    ::execv(helper.c_str(), argv);
    std::cerr << "diffevent: error: cannot run " << helper.string() << ": " << std::strerror(errno)
              << "\n";
    return static_cast<int>(ErrorCode::kIoError);
  }
  std::cerr << "diffevent: error: '" << command
            << "' needs LibTorch, through diffevent-diffusion, which is not "
            << "installed beside this program (looked for " << candidates[0].string() << " and "
            << candidates[1].lexically_normal().string() << ")\n";
  return static_cast<int>(ErrorCode::kUnsupported);
}

}  // namespace
#endif

int main(int argc, char** argv) {
#ifdef DIFFEVENT_DIFFUSION_HELPER
  if (const char* command = subcommand_of(argc, argv)) {
    for (const auto& [name, description] : kDiffusionCommands)
      if (std::strcmp(command, name) == 0) return run_diffusion_helper(command, argv);
  }
#endif
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_terminating_signal);
  CLI::App app{"diffevent: event-guided deblurring (EDI double integral, simulator, formats)"};
  app.set_version_flag("--version", std::string(DIFFEVENT_VERSION_STRING));
  app.require_subcommand(1);
  app.fallthrough();  // global flags (--json, --sort) may follow the subcommand
  app.option_defaults()->always_capture_default();  // --help shows every default
  Common common;
  app.add_flag("--json", common.json_out, "Print machine-readable JSON on stdout");
  bool sort = false;
  app.add_flag("--sort", sort, "Sort events by time instead of rejecting unsorted files");

  auto* sim = app.add_subcommand(
      "simulate", "Simulate a blurry frame and its events from a photo (ESIM model)");
  std::string sim_image, sim_out, sim_size;
  long long sim_exposure = 20000, sim_refr = 0;
  double sim_c = 0.2, sim_sigma = 0.0, sim_noise = 0.0, sim_leak = 0.0;
  unsigned long long sim_seed = 0;
  std::vector<double> sim_motion;
  bool sim_srgb = false, sim_grey = false;
  int sim_depth = 8;
  sim->add_option("-i,--image", sim_image, "Sharp source photo (PNG or PFM)")->required();
  sim->add_option("-o,--out", sim_out, "Output folder")->required();
  sim->add_option("--size", sim_size, "Sensor size WxH (the photo is scaled to cover it)");
  sim->add_option("--exposure-us", sim_exposure, "Exposure time in microseconds");
  sim->add_option("-c,--threshold", sim_c, "Contrast threshold (log units)");
  sim->add_option("--threshold-sigma", sim_sigma, "Per-pixel threshold mismatch (std. dev.)");
  sim->add_option("--noise-hz", sim_noise, "Shot-noise event rate per pixel (Hz)");
  sim->add_option("--leak-hz", sim_leak, "Leak event rate per pixel (Hz)");
  sim->add_option("--refractory-us", sim_refr, "Refractory period (us)");
  sim->add_option("--seed", sim_seed, "Random seed (noise and default motion)");
  sim->add_option("--motion", sim_motion,
                  "dx_px,dy_px,rotation_rad,zoom over the exposure (default: random from seed)")
      ->delimiter(',')
      ->default_str("");
  sim->add_flag("--srgb", sim_srgb, "The photo is sRGB-encoded: linearise it first");
  sim->add_flag("--grey", sim_grey, "Simulate a grey sensor (luminance of the photo)");
  sim->add_option("--bit-depth", sim_depth, "PNG bit depth of blur.png/sharp.png (8 or 16)");
  long long sim_max_events = diffevent::SimulatorOptions{}.max_events;
  sim->add_option("--max-events", sim_max_events,
                  "Refuse simulations beyond this many events (memory: ~40 bytes each)");

  auto* edi = app.add_subcommand("edi", "Deblur with the EDI double integral (sharp = blurry / E)");
  std::string e_blur, e_events, e_exposure, e_out, e_frames_dir, e_ref;
  double e_c = 0.2, e_cp = 0, e_cn = 0;
  bool e_auto = false, e_srgb = false;
  int e_frames = 0, e_threads = 0, e_depth = 8;
  edi->add_option("-b,--blur", e_blur, "Blurry frame (PNG or PFM)")->required();
  edi->add_option("-e,--events", e_events, "Events file (any supported format)")->required();
  edi->add_option("--exposure", e_exposure,
                  "T0:T1 in us, or 'span' for the events' time span (default: from the file)");
  auto* thr = edi->add_option("-c,--threshold", e_c, "Contrast threshold c for both polarities");
  edi->add_option("--threshold-pos", e_cp, "ON threshold (overrides --threshold)")->default_str("");
  edi->add_option("--threshold-neg", e_cn, "OFF threshold (overrides --threshold)")
      ->default_str("");
  edi->add_flag("--auto-threshold", e_auto, "Estimate c by minimising EDI's sharpness energy")
      ->excludes(thr);
  edi->add_option("-o,--out", e_out, "Sharp output (PNG or PFM)")->required();
  edi->add_option("--frames", e_frames, "Also write N frames across the exposure");
  edi->add_option("--frames-dir", e_frames_dir, "Folder for --frames");
  edi->add_flag("--srgb", e_srgb, "The blurry frame is sRGB-encoded: linearise before dividing");
  edi->add_option("-j,--threads", e_threads, "Integrator threads (0: every core)");
  edi->add_option("--bit-depth", e_depth, "PNG bit depth of outputs (8 or 16)");
  edi->add_option("-r,--ref", e_ref, "Ground-truth sharp frame: also report PSNR/SSIM");

  auto* ev = app.add_subcommand("eval", "PSNR and SSIM of a test image against a reference");
  std::string ev_ref, ev_test;
  ev->add_option("-r,--ref", ev_ref, "Reference image")->required();
  ev->add_option("-t,--test", ev_test, "Test image")->required();

  auto* info = app.add_subcommand("info", "Describe an event file");
  std::string info_file;
  info->add_option("file", info_file, "Event file")->required();

  auto* conv = app.add_subcommand("convert", "Convert an event file to another format");
  std::string cv_in, cv_out, cv_fmt;
  conv->add_option("input", cv_in, "Input event file")->required();
  conv->add_option("output", cv_out, "Output (.txt, .h5, .npy, .npz, .raw, .dat, .aedat4)")
      ->required();
  conv->add_option(
      "-f,--format", cv_fmt,
      "Output format: text, hdf5, npy, npz, evt2, dat or aedat4 (default: from the extension)");

#ifdef DIFFEVENT_HAVE_TORCH
  auto* db = app.add_subcommand(
      "deblur", "Deblur with the EBRD model and alternating diffusion sampling (Algorithm 1)");
  DeblurArgs da;
  db->add_option("-b,--blur", da.blur, "Blurry frame (PNG or PFM)")->required();
  db->add_option("-e,--events", da.events, "Events file (any supported format)")->required();
  db->add_option("--exposure", da.exposure, "T0:T1 in us, or 'span' (default: from the file)");
  auto* dthr =
      db->add_option("-c,--threshold", da.threshold, "Contrast threshold c for both polarities");
  db->add_option("--threshold-pos", da.threshold_pos, "ON threshold (overrides --threshold)");
  db->add_option("--threshold-neg", da.threshold_neg, "OFF threshold (overrides --threshold)");
  db->add_flag("--auto-threshold", da.auto_threshold, "Estimate c as EDI does")->excludes(dthr);
  db->add_option("--prior", da.prior,
                 "TorchScript prior for x, or 'analytic' (default: the shipped prior if installed, "
                 "else analytic)");
  db->add_option("--residual-prior", da.residual_prior,
                 "TorchScript prior for r, or 'none' (default: the shipped one with the shipped x "
                 "prior, else none)");
  db->add_option(
        "--steps", da.steps,
        "Sampling steps, spaced over the whole schedule (the warm start runs start * steps)")
      ->capture_default_str();
  db->add_option("--respacing", da.respacing,
                 "guided-diffusion respacing spec (\"100\", \"ddim25\"; overrides --steps)");
  db->add_option("--seed", da.seed, "Random seed");
  db->add_option("--device", da.device, "cpu or cuda:N");
  db->add_option("-j,--threads", da.threads,
                 "CPU threads of the prior network (0: LibTorch's default, every core)");
  db->add_option("--enhance", da.enhance,
                 "f(E): identity, guided, or a TorchScript enhancer file (.pt)")
      ->capture_default_str();
  db->add_option("--guidance", da.guidance,
                 "proximal (default), sigma2 (slides eq. 13) or constant (GDP)");
  db->add_option("--s", da.s, "Data weight of the x step")->capture_default_str();
  db->add_option("--s-r", da.s_r, "Data weight of the r step")->capture_default_str();
  db->add_option("--lambda-tv", da.lambda_tv, "TV weight on x")->capture_default_str();
  db->add_option("--lambda-l1", da.lambda_l1, "L1 weight on r")->capture_default_str();
  db->add_option("--start", da.start,
                 "Start of sampling as a fraction of the schedule: 1 = pure noise; below 1 a warm "
                 "start from the EDI estimate (about start * steps steps run)")
      ->capture_default_str();
  db->add_option("--threshold-sigma", da.threshold_sigma,
                 "Threshold noise model: the sensor's per-pixel threshold mismatch std (0: off, "
                 "uniform data weights)")
      ->capture_default_str();
  db->add_option("--integral", da.integral,
                 "E between events: step (EDI's jumps) or ramp (docs/edi.md)")
      ->capture_default_str();
  db->add_option("--tau", da.tau_us,
                 "Reference time of the sharp frame in us (default: mid-exposure)");
  db->add_option("-p,--preset", da.preset,
                 "fast | balanced | best: posterior samples and residual prior (docs/sampler.md, "
                 "\"Presets\"). With the "
                 "shipped priors on 2 CPU cores a 160 x 120 frame takes about 2.7 s (fast), 3 s "
                 "(balanced) or 12 s (best), "
                 "a DAVIS 346 x 260 frame 6, 8 or 58 s")
      ->capture_default_str();
  db->add_option("--samples", da.samples,
                 "Posterior samples averaged, one batch (default: the preset's)")
      ->default_str("");
  db->add_option("--antithetic", da.antithetic,
                 "Antithetic noise pairs among the samples (default: the preset's)")
      ->default_str("");
  db->add_flag("--ddim", da.ddim, "DDIM steps instead of DDPM");
  db->add_flag("--srgb", da.srgb, "The blurry frame is sRGB-encoded");
  db->add_option("-o,--out", da.out, "Sharp output (PNG or PFM)")->required();
  db->add_option("--residual-out", da.residual_out, "Residual output (r + 0.5)");
  db->add_option("-r,--ref", da.ref, "Ground-truth sharp frame: also report PSNR/SSIM");
  db->add_option("--bit-depth", da.bit_depth, "PNG bit depth (8 or 16)");
  da.given = [db](const char* flag) { return db->count(flag) > 0; };

  auto* tp = app.add_subcommand(
      "train-prior", "Train or fine-tune a TorchScript diffusion prior on image patches");
  TrainArgs ta;
  tp->add_option("--init", ta.init,
                 "TorchScript prior to start from (tools/priors/export_prior.py makes one)")
      ->required();
  tp->add_option("--images", ta.images, "Folder of training images (PNG, PFM)")->required();
  tp->add_option("--out", ta.out, "Trained prior (EMA weights, TorchScript)")->required();
  tp->add_option("--steps", ta.steps, "Total steps to reach (default 10000)");
  tp->add_option("--batch", ta.batch, "Patches per step (default 16)");
  tp->add_option("--patch", ta.patch, "Patch side in pixels (default 64)");
  tp->add_option("--lr", ta.lr, "Adam learning rate (default 1e-4)");
  tp->add_option("--ema", ta.ema, "EMA decay of the saved weights (default 0.999)");
  tp->add_option("--seed", ta.seed, "Seed of patches, flips, timesteps and noise");
  tp->add_option("--resume", ta.resume, "Continue from this checkpoint");
  tp->add_option("--checkpoint", ta.checkpoint, "Checkpoint file (default OUT.ckpt)");
  tp->add_option("--checkpoint-every", ta.checkpoint_every,
                 "Steps between checkpoints (default 500)");
  tp->add_option("--log-every", ta.log_every, "Steps between progress lines (default 50)");
  tp->add_option("--device", ta.device, "cpu or cuda:N");
  tp->add_flag("--linear", ta.linear, "The images are linear already (default: sRGB, linearised)");
  tp->add_flag("--residual", ta.residual,
               "Train an r prior on residuals y - f(E) x simulated from the photos");
  tp->add_option("--residual-samples", ta.residual_samples,
                 "Residual images to simulate (default 64)");
  tp->add_option("--residual-crop", ta.residual_crop,
                 "Crop side of each simulated sample (default 96)");
  tp->add_option("--scales", ta.scales,
                 "Also train on copies downscaled by these factors, e.g. 1,2,4 (copies smaller "
                 "than a patch are skipped)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  tp->add_option(
      "--low-noise-fraction", ta.low_noise_fraction,
      "Fraction of each batch trained at timesteps below --low-noise-max-t (default 0: uniform)");
  tp->add_option("--low-noise-max-t", ta.low_noise_max_t,
                 "Upper timestep of the low-noise draws (default 200)");

  auto* bm = app.add_subcommand(
      "benchmark",
      "Quality benchmark: EDI variants and deblur on a simulated suite, three noise levels");
  diffevent_cli::BenchmarkArgs ba;
  bm->add_option("--suite", ba.suite, "Suite folder (simulated from --photos when it holds none)")
      ->required();
  bm->add_option("--photos", ba.photos,
                 "Held-out photos to simulate from (default data/photos/heldout)");
  bm->add_option("--crops-per-photo", ba.crops_per_photo, "Samples per photo (default 1)");
  bm->add_option("--size", ba.width, "Sample width (height = 3/4 of it; default 160)");
  bm->add_option("--steps", ba.steps,
                 "Sampler steps of the deblur rows (spaced over the schedule; the warm start runs "
                 "start * steps)")
      ->capture_default_str();
  bm->add_option("--prior", ba.prior, "Trained x prior for the last row");
  bm->add_option("--residual-prior", ba.residual_prior, "Trained r prior for the last row");
  bm->add_option("--seed", ba.seed, "Seed of crops, motion, noise and sampling");
  bm->add_option("--report", ba.report, "Also write the table (markdown) to this file");
  bm->add_option("--levels", ba.levels, "Levels to evaluate (ideal, realistic, hard; default all)")
      ->delimiter(',');
  bm->add_option("--s", ba.s, "Data weight of the x step in the deblur rows")
      ->capture_default_str();
  bm->add_option("--s-r", ba.s_r, "Data weight of the r step in the deblur rows")
      ->capture_default_str();
  bm->add_option("--lambda-tv", ba.lambda_tv, "TV weight on x in the deblur rows")
      ->capture_default_str();
  bm->add_option("--lambda-l1", ba.lambda_l1, "L1 weight on r in the deblur rows")
      ->capture_default_str();
  bm->add_option("--start", ba.start,
                 "Start of sampling in the deblur rows (1: pure noise; below 1: warm start)")
      ->capture_default_str();
  bm->add_option("--threshold-sigma", ba.threshold_sigma,
                 "Threshold noise model of the deblur rows (0: off)")
      ->capture_default_str();
  bm->add_option("--preset", ba.preset, "Preset of the deblur rows: fast, balanced or best")
      ->capture_default_str();
  bm->add_option("--samples", ba.samples,
                 "Posterior samples averaged in the deblur rows (default: the preset's)");
  bm->add_option("--antithetic", ba.antithetic,
                 "1/0: antithetic noise pairs in the deblur rows (default: the preset's)");
  bm->add_option("--enhance", ba.enhance, "f(E) of the deblur rows: guided (default) or identity");
  bm->add_option("--integral", ba.integral,
                 "E of the enhanced-EDI and deblur rows: step (EDI's) or ramp")
      ->capture_default_str();
  bm->add_option("--montage", ba.montage,
                 "Folder for PNG montages: blurry | EDI (enhanced E) | deblur analytic | deblur "
                 "trained | truth");
  bm->add_option("--montage-count", ba.montage_count, "Montages per level (default 3)");
  bm->add_flag("--trained-only", ba.trained_only,
               "Evaluate only the blurry input and the trained priors (sweeps)");
  bm->add_flag("--colour", ba.colour,
               "Colour suite: RGB photos, events from their luminance (default: grey)");
#elif defined(DIFFEVENT_DIFFUSION_HELPER)
  // Listed for --help; a command line naming one never reaches the parser (run_diffusion_helper).
  for (const auto& [name, description] : kDiffusionCommands)
    app.add_subcommand(name, description)->allow_extras();
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    const std::string hint = diffevent_cli::suggest(app, argc, argv);
    if (hint.find("is not a subcommand") !=
        std::string::npos)  // CLI11's words would be "a subcommand is required"
      std::cerr << "diffevent: " << hint << " (run with --help for the subcommands)\n";
    else
      std::cerr << "diffevent: " << e.what() << (hint.empty() ? "" : "; " + hint)
                << " (run with --help for usage)\n";
    return 64;
  }
  try {
    if (*sim)
      return run_simulate(sim_image, sim_out, sim_size, sim_exposure, sim_c, sim_sigma, sim_noise,
                          sim_leak, sim_refr, sim_seed, sim_motion, sim_srgb, sim_grey, sim_depth,
                          sim_max_events, common);
    if (*edi)
      return run_edi(e_blur, e_events, e_exposure, e_c,
                     edi->count("--threshold-pos") ? std::optional<double>(e_cp) : std::nullopt,
                     edi->count("--threshold-neg") ? std::optional<double>(e_cn) : std::nullopt,
                     e_auto, e_out, e_frames, e_frames_dir, e_srgb, e_threads, sort, e_depth, e_ref,
                     common);
    if (*ev) return run_eval(ev_ref, ev_test, common);
    if (*info) return run_info(info_file, sort, common);
    if (*conv) return run_convert(cv_in, cv_out, cv_fmt, sort, common);
#ifdef DIFFEVENT_HAVE_TORCH
    if (*db) return run_deblur(da, sort, common);
    if (*tp) return run_train_prior(ta, common);
    if (*bm) {
      if (ba.photos.empty()) ba.photos = "data/photos/heldout";
      ba.height = ba.width * 3 / 4;
      ba.json = common.json_out;
      ba.cancel = &g_interrupted;
      std::signal(SIGINT, on_sigint);
      const int rc = diffevent_cli::run_benchmark(ba);
      std::signal(SIGINT, on_terminating_signal);
      return rc;
    }
#endif
  } catch (const Error& e) {
    std::cerr << "diffevent: error: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << "diffevent: error: out of memory\n";
    return static_cast<int>(ErrorCode::kOutOfMemory);
  } catch (const std::exception& e) {
    std::cerr << "diffevent: error: " << e.what() << "\n";
    return static_cast<int>(ErrorCode::kInternal);
  }
  return 64;
}
