#include "cli.hpp"

#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <new>

#include "core/check.hpp"
#include "usage.hpp"

namespace fs = std::filesystem;
using diffevent::Error;
using diffevent::ErrorCode;

namespace diffevent_cli {
namespace {

// SIGINT, SIGTERM and SIGHUP outside a cancellable job: remove the temporary files of the
// writers in flight (no half-written .NAME.tmp... is left), then end as the signal would.
extern "C" void on_terminating_signal(int sig) {
  diffevent::remove_temporary_files();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

extern "C" void on_sigint(int) { interrupted().store(true); }

}  // namespace

std::atomic<bool>& interrupted() {
  static std::atomic<bool> flag{false};
  return flag;
}

CancelOnSigint::CancelOnSigint() { std::signal(SIGINT, on_sigint); }
CancelOnSigint::~CancelOnSigint() { std::signal(SIGINT, on_terminating_signal); }

void init_app(CLI::App& app, Common& common) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) std::signal(sig, on_terminating_signal);
  app.set_version_flag("--version", std::string(DIFFEVENT_VERSION_STRING));
  app.require_subcommand(1);
  app.fallthrough();  // global flags (--json, --sort) may follow the subcommand
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.add_flag("--json", common.json_out, "Print machine-readable JSON on stdout");
  app.add_flag("--sort", common.sort, "Sort events by time instead of rejecting unsorted files");
}

int run_cli(CLI::App& app, const std::vector<Command>& commands, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    const std::string hint = suggest(app, argc, argv);
    if (hint.find("is not a subcommand") !=
        std::string::npos)  // CLI11's words would be "a subcommand is required"
      std::cerr << "diffevent: " << hint << " (run with --help for the subcommands)\n";
    else
      std::cerr << "diffevent: " << e.what() << (hint.empty() ? "" : "; " + hint)
                << " (run with --help for usage)\n";
    return 64;
  }
  try {
    for (const Command& c : commands)
      if (c.app != nullptr && c.app->parsed() && c.run) return c.run();
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

diffevent::ThresholdSearchOptions parse_threshold_range(const std::string& s) {
  diffevent::ThresholdSearchOptions o;
  if (s.empty()) return o;
  const auto colon = s.find(':');
  double lo = 0, hi = 0;
  try {
    if (colon == std::string::npos) throw std::invalid_argument("no colon");
    size_t a = 0, b = 0;
    lo = std::stod(s.substr(0, colon), &a);
    hi = std::stod(s.substr(colon + 1), &b);
    if (a != colon || b != s.size() - colon - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw Error(ErrorCode::kInvalidArgument,
                fmt::format("--threshold-range '{}': expected MIN:MAX (log units)", s));
  }
  DIFFEVENT_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo > 0 && hi > lo &&
                      hi <= diffevent::Thresholds::kMax,
                  ErrorCode::kInvalidArgument, "--threshold-range {}: expected 0 < MIN < MAX <= {}",
                  s, diffevent::Thresholds::kMax);
  o.c_min = lo;
  o.c_max = hi;
  return o;
}

void add_threshold_range(CLI::App& app, std::string& range, CLI::Option* threshold) {
  const diffevent::ThresholdSearchOptions d;
  app.add_option("--threshold-range", range,
                 fmt::format("Interval MIN:MAX of the threshold search (default {:g}:{:g}; at most "
                             "{:g}). Sensors that drop events behave as large thresholds",
                             d.c_min, d.c_max, diffevent::Thresholds::kMax))
      ->check([](const std::string& s) {  // the full check runs before any file is read
        return s.empty() ? std::string("expected MIN:MAX") : std::string();
      })
      ->excludes(threshold);
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

// The shipped prior for x or r: $DIFFEVENT_MODELS, the install this program belongs to (from
// PREFIX/bin or PREFIX/libexec/diffevent), then the source tree's models/.
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

void write_text_atomically(const std::string& path, const std::string& text) {
  diffevent::write_file_atomically(path, text);
}

diffevent::Interpolation parse_integral(const std::string& name) {
  DIFFEVENT_CHECK(name == "step" || name == "ramp", ErrorCode::kInvalidArgument,
                  "--integral '{}': expected step or ramp", name);
  return name == "ramp" ? diffevent::Interpolation::kRamp : diffevent::Interpolation::kStep;
}

const char* integral_name(diffevent::Interpolation interpolation) {
  return interpolation == diffevent::Interpolation::kRamp ? "ramp" : "step";
}

const char* threshold_source_name(ThresholdSource source) {
  switch (source) {
    case ThresholdSource::kOption:
      return "option";
    case ThresholdSource::kFile:
      return "file";
    case ThresholdSource::kEstimated:
    default:
      return "estimated";
  }
}

void check_threshold_flags(const ThresholdFlags& flags) {
  for (const auto& [name, v] :
       {std::pair<const char*, std::optional<double>>{"--threshold", flags.both},
        {"--threshold-pos", flags.pos},
        {"--threshold-neg", flags.neg}})
    DIFFEVENT_CHECK(!v || (std::isfinite(*v) && *v > 0 && *v <= diffevent::Thresholds::kMax),
                    ErrorCode::kInvalidArgument,
                    "{} {}: a contrast threshold must be a finite number in (0, {}]", name,
                    v.value_or(0), diffevent::Thresholds::kMax);
}

ThresholdSource resolve_thresholds(const ThresholdFlags& flags,
                                   const std::optional<diffevent::Thresholds>& stated,
                                   diffevent::Thresholds& out) {
  check_threshold_flags(flags);
  if (!flags.any()) {
    if (!stated) return ThresholdSource::kEstimated;
    out = *stated;
    return ThresholdSource::kFile;
  }
  // A polarity's own flag, else --threshold, else the file's statement.
  auto pick = [&](const std::optional<double>& own, double diffevent::Thresholds::*member) {
    return own          ? own
           : flags.both ? flags.both
           : stated     ? std::optional<double>((*stated).*member)
                        : std::nullopt;
  };
  const std::optional<double> pos = pick(flags.pos, &diffevent::Thresholds::c_pos);
  const std::optional<double> neg = pick(flags.neg, &diffevent::Thresholds::c_neg);
  DIFFEVENT_CHECK(pos && neg, ErrorCode::kInvalidArgument,
                  "{} alone: the events file states no threshold for the other polarity; give "
                  "--threshold-pos and --threshold-neg, or --threshold",
                  flags.pos ? "--threshold-pos" : "--threshold-neg");
  out = diffevent::Thresholds{*pos, *neg, {}, {}};
  return ThresholdSource::kOption;
}

void note_unused_threshold_range(const std::string& what, const std::string& range,
                                 ThresholdSource source) {
  if (range.empty() || source == ThresholdSource::kEstimated) return;
  std::cerr << fmt::format(
      "{}: note: --threshold-range {} is unused: the threshold comes from {} (--auto-threshold "
      "estimates it instead)\n",
      what, range, source == ThresholdSource::kFile ? "the events file" : "the command line");
}

void warn_threshold_at_bound(const std::string& what, const diffevent::ThresholdEstimate& est) {
  if (!est.at_bound) return;
  std::cerr << fmt::format(
      "{}: warning: the estimated threshold {:.3f} is at the end of the search interval; "
      "consider --threshold, or --threshold-range to widen it\n",
      what, est.c);
}

void add_sensor_flags(CLI::App& app, SensorFlags& flags) {
  auto* report = app.add_flag(
      "--sensor-threshold", flags.report,
      "Also estimate the sensor's own (median per-pixel) threshold from the blur its events "
      "explain and report it (docs/edi.md); the output does not use it");
  app.add_flag("--reference-at-start", flags.reference_at_start,
               "With --sensor-threshold: every pixel's reference level was reset when the "
               "exposure began (simulated data such as the benchmark's), not at a random phase "
               "as for a sensor that was already recording")
      ->needs(report);
}

json sensor_threshold_report(const std::string& what, const diffevent::Edi& edi,
                             const diffevent::Image& blurry, const diffevent::EventStream& events,
                             const diffevent::Exposure& exposure, const SensorFlags& flags) {
  diffevent::SensorThresholdOptions o;
  o.reference_at_start = flags.reference_at_start;
  try {
    const auto est = edi.estimate_sensor_threshold(blurry, events, exposure, o);
    return {{"c", est.c},
            {"std_error", est.std_error},
            {"pixels", est.pixels},
            {"c_pos", est.c_pos},
            {"c_neg", est.c_neg},
            {"pixels_pos", est.pixels_pos},
            {"pixels_neg", est.pixels_neg},
            {"blocks", est.blocks},
            {"motion_px", est.motion_px},
            {"at_bound", est.at_bound},
            {"reference_at_start", flags.reference_at_start}};
  } catch (const Error& e) {
    // Too few moving edges is an answer about this frame, not a failure of the command.
    if (std::string(e.what()).rfind("sensor threshold: only", 0) != 0) throw;
    std::cerr << fmt::format("{}: warning: {}\n", what, e.what());
    return {{"error", e.what()}};
  }
}

std::string sensor_threshold_text(const json& r) {
  if (r.contains("error")) return "";
  return fmt::format(
      "sensor threshold: c = {:.4f} (standard error {:.4f}; ON {:.4f}, OFF {:.4f}; {} pixels, "
      "{} blocks, motion {:.1f} px){}\n",
      r["c"].get<double>(), r["std_error"].get<double>(), r["c_pos"].get<double>(),
      r["c_neg"].get<double>(), r["pixels"].get<int64_t>(), r["blocks"].get<int>(),
      r["motion_px"].get<double>(), r["at_bound"].get<bool>() ? ", at the end of its range" : "");
}

void note_estimated_threshold(const std::string& what, const diffevent::ThresholdEstimate& est) {
  std::cerr << fmt::format(
      "{}: the events file states no contrast threshold: estimated c = {:.3f} +- {:.3f} from the "
      "data{} (--threshold sets it)\n",
      what, est.c, est.std_error,
      est.at_bound ? ", at the end of the search interval (--threshold-range widens it): treat it "
                     "with suspicion"
                   : "");
}

}  // namespace diffevent_cli
