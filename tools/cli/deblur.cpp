// diffevent deblur: the EBRD model and Algorithm 1 on one frame (diffevent-diffusion).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "cli.hpp"
#include "core/check.hpp"
#include "deblur_flags.hpp"
#include "deblur_recording.hpp"
#include "diffevent/diffusion.hpp"
#include "usage.hpp"

namespace fs = std::filesystem;
using diffevent::Error;
using diffevent::ErrorCode;

namespace diffevent_cli {
namespace {

struct DeblurArgs {
  DeblurFlags flags;  ///< The sampler's flags, bound to flags.options.
  std::string blur, events, exposure, prior, residual_prior, out, residual_out, ref;
  std::string threshold_range;
  std::string device = "cpu";
  double threshold = 0;
  std::optional<long long> tau_us;
  SensorFlags sensor;
  int bit_depth = 8;
  int threads = 0;
};

int run_deblur(const DeblurArgs& a, const Common& c) {
  diffevent::DeblurOptions o = a.flags.resolve();  // validated before anything is loaded
  // -c sets both thresholds; --threshold-pos/--threshold-neg (bound to o) override it. Without
  // them: what the events file states, else an estimate.
  const ThresholdFlags flags = a.flags.thresholds(a.threshold);
  check_threshold_flags(flags);  // before anything is loaded
  o.threshold_search = parse_threshold_range(a.threshold_range);
  if (a.tau_us) o.tau_us = *a.tau_us;
  const diffevent::Image blur = diffevent::read_image(a.blur);
  diffevent::EventFile ef = load_events(a.events, &blur, c.sort);
  ThresholdSource source = resolve_thresholds(flags, ef.thresholds, o.thresholds);
  if (o.auto_threshold || source == ThresholdSource::kEstimated) {
    o.auto_threshold = true;
    source = ThresholdSource::kEstimated;
  }
  note_unused_threshold_range("deblur", a.threshold_range, source);
  if (blur.width() != ef.events.width() || blur.height() != ef.events.height()) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("the blurry image is {}x{} but the events come from a {}x{} sensor",
                            blur.width(), blur.height(), ef.events.width(), ef.events.height()));
  }
  std::string exposure_source;
  const diffevent::Exposure exp = resolve_exposure(a.exposure, ef, a.events, &exposure_source);
  json result = {{"exposure_us", {exp.t0_us, exp.t1_us}},
                 {"exposure_source", exposure_source},
                 {"preset", a.flags.preset}};
  if (a.sensor.report) {
    diffevent::EdiOptions eo;
    eo.linearize_srgb = o.linearize_srgb;
    eo.num_threads =
        a.threads > 0 ? a.threads
                      : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 256u));
    result["sensor_threshold"] =
        sensor_threshold_report("deblur", diffevent::Edi(eo), blur, ef.events, exp, a.sensor);
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
  so.cancel = &interrupted();
  const auto t_start = std::chrono::steady_clock::now();
  Progress progress("deblur", "step");
  progress.note(fmt::format("{}x{} {}, preset {}, x prior {}, r prior {}", blur.width(),
                            blur.height(), blur.channels() == 1 ? "grey" : "RGB", a.flags.preset,
                            xp ? fs::path(x_path).filename().string() : "analytic",
                            rp ? fs::path(r_path).filename().string() : "none"));
  so.progress = [&](int done, int total) {
    progress.update(done, total);
    return !interrupted().load();
  };
  diffevent::DeblurResult res;
  {
    CancelOnSigint cancellable;
    res = diffevent::deblur(blur, ef.events, exp, xp, rp, o);
  }
  if (res.threshold_estimated) {
    result["auto_threshold"] = res.c_pos;
    result["threshold_estimate"] = {
        {"c", res.estimate.c},
        {"std_error", res.estimate.std_error},
        {"at_bound", res.estimate.at_bound},
        {"interval", {o.threshold_search.c_min, o.threshold_search.c_max}},
        {"evaluations", res.estimate.evaluations}};
    if (!a.flags.options.auto_threshold)
      note_estimated_threshold("deblur", res.estimate);
    else
      warn_threshold_at_bound("deblur", res.estimate);
  }
  result["threshold"] = res.c_pos;
  result["threshold_neg"] = res.c_neg;
  result["threshold_source"] = threshold_source_name(source);
  result["tau_us"] = a.tau_us ? *a.tau_us : exp.mid_us();
  diffevent::write_image(a.out, res.sharp, a.bit_depth);
  if (!a.residual_out.empty()) {
    diffevent::Image r = res.residual;
    for (float& v : r.values()) v += 0.5f;  // residual shown around mid-grey
    diffevent::write_image(a.residual_out, r, a.bit_depth);
  }
  result["output"] = a.out;
  result["network_calls"] = res.network_calls;
  result["start"] = res.start;
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
        res.start < 1 ? fmt::format(" from {:g} of the schedule (warm start)", res.start) : "";
    std::cout << fmt::format("deblur: {} steps{}, {} network calls, c = {:.3f} -> {}\n", so.steps,
                             start, res.network_calls, res.c_pos, a.out);
    if (a.sensor.report) std::cout << sensor_threshold_text(result["sensor_threshold"]);
    if (!a.ref.empty())
      std::cout << fmt::format("PSNR {:.2f} dB, SSIM {:.4f}\n", result["psnr_db"].get<double>(),
                               result["ssim"].get<double>());
  }
  return 0;
}

}  // namespace

Command add_deblur(CLI::App& app, const Common& c) {
  auto* db = app.add_subcommand(
      "deblur", "Deblur with the EBRD model and alternating diffusion sampling (Algorithm 1)");
  auto a = std::make_shared<DeblurArgs>();
  diffevent::DeblurOptions& o = a->flags.options;
  db->add_option("-b,--blur", a->blur, "Blurry frame (PNG or PFM)")->required();
  db->add_option("-e,--events", a->events, "Events file (any supported format)")->required();
  db->add_option("--exposure", a->exposure, "T0:T1 in us, or 'span' (default: from the file)");
  auto* dthr = db->add_option("-c,--threshold", a->threshold,
                              "Contrast threshold c for both polarities (default: what the "
                              "events file states, else estimated from the data)")
                   ->default_str("");
  db->add_option("--threshold-pos", o.thresholds.c_pos, "ON threshold (overrides --threshold)");
  db->add_option("--threshold-neg", o.thresholds.c_neg, "OFF threshold (overrides --threshold)");
  db->add_flag("--auto-threshold", o.auto_threshold,
               "Estimate c as EDI does, whatever the file states")
      ->excludes(dthr);
  add_threshold_range(*db, a->threshold_range, dthr);
  add_sensor_flags(*db, a->sensor);
  db->add_option("--prior", a->prior,
                 "TorchScript prior for x, or 'analytic' (default: the shipped prior if installed, "
                 "else analytic)");
  db->add_option("--residual-prior", a->residual_prior,
                 "TorchScript prior for r, or 'none' (default: the shipped one with the shipped x "
                 "prior when the preset runs it, else none)");
  add_deblur_flags(*db, a->flags);
  db->add_option("--seed", o.sampler.seed, "Random seed");
  db->add_option("--device", a->device, "cpu or cuda:N");
  db->add_option("-j,--threads", a->threads,
                 "CPU threads of the prior network (0: LibTorch's default, every core)");
  db->add_option("--tau", a->tau_us,
                 "Reference time of the sharp frame in us (default: mid-exposure)");
  db->add_flag("--srgb", o.linearize_srgb, "The blurry frame is sRGB-encoded");
  db->add_option("-o,--out", a->out, "Sharp output (PNG or PFM)")->required();
  db->add_option("--residual-out", a->residual_out, "Residual output (r + 0.5)");
  db->add_option("-r,--ref", a->ref, "Ground-truth sharp frame: also report PSNR/SSIM");
  db->add_option("--bit-depth", a->bit_depth, "PNG bit depth (8 or 16)");
  return {db, [a, &c] { return run_deblur(*a, c); }};
}

}  // namespace diffevent_cli

namespace diffevent_cli {

RecordingMethod diffusion_recording_method(const RecordingArgs& a,
                                           const diffevent::Recording& recording) {
  diffevent::DeblurOptions o = a.flags.resolve();  // validated before anything is loaded
  const ThresholdSource source = recording_thresholds(a, recording, o.thresholds);
  o.auto_threshold = source == ThresholdSource::kEstimated;
  o.threshold_search = parse_threshold_range(a.threshold_range);
  const int channels = recording.image(0).channels();
  diffevent::TorchScriptPriorOptions po;
  po.device = a.device;
  po.intra_op_threads = a.threads;
  const std::string x_path = a.prior == "analytic" ? ""
                             : a.prior.empty() ? shipped_prior(diffevent::PriorRole::kX, channels)
                                               : a.prior;
  const std::string r_path =
      a.residual_prior == "none" ? ""
      : a.residual_prior.empty()
          ? (a.prior.empty() && o.residual_prior ? shipped_prior(diffevent::PriorRole::kR, channels)
                                                 : "")
          : a.residual_prior;
  if (!r_path.empty()) o.residual_prior = true;
  // Loaded once for every frame (the networks are shared by the frames in flight).
  std::shared_ptr<diffevent::DiffusionPrior> xp, rp;
  if (!x_path.empty()) xp = diffevent::load_prior(x_path, po);
  if (!r_path.empty()) rp = diffevent::load_prior(r_path, po);
  o.sampler.cancel = &interrupted();
  RecordingMethod m;
  const diffevent::SamplerOptions& so = o.sampler;
  m.settings = {
      {"method", "diffevent"},
      {"preset", a.flags.preset},
      {"steps", so.steps},
      {"respacing", so.respacing},
      {"start", so.start},
      {"enhance", a.flags.enhance},
      {"guided_radius", o.enhancer.guided_radius},
      {"guided_eps", o.enhancer.guided_eps},
      {"integral", a.flags.integral},
      {"guidance", a.flags.guidance},
      {"ddim", so.ddim},
      {"s", so.s},
      {"s_r", so.s_r},
      {"lambda_tv", so.lambda_tv},
      {"lambda_l1", so.lambda_l1},
      {"antithetic", so.antithetic},
      {"seed", so.seed},
      {"samples", o.samples},
      {"threshold_sigma", o.threshold_sigma},
      {"robust_residual", so.robust_residual},
      {"start_threshold", o.start_threshold},
      {"start_threshold_max", o.start_threshold_max},
      {"threshold", o.auto_threshold ? json("auto") : json(o.thresholds.c_pos)},
      {"threshold_neg", o.auto_threshold ? json("auto") : json(o.thresholds.c_neg)},
      {"threshold_source", threshold_source_name(source)},
      {"x_prior", x_path.empty() ? std::string("analytic") : fs::path(x_path).filename().string()},
      {"r_prior", r_path.empty() ? std::string("none") : fs::path(r_path).filename().string()}};
  if (o.auto_threshold)
    m.settings["threshold_range"] = {o.threshold_search.c_min, o.threshold_search.c_max};
  m.bytes_per_pixel = 4096;  // the prior network's activations over a batch of samples
  m.default_jobs = 1;        // the network uses every core already
  m.run = [o, xp, rp](const diffevent::Image& blurry, const diffevent::EventStream& events,
                      const diffevent::Exposure& exposure, int n) {
    const diffevent::DeblurResult res = diffevent::deblur(blurry, events, exposure, xp, rp, o);
    FrameOutput out;
    out.sharp = res.sharp;
    out.threshold = res.c_pos;
    out.extra["network_calls"] = res.network_calls;
    out.extra["start"] = res.start;
    if (res.threshold_estimated) {
      out.extra["threshold_at_bound"] = res.estimate.at_bound;
      out.extra["threshold_std_error"] = res.estimate.std_error;
    }
    if (n > 0) {
      diffevent::Thresholds t{res.c_pos, res.c_neg, {}, {}};
      out.frames = frames_from_sharp(res.sharp, events, exposure, t, n);
    }
    return out;
  };
  return m;
}

}  // namespace diffevent_cli
