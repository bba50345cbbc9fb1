// diffevent edi: EDI deblurring (sharp = blurry / E), frames across the exposure, the threshold
// search.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <thread>

#include "cli.hpp"
#include "core/check.hpp"

using diffevent::Error;
using diffevent::ErrorCode;

namespace diffevent_cli {
namespace {

int run_edi(const std::string& blur_path, const std::string& events_path,
            const std::string& exposure_s, const ThresholdFlags& flags, bool auto_threshold,
            const std::string& range, const std::string& out, int frames,
            const std::string& frames_dir, bool srgb, int threads, bool sort, int bit_depth,
            const std::string& ref, const SensorFlags& sensor, const Common& c) {
  if (frames > 0 && frames_dir.empty())
    throw Error(ErrorCode::kInvalidArgument, "--frames needs --frames-dir");
  DIFFEVENT_CHECK(frames >= 0, ErrorCode::kInvalidArgument, "--frames {}: expected a count >= 0",
                  frames);
  const diffevent::ThresholdSearchOptions search = parse_threshold_range(range);
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
  ThresholdSource source = resolve_thresholds(flags, ef.thresholds, o.thresholds);
  if (auto_threshold) source = ThresholdSource::kEstimated;
  note_unused_threshold_range("edi", range, source);
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
  if (source == ThresholdSource::kEstimated) {
    const auto est = diffevent::Edi(o).estimate_threshold(blur, ef.events, exp, search);
    o.thresholds = diffevent::Thresholds::symmetric(est.c);
    result["auto_threshold"] = {{"c", est.c},
                                {"std_error", est.std_error},
                                {"energy", est.energy},
                                {"evaluations", est.evaluations},
                                {"at_bound", est.at_bound},
                                {"interval", {search.c_min, search.c_max}}};
    if (!auto_threshold)
      note_estimated_threshold("edi", est);
    else
      warn_threshold_at_bound("edi", est);
  }
  if (sensor.report)
    result["sensor_threshold"] =
        sensor_threshold_report("edi", diffevent::Edi(o), blur, ef.events, exp, sensor);
  result["threshold"] = {{"c_pos", o.thresholds.c_pos},
                         {"c_neg", o.thresholds.c_neg},
                         {"source", threshold_source_name(source)}};
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
    if (sensor.report) std::cout << sensor_threshold_text(result["sensor_threshold"]);
    if (!ref.empty())
      std::cout << fmt::format("PSNR {:.2f} dB (blurry {:.2f} dB), SSIM {:.4f} (blurry {:.4f})\n",
                               result["psnr_db"].get<double>(),
                               result["blur_psnr_db"].get<double>(), result["ssim"].get<double>(),
                               result["blur_ssim"].get<double>());
  }
  return 0;
}

}  // namespace

Command add_edi(CLI::App& app, const Common& c) {
  auto* edi = app.add_subcommand("edi", "Deblur with the EDI double integral (sharp = blurry / E)");
  struct Args {
    std::string blur, events, exposure, out, frames_dir, ref, range;
    double c = 0, cp = 0, cn = 0;
    bool autoc = false, srgb = false;
    SensorFlags sensor;
    int frames = 0, threads = 0, depth = 8;
  };
  auto a = std::make_shared<Args>();
  edi->add_option("-b,--blur", a->blur, "Blurry frame (PNG or PFM)")->required();
  edi->add_option("-e,--events", a->events, "Events file (any supported format)")->required();
  edi->add_option("--exposure", a->exposure,
                  "T0:T1 in us, or 'span' for the events' time span (default: from the file)");
  auto* thr = edi->add_option("-c,--threshold", a->c,
                              "Contrast threshold c for both polarities (default: what the "
                              "events file states, else estimated from the data)")
                  ->default_str("");
  edi->add_option("--threshold-pos", a->cp, "ON threshold (overrides --threshold)")
      ->default_str("");
  edi->add_option("--threshold-neg", a->cn, "OFF threshold (overrides --threshold)")
      ->default_str("");
  edi->add_flag("--auto-threshold", a->autoc,
                "Estimate c by minimising EDI's sharpness energy, whatever the file states")
      ->excludes(thr);
  add_threshold_range(*edi, a->range, thr);
  add_sensor_flags(*edi, a->sensor);
  edi->add_option("-o,--out", a->out, "Sharp output (PNG or PFM)")->required();
  edi->add_option("--frames", a->frames, "Also write N frames across the exposure");
  edi->add_option("--frames-dir", a->frames_dir, "Folder for --frames");
  edi->add_flag("--srgb", a->srgb, "The blurry frame is sRGB-encoded: linearise before dividing");
  edi->add_option("-j,--threads", a->threads, "Integrator threads (0: every core)");
  edi->add_option("--bit-depth", a->depth, "PNG bit depth of outputs (8 or 16)");
  edi->add_option("-r,--ref", a->ref, "Ground-truth sharp frame: also report PSNR/SSIM");
  return {edi, [a, edi, &c] {
            ThresholdFlags flags;
            if (edi->count("--threshold")) flags.both = a->c;
            if (edi->count("--threshold-pos")) flags.pos = a->cp;
            if (edi->count("--threshold-neg")) flags.neg = a->cn;
            return run_edi(a->blur, a->events, a->exposure, flags, a->autoc, a->range, a->out,
                           a->frames, a->frames_dir, a->srgb, a->threads, c.sort, a->depth, a->ref,
                           a->sensor, c);
          }};
}

}  // namespace diffevent_cli
