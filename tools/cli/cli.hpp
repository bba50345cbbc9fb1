#pragma once
// The command line's building blocks: one file per subcommand (simulate.cpp, edi.cpp, ...)
// adds its parser to the app and returns what runs it; run_cli() parses, runs the chosen one
// and turns errors into exit codes. Shared by `diffevent`, `diffevent-diffusion` and
// `diffevent-lab`.
// Exit codes: 0 success, 1..8 diffevent::ErrorCode of the failure, 64 usage error.
#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "diffevent/events.hpp"

namespace diffevent_cli {

using json = nlohmann::json;

/// The global flags every subcommand sees.
struct Common {
  bool json_out = false;  ///< --json: machine-readable results on stdout.
  bool sort = false;      ///< --sort: sort unsorted event files instead of refusing them.
};

/// A subcommand: its parser and what runs it once the command line is parsed.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

/// The CLI app with the global flags, ready for subcommands.
void init_app(CLI::App& app, Common& common);

/// Parses the command line, runs the chosen command, and maps errors to exit codes (a message
/// on stderr, with a suggestion for a misspelt subcommand or flag).
int run_cli(CLI::App& app, const std::vector<Command>& commands, int argc, char** argv);

// The subcommands of the event half.
Command add_simulate(CLI::App& app, const Common& c);
Command add_edi(CLI::App& app, const Common& c);
Command add_eval(CLI::App& app, const Common& c);
Command add_info(CLI::App& app, const Common& c);
Command add_convert(CLI::App& app, const Common& c);
#ifdef DIFFEVENT_HAVE_TORCH
// The diffusion half (diffevent-diffusion).
Command add_deblur(CLI::App& app, const Common& c);
#endif

// ---- Helpers shared by the subcommands

/// Set by SIGINT while a cancellable job runs (deblur, benchmark, training).
std::atomic<bool>& interrupted();
/// While alive, SIGINT sets interrupted() (the job stops at its next check); after, SIGINT
/// removes the temporary files of writers in flight and ends the process, as SIGTERM does.
class CancelOnSigint {
 public:
  CancelOnSigint();
  ~CancelOnSigint();
  CancelOnSigint(const CancelOnSigint&) = delete;
  CancelOnSigint& operator=(const CancelOnSigint&) = delete;
};

/// Creates a folder and its parents; kIoError naming it when that fails.
void ensure_dir(const std::string& dir);
/// "T0:T1" in microseconds.
diffevent::Exposure parse_exposure(const std::string& s);
/// "WxH".
std::pair<int, int> parse_size(const std::string& s);
/// --threshold-range MIN:MAX: the threshold search's interval (the library's defaults for "").
diffevent::ThresholdSearchOptions parse_threshold_range(const std::string& s);
/// Adds --threshold-range (bound to `range`, excluding `threshold`) to a command that searches
/// a threshold; parse_threshold_range checks its value.
void add_threshold_range(CLI::App& app, std::string& range, CLI::Option* threshold);
/// Reads events and makes their sensor size agree with an image when the file stated none.
diffevent::EventFile load_events(const std::string& path, const diffevent::Image* image, bool sort);
/// The exposure from --exposure (T0:T1, or "span" for the events' own time span), else from the
/// events file; `source` says which.
diffevent::Exposure resolve_exposure(const std::string& arg, const diffevent::EventFile& ef,
                                     const std::string& path, std::string* source);
/// Thresholds from the command line: --threshold (both polarities), --threshold-pos,
/// --threshold-neg, each when given.
struct ThresholdFlags {
  std::optional<double> both, pos, neg;
  bool any() const { return both || pos || neg; }
};
/// Where the contrast thresholds come from: never a silent default. The flags when given (a
/// polarity they leave out comes from the file), else what the events file states, else
/// "estimated": the caller estimates them from the data (and says so).
enum class ThresholdSource { kOption, kFile, kEstimated };
const char* threshold_source_name(ThresholdSource source);
/// Checks each given flag is a valid threshold (kInvalidArgument naming the flag); cheap, so
/// commands call it before loading anything.
void check_threshold_flags(const ThresholdFlags& flags);
/// Resolves the flags against the file's statement into `out` (checking them first);
/// kInvalidArgument when a polarity is given alone and the file states no threshold for the
/// other.
ThresholdSource resolve_thresholds(const ThresholdFlags& flags,
                                   const std::optional<diffevent::Thresholds>& stated,
                                   diffevent::Thresholds& out);
/// The note on stderr when a threshold is estimated because nothing states it.
void note_estimated_threshold(const std::string& what, const diffevent::ThresholdEstimate& est);
/// The note on stderr when --threshold-range was given but the threshold is not estimated.
void note_unused_threshold_range(const std::string& what, const std::string& range,
                                 ThresholdSource source);
/// The warning on stderr when an estimate asked for (--auto-threshold) ended at the end of its
/// search interval; nothing otherwise.
void warn_threshold_at_bound(const std::string& what, const diffevent::ThresholdEstimate& est);
/// --sensor-threshold and --reference-at-start: report the sensor's own threshold
/// (Edi::estimate_sensor_threshold) beside the output; it does not change the output.
struct SensorFlags {
  bool report = false;
  bool reference_at_start = false;
};
void add_sensor_flags(CLI::App& app, SensorFlags& flags);
/// The estimate as JSON ("sensor_threshold"): its fields, or {"error": why} after a warning on
/// stderr when the frame has too few moving edges (the command goes on).
json sensor_threshold_report(const std::string& what, const diffevent::Edi& edi,
                             const diffevent::Image& blurry, const diffevent::EventStream& events,
                             const diffevent::Exposure& exposure, const SensorFlags& flags);
/// One line for the text output ("" for a report that holds an error).
std::string sensor_threshold_text(const json& report);
/// The shipped prior for a role and channel count (diffevent::find_shipped_prior from this
/// program's install), or "" with a note on stderr when none is installed.
std::string shipped_prior(diffevent::PriorRole role, int channels);
/// Writes `text` to a temporary file beside `path`, then renames it into place.
void write_text_atomically(const std::string& path, const std::string& text);
/// The value of --integral: how E interpolates between events ("step" or "ramp").
diffevent::Interpolation parse_integral(const std::string& name);
const char* integral_name(diffevent::Interpolation interpolation);

}  // namespace diffevent_cli
