// `diffevent benchmark`: simulates a suite of samples from held-out photographs at nine
// degradation levels (six of them held out) and measures PSNR, SSIM and seconds per frame of every
// method.

#include "lab/cli/benchmark.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "cli.hpp"
#include "core/check.hpp"
#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/diffusion/tensor_interop.hpp"
#include "diffevent/events.hpp"
#include "usage.hpp"

namespace diffevent_cli {

namespace {

namespace fs = std::filesystem;
using diffevent::Error;
using diffevent::ErrorCode;
using diffevent::Image;
using json = nlohmann::json;

// A degradation of the events. Methods are told the nominal threshold (symmetric, true c *
// nominal_factor) and nothing else about the level.
struct Level {
  const char* name;
  double sigma;           // per-pixel threshold mismatch (std, log units)
  double noise_hz;        // shot noise per pixel
  double nominal_factor;  // nominal threshold = true c * factor
  double c_pos, c_neg;    // the sensor's true mean thresholds
  diffevent::TimestampUs refractory_us;
  double leak_hz;  // ON leak events per pixel
  bool shake;      // the camera shakes (a curved, non-uniform path) instead of a uniform motion
  bool held_out;   // no prior was trained and no default tuned at this level
};
constexpr double kTrueC = diffevent::Thresholds::kDefault;
const Level kLevels[] = {
    {"ideal", 0.0, 0.0, 1.0, kTrueC, kTrueC, 0, 0.0, false, false},
    {"realistic", 0.05, 5.0, 1.0, kTrueC, kTrueC, 0, 0.0, false, false},
    {"hard", 0.1, 20.0, 1.2, kTrueC, kTrueC, 0, 0.0, false, false},
    // Held out: other mismatch and noise, sensor effects and a motion model nothing saw.
    {"mild", 0.02, 1.0, 1.0, kTrueC, kTrueC, 0, 0.0, false, true},
    {"noisy", 0.03, 50.0, 1.0, kTrueC, kTrueC, 0, 0.0, false, true},
    {"asymmetric", 0.03, 2.0, 1.0, 0.25, 0.15, 0, 0.0, false, true},
    {"refractory", 0.03, 2.0, 1.0, kTrueC, kTrueC, 500, 0.0, false, true},
    {"leak", 0.03, 2.0, 1.0, kTrueC, kTrueC, 0, 5.0, false, true},
    {"shake", 0.03, 2.0, 1.0, kTrueC, kTrueC, 0, 0.0, true, true},
};

std::string level_names() {
  std::string s;
  for (const Level& l : kLevels) s += (s.empty() ? "" : ", ") + std::string(l.name);
  return s;
}

// Bilinear sample of `img` at (x, y), clamped to its border.
float sample_clamped(const Image& img, int c, double x, double y) {
  x = std::clamp(x, 0.0, img.width() - 1.0);
  y = std::clamp(y, 0.0, img.height() - 1.0);
  const int x0 = std::min(static_cast<int>(x), img.width() - 2 < 0 ? 0 : img.width() - 2);
  const int y0 = std::min(static_cast<int>(y), img.height() - 2 < 0 ? 0 : img.height() - 2);
  const int x1 = std::min(x0 + 1, img.width() - 1), y1 = std::min(y0 + 1, img.height() - 1);
  const double fx = x - x0, fy = y - y0;
  return static_cast<float>((1 - fy) * ((1 - fx) * img.at(c, y0, x0) + fx * img.at(c, y0, x1)) +
                            fy * ((1 - fx) * img.at(c, y1, x0) + fx * img.at(c, y1, x1)));
}

// The shaking camera: over the exposure, the uniform motion's path at half its rate plus a
// sinusoid of `amplitude` pixels along `angle`, `cycles` periods; the image at phase s in
// [0, 1] is the source moved by that offset and rotated about its centre.
Image shaken(const Image& src, const diffevent::CameraMotion& m, double s, double amplitude,
             double angle, double cycles) {
  constexpr double kPi = 3.14159265358979323846;
  const double wave = amplitude * std::sin(2 * kPi * cycles * s);
  const double dx = 0.5 * (s - 0.5) * m.dx_px + wave * std::cos(angle);
  const double dy = 0.5 * (s - 0.5) * m.dy_px + wave * std::sin(angle);
  const double th = (s - 0.5) * m.rotation_rad, ct = std::cos(th), st = std::sin(th);
  const double cx = (src.width() - 1) / 2.0, cy = (src.height() - 1) / 2.0;
  Image out(src.channels(), src.height(), src.width());
  for (int c = 0; c < src.channels(); ++c)
    for (int y = 0; y < src.height(); ++y)
      for (int x = 0; x < src.width(); ++x) {
        const double u = x - cx - dx, v = y - cy - dy;
        out.at(c, y, x) = sample_clamped(src, c, cx + ct * u + st * v, cy - st * u + ct * v);
      }
  return out;
}

// Box-downsamples by an integer factor, then cuts a width x height window at (x0, y0).
Image prepare(const Image& photo, int factor, int x0, int y0, int width, int height) {
  Image out(photo.channels(), height, width);
  for (int c = 0; c < photo.channels(); ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) {
        double s = 0;
        for (int dy = 0; dy < factor; ++dy)
          for (int dx = 0; dx < factor; ++dx)
            s += photo.at(c, (y0 + y) * factor + dy, (x0 + x) * factor + dx);
        out.at(c, y, x) = static_cast<float>(s / (factor * factor));
      }
  return out;
}

// Simulates one level of the suite into `root`: for each photo, crops_per_photo windows, each
// with its own camera motion. The windows, motions and seeds depend on the photo's index only,
// so every level degrades the same scenes.
void make_level(const BenchmarkArgs& a, const Level& lv, const fs::path& root) {
  std::vector<fs::path> files;
  std::error_code ec;
  DIFFEVENT_CHECK(fs::is_directory(a.photos, ec), ErrorCode::kIoError,
                  "benchmark: --photos '{}' is not a folder (bash scripts/fetch_photos.sh makes "
                  "data/photos/heldout)",
                  a.photos);
  for (const auto& e : fs::directory_iterator(a.photos))
    if (e.path().extension() == ".png") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  DIFFEVENT_CHECK(!files.empty(), ErrorCode::kInvalidArgument, "benchmark: no PNG photo in '{}'",
                  a.photos);
  int index = 0;
  for (const auto& f : files) {
    Image photo = diffevent::read_image(f.string());
    diffevent::srgb_to_linear(photo);
    if (!a.colour) {
      photo = photo.to_grey();
    } else {
      DIFFEVENT_CHECK(photo.channels() == 3, ErrorCode::kInvalidArgument,
                      "benchmark: --colour needs RGB photos, '{}' is grey", f.string());
    }
    const int factor =
        std::max(1, std::min(photo.width() / (2 * a.width), photo.height() / (2 * a.height)));
    const int w = photo.width() / factor, h = photo.height() / factor;
    DIFFEVENT_CHECK(w >= a.width && h >= a.height, ErrorCode::kInvalidArgument,
                    "benchmark: photo '{}' ({}x{}) is smaller than {}x{}", f.string(),
                    photo.width(), photo.height(), a.width, a.height);
    for (int k = 0; k < a.crops_per_photo; ++k, ++index) {
      std::mt19937_64 rng(a.seed * 1000003u + static_cast<uint64_t>(index));
      std::uniform_int_distribution<int> px(0, w - a.width), py(0, h - a.height);
      std::uniform_real_distribution<double> u(-1.0, 1.0);
      // y before x: the order GCC evaluated them in when they were arguments of one call, so the
      // suite's windows stay those of the figures in docs/quality.md.
      const int y0 = py(rng);
      const int x0 = px(rng);
      const Image crop = prepare(photo, factor, x0, y0, a.width, a.height);
      diffevent::CameraMotion m;
      m.dx_px = 12 * u(rng);
      m.dy_px = 12 * u(rng);
      m.rotation_rad = 0.02 * u(rng);
      m.zoom = 1.0 + 0.02 * u(rng);
      // The shake's own draws come after the shared ones, so the other levels keep theirs.
      const double amplitude = 3.0 + 2.0 * (u(rng) + 1.0), angle = 3.14159265 * u(rng),
                   cycles = 1.5 + 0.5 * u(rng);
      const std::string name = fmt::format("{}_{}", f.stem().string(), k);
      diffevent::SimulatorOptions so;
      so.exposure_us = 20000;
      so.c_pos = lv.c_pos;
      so.c_neg = lv.c_neg;
      so.threshold_sigma = lv.sigma;
      so.shot_noise_hz = lv.noise_hz;
      so.refractory_us = lv.refractory_us;
      so.leak_hz = lv.leak_hz;
      so.seed = a.seed * 7919u + static_cast<uint64_t>(index);
      diffevent::SimulationResult sim;
      if (!lv.shake) {
        sim = diffevent::EventSimulator(so).simulate_motion(crop, m);
      } else {
        // Rendered from a window with a margin, so the moving view brings in the photo's own
        // content rather than repeated borders; about 0.02 px of motion between samples.
        const int margin = 24;
        const int mx0 = std::max(0, x0 - margin), my0 = std::max(0, y0 - margin);
        const int mx1 = std::min(w, x0 + a.width + margin),
                  my1 = std::min(h, y0 + a.height + margin);
        const Image wide = prepare(photo, factor, mx0, my0, mx1 - mx0, my1 - my0);
        const int frames = 401;
        so.frame_upsample = 4;
        std::vector<Image> views;
        std::vector<diffevent::TimestampUs> times;
        for (int i = 0; i < frames; ++i) {
          const double s = static_cast<double>(i) / (frames - 1);
          views.push_back(diffevent::crop(shaken(wide, m, s, amplitude, angle, cycles), y0 - my0,
                                          x0 - mx0, a.height, a.width));
          times.push_back(static_cast<diffevent::TimestampUs>(std::llround(s * so.exposure_us)));
        }
        sim = diffevent::EventSimulator(so).simulate_frames(views, times);
      }
      const fs::path dir = root / name;
      fs::create_directories(dir);
      diffevent::write_image((dir / "blur.pfm").string(), sim.blurry);
      diffevent::write_image((dir / "sharp.pfm").string(), sim.sharp);
      diffevent::write_events((dir / "events.npz").string(), sim.events);
      json motion = {m.dx_px, m.dy_px, m.rotation_rad, m.zoom};
      if (lv.shake)
        motion = {{"model", "shake"},
                  {"half_rate_dx_px", m.dx_px},
                  {"half_rate_dy_px", m.dy_px},
                  {"rotation_rad", m.rotation_rad},
                  {"amplitude_px", amplitude},
                  {"angle_rad", angle},
                  {"cycles", cycles}};
      write_text_atomically((dir / "meta.json").string(),
                            json{{"photo", f.filename().string()},
                                 {"level", lv.name},
                                 {"held_out", lv.held_out},
                                 {"true_threshold", (lv.c_pos + lv.c_neg) / 2},
                                 {"true_threshold_pos", lv.c_pos},
                                 {"true_threshold_neg", lv.c_neg},
                                 {"nominal_threshold", kTrueC * lv.nominal_factor},
                                 {"threshold_sigma", lv.sigma},
                                 {"noise_hz", lv.noise_hz},
                                 {"refractory_us", lv.refractory_us},
                                 {"leak_hz", lv.leak_hz},
                                 {"channels", crop.channels()},
                                 {"exposure_us", {sim.exposure.t0_us, sim.exposure.t1_us}},
                                 {"motion", motion}}
                                    .dump(2) +
                                "\n");
    }
  }
}

struct Score {
  double psnr = 0, ssim = 0, seconds = 0;
  int n = 0;
};

// Tiles side by side, sRGB-encoded for viewing, with a 2-pixel white gap between tiles.
Image montage(const std::vector<Image>& tiles) {
  const int h = tiles.front().height(), w = tiles.front().width(), gap = 2,
            C = tiles.front().channels();
  const int n = static_cast<int>(tiles.size());
  Image out(C, h, n * w + (n - 1) * gap);
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < out.width(); ++x) out.at(c, y, x) = 1.0f;
  for (int i = 0; i < n; ++i) {
    Image t = tiles[i];
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) t.at(c, y, x) = std::clamp(t.at(c, y, x), 0.0f, 1.0f);
    diffevent::linear_to_srgb(t);
    for (int c = 0; c < C; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) out.at(c, y, i * (w + gap) + x) = t.at(c, y, x);
  }
  return out;
}

}  // namespace

int run_benchmark(const BenchmarkArgs& a) {
  DIFFEVENT_CHECK(a.width >= 16 && a.width <= 4096 && a.height >= 12 && a.crops_per_photo >= 1,
                  ErrorCode::kInvalidArgument,
                  "benchmark: --size {} must be in [16, 4096] and --crops-per-photo {} >= 1",
                  a.width, a.crops_per_photo);
  const diffevent::DeblurOptions deblur_options = a.deblur.resolve();
  std::error_code ec;
  for (const std::string& name : a.levels)
    DIFFEVENT_CHECK(std::any_of(std::begin(kLevels), std::end(kLevels),
                                [&](const Level& l) { return name == l.name; }),
                    ErrorCode::kInvalidArgument, "benchmark: unknown level '{}' (expected {})",
                    name, level_names());
  auto wanted = [&](const Level& lv) {
    return a.levels.empty() ||
           std::find(a.levels.begin(), a.levels.end(), lv.name) != a.levels.end();
  };
  const diffevent::Interpolation interpolation = deblur_options.interpolation;
  DIFFEVENT_CHECK(a.montage_count >= 0, ErrorCode::kInvalidArgument,
                  "benchmark: --montage-count {} is negative", a.montage_count);
  DIFFEVENT_CHECK(a.montage.empty() || !a.trained_only, ErrorCode::kInvalidArgument,
                  "benchmark: --montage needs every method's output (not --trained-only)");
  if (!a.montage.empty()) {
    std::error_code mec;
    fs::create_directories(a.montage, mec);
    DIFFEVENT_CHECK(!mec, ErrorCode::kIoError,
                    "benchmark: cannot create the montage folder '{}': {}", a.montage,
                    mec.message());
  }
  DIFFEVENT_CHECK(!a.trained_only || !a.prior.empty(), ErrorCode::kInvalidArgument,
                  "benchmark: --trained-only needs --prior");
  std::shared_ptr<diffevent::DiffusionPrior> xp, rp;
  if (!a.prior.empty()) xp = diffevent::load_prior(a.prior);
  if (!a.residual_prior.empty()) rp = diffevent::load_prior(a.residual_prior);
  for (const auto& [prior, path] : {std::pair{xp, a.prior}, std::pair{rp, a.residual_prior}})
    DIFFEVENT_CHECK(
        !prior || prior->metadata().channels == (a.colour ? 3 : 1), ErrorCode::kInvalidArgument,
        "benchmark: the prior '{}' models {} channel(s) but the {} suite needs {}", path,
        prior->metadata().channels, a.colour ? "colour" : "grey", a.colour ? 3 : 1);
  // The suite's missing levels are simulated once the arguments and priors are known good.
  for (const Level& lv : kLevels) {
    const fs::path dir = fs::path(a.suite) / lv.name;
    if (!wanted(lv) || fs::is_directory(dir, ec)) continue;
    // Each level is made beside its target and renamed when complete: an interrupted run leaves
    // no partial level, and a suite made before a level existed gains it on the next run.
    std::cerr << fmt::format("benchmark: simulating the {} level from {} into {}\n", lv.name,
                             a.photos, dir.string());
    // A name of its own: runs sharing a suite never touch each other's unfinished level.
    const fs::path tmp =
        fmt::format("{}.tmp{:016x}", dir.string(), std::random_device{}() * 0x9E3779B97F4A7C15ull);
    try {
      make_level(a, lv, tmp);
    } catch (...) {
      fs::remove_all(tmp, ec);  // no half-made level left behind
      throw;
    }
    fs::rename(tmp, dir, ec);
    if (ec && fs::is_directory(dir)) {
      fs::remove_all(tmp, ec);  // another run finished the same level first: the same samples
      continue;
    }
    DIFFEVENT_CHECK(!ec, ErrorCode::kIoError,
                    "benchmark: cannot move the {} level into place at '{}': {}", lv.name,
                    dir.string(), ec.message());
  }
  // Rows 0-5 as always; with --ablation, the trained priors' row is split into x alone (r = 0),
  // x with the robust residual (SamplerOptions::robust_residual, no r prior) and x with the
  // residual prior, everything else the same.
  const std::vector<std::string> methods = {"blurry input",
                                            "EDI (nominal c)",
                                            "EDI (auto c)",
                                            "EDI (enhanced E)",
                                            "deblur (analytic prior)",
                                            "deblur (trained priors)",
                                            "deblur (x prior, r = 0)",
                                            "deblur (x prior, robust r)",
                                            "deblur (x and r priors)"};
  DIFFEVENT_CHECK(!a.ablation || (xp && rp), ErrorCode::kInvalidArgument,
                  "benchmark: --ablation needs --prior and --residual-prior");
  auto trained_row = [](size_t m) { return m >= 5; };
  json out = json::array();
  std::string table =
      "| level | method | PSNR (dB) | SSIM | s/frame | samples |\n|---|---|---|---|---|---|\n";
  for (const Level& lv : kLevels) {
    if (!wanted(lv)) continue;
    std::vector<fs::path> samples;
    for (const auto& e : fs::directory_iterator(fs::path(a.suite) / lv.name))
      if (e.is_directory()) samples.push_back(e.path());
    std::sort(samples.begin(), samples.end());
    DIFFEVENT_CHECK(!samples.empty(), ErrorCode::kInvalidArgument, "benchmark: no sample in '{}'",
                    (fs::path(a.suite) / lv.name).string());
    std::vector<Score> scores(methods.size());
    int sample_index = 0;
    diffevent_cli::Progress progress(fmt::format("benchmark ({})", lv.name), "sample");
    long long samples_done = 0;
    for (const auto& dir : samples) {
      const bool keep = !a.montage.empty() && sample_index++ < a.montage_count;
      std::vector<Image> tiles;
      json meta;
      try {
        std::ifstream((dir / "meta.json").string()) >> meta;
        (void)meta.at("exposure_us").at(1).get<int64_t>();
        (void)meta.at("nominal_threshold").get<double>();
      } catch (const json::exception& e) {
        throw Error(ErrorCode::kFormatError,
                    fmt::format("benchmark: '{}' is missing or malformed ({})",
                                (dir / "meta.json").string(), e.what()));
      }
      const Image blurry = diffevent::read_image((dir / "blur.pfm").string());
      DIFFEVENT_CHECK(blurry.channels() == (a.colour ? 3 : 1), ErrorCode::kInvalidArgument,
                      "benchmark: the suite '{}' is {} but {} was asked for (a suite keeps the "
                      "mode it was made in; "
                      "{} or pass another --suite)",
                      a.suite, blurry.channels() == 3 ? "colour" : "grey",
                      a.colour ? "--colour" : "grey", a.colour ? "drop --colour" : "add --colour");
      const Image sharp = diffevent::read_image((dir / "sharp.pfm").string());
      const auto ev = diffevent::read_events((dir / "events.npz").string()).events;
      const diffevent::Exposure exp{meta["exposure_us"][0].get<int64_t>(),
                                    meta["exposure_us"][1].get<int64_t>()};
      const double c = meta["nominal_threshold"].get<double>();
      auto score = [&](size_t m, const Image& out_img, double secs) {
        DIFFEVENT_CHECK(out_img.all_finite(), ErrorCode::kInternal,
                        "benchmark: {} gave NaN or infinite values on {}", methods[m],
                        dir.string());
        scores[m].psnr += diffevent::psnr(sharp, out_img);
        scores[m].ssim += diffevent::ssim(sharp, out_img);
        scores[m].seconds += secs;
        ++scores[m].n;
      };
      auto timed = [](auto&& f) {
        const auto t0 = std::chrono::steady_clock::now();
        Image img = f();
        return std::make_pair(
            std::move(img),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      };
      DIFFEVENT_CHECK(!(a.cancel && a.cancel->load()), ErrorCode::kCancelled,
                      "benchmark: cancelled");
      score(0, blurry, 0.0);
      const diffevent::Edi edi(diffevent::EdiOptions::with_threshold(c));
      if (!a.trained_only) {
        auto [e1, s1] = timed([&] { return edi.deblur(blurry, ev, exp); });
        score(1, e1, s1);
        auto [e2, s2] = timed([&] {
          const auto est = edi.estimate_threshold(blurry, ev, exp);
          return diffevent::Edi(diffevent::EdiOptions::with_threshold(est.c))
              .deblur(blurry, ev, exp);
        });
        score(2, e2, s2);
        auto [e3, s3] = timed([&] {
          // The f(E) the deblur rows use (the enhancer flags, E clamped), divided out as EDI does.
          const diffevent::DeblurOptions& d = deblur_options;
          const auto model =
              diffevent::make_ebrd_model(blurry, ev, exp, diffevent::Thresholds::symmetric(c),
                                         d.min_integral, d.enhancer, std::nullopt, interpolation);
          return diffevent::tensor_to_image(
              (model.y() / model.f_e().clamp_min(d.min_integral)).clamp(0, 1));
        });
        score(3, e3, s3);
        if (keep) tiles = {blurry, e3};
      }
      diffevent::DeblurOptions dopt = deblur_options;
      dopt.thresholds = diffevent::Thresholds::symmetric(c);
      dopt.sampler.seed = a.seed;
      dopt.sampler.cancel = a.cancel;
      if (!a.trained_only) {
        auto [d1, t1] =
            timed([&] { return diffevent::deblur(blurry, ev, exp, nullptr, nullptr, dopt).sharp; });
        score(4, d1, t1);
        if (keep) tiles.push_back(d1);
      }
      if (xp && !a.ablation) {
        auto [d2, t2] =
            timed([&] { return diffevent::deblur(blurry, ev, exp, xp, rp, dopt).sharp; });
        score(5, d2, t2);
        if (keep) tiles.push_back(d2);
      }
      if (a.ablation) {
        struct Variant {
          size_t row;
          bool r_prior;
          double robust;
        };
        const double k = dopt.sampler.robust_residual;
        for (const Variant v :
             {Variant{6, false, 0.0}, Variant{7, false, k}, Variant{8, true, k}}) {
          diffevent::DeblurOptions o = dopt;
          o.residual_prior = v.r_prior;
          o.sampler.robust_residual = v.robust;
          auto [d, t] = timed([&] { return diffevent::deblur(blurry, ev, exp, xp, rp, o).sharp; });
          score(v.row, d, t);
          if (keep && v.row == 7) tiles.push_back(d);  // the defaults: no r prior, robust r
        }
      }
      if (keep) {
        tiles.push_back(sharp);
        const fs::path file =
            fs::path(a.montage) / fmt::format("{}_{}.png", lv.name, dir.filename().string());
        diffevent::write_image(file.string(), montage(tiles));
      }
      progress.update(++samples_done, static_cast<long long>(samples.size()));
    }
    for (size_t m = 0; m < methods.size(); ++m) {
      const Score& s = scores[m];
      if (s.n == 0 || (a.trained_only && m != 0 && !trained_row(m))) continue;
      const double p = s.psnr / s.n, q = s.ssim / s.n, t = s.seconds / s.n;
      out.push_back({{"level", lv.name},
                     {"held_out", lv.held_out},
                     {"method", methods[m]},
                     {"psnr_db", p},
                     {"ssim", q},
                     {"seconds_per_frame", t},
                     {"samples", s.n}});
      table += fmt::format("| {} | {} | {:.2f} | {:.4f} | {:.3f} | {} |\n", lv.name, methods[m], p,
                           q, t, s.n);
    }
  }
  if (a.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << table;
  }
  if (!a.report.empty()) write_text_atomically(a.report, table);
  return 0;
}

Command add_benchmark(CLI::App& app, const Common& c) {
  auto* bm = app.add_subcommand(
      "benchmark",
      "Quality benchmark: EDI variants and deblur on a simulated suite, nine degradation levels");
  auto a = std::make_shared<BenchmarkArgs>();
  bm->add_option("--suite", a->suite, "Suite folder (simulated from --photos when it holds none)")
      ->required();
  bm->add_option("--photos", a->photos, "Held-out photos to simulate from")
      ->default_str("data/photos/heldout");
  bm->add_option("--crops-per-photo", a->crops_per_photo, "Samples per photo");
  bm->add_option("--size", a->width, "Sample width (height = 3/4 of it)");
  bm->add_option("--prior", a->prior, "Trained x prior for the last row");
  bm->add_option("--residual-prior", a->residual_prior, "Trained r prior for the last row");
  bm->add_option("--seed", a->seed, "Seed of crops, motion, noise and sampling");
  bm->add_option("--report", a->report, "Also write the table (markdown) to this file");
  bm->add_option("--levels", a->levels,
                 "Levels to evaluate (default all): ideal, realistic, hard; held out: mild, noisy, "
                 "asymmetric, refractory, leak, shake")
      ->delimiter(',');
  add_deblur_flags(*bm, a->deblur);  // the deblur rows' options, deblur's flags and defaults
  bm->add_option("--montage", a->montage,
                 "Folder for PNG montages: blurry | EDI (enhanced E) | deblur analytic | deblur "
                 "trained | truth");
  bm->add_option("--montage-count", a->montage_count, "Montages per level");
  bm->add_flag("--trained-only", a->trained_only,
               "Evaluate only the blurry input and the trained priors (sweeps)");
  bm->add_flag("--ablation", a->ablation,
               "Split the trained priors' row into x alone (r = 0) and x with the residual prior "
               "(needs --prior and --residual-prior)");
  bm->add_flag("--colour", a->colour,
               "Colour suite: RGB photos, events from their luminance (default: grey)");
  return {bm, [a, &c] {
            if (a->photos.empty()) a->photos = "data/photos/heldout";
            a->height = a->width * 3 / 4;
            a->json = c.json_out;
            a->cancel = &interrupted();
            CancelOnSigint cancellable;
            return run_benchmark(*a);
          }};
}

}  // namespace diffevent_cli
