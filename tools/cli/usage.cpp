#include "usage.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

namespace diffevent_cli {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The long and short flags of one parser ("--blur", "-b").
std::vector<std::string> flags_of(const CLI::App& app) {
  std::vector<std::string> flags;
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& n : o->get_lnames()) flags.push_back("--" + n);
    for (const std::string& n : o->get_snames()) flags.push_back("-" + n);
  }
  return flags;
}

}  // namespace

std::string closest_name(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = 3;  // at most 2 edits
  for (const std::string& name : names) {
    const size_t d = edit_distance(word, name);
    if (d < best_distance && 2 * d < std::max(word.size(), name.size())) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

std::string suggest(const CLI::App& app, int argc, const char* const* argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  const CLI::App* command = nullptr;
  for (int i = 1; i < argc && command == nullptr; ++i) {
    const std::string arg = argv[i];
    if (arg.empty() || arg[0] == '-') continue;
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == arg) command = sub;
    if (command == nullptr) {  // the first word is not a subcommand
      const std::string near = closest_name(arg, commands);
      return near.empty() ? fmt::format("'{}' is not a subcommand", arg)
                          : fmt::format("'{}' is not a subcommand: did you mean '{}'?", arg, near);
    }
  }
  std::vector<std::string> flags = flags_of(app);
  if (command != nullptr) {
    const std::vector<std::string> more = flags_of(*command);
    flags.insert(flags.end(), more.begin(), more.end());
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-' || arg == "--") continue;
    if (const size_t eq = arg.find('='); eq != std::string::npos) arg.resize(eq);
    if (std::find(flags.begin(), flags.end(), arg) != flags.end()) continue;
    if (arg.size() > 2 && arg[1] != '-')
      continue;  // -abc: short flags run together, or a negative number
    const std::string near = closest_name(arg, flags);
    if (!near.empty()) return fmt::format("'{}': did you mean '{}'?", arg, near);
  }
  return "";
}

Progress::Progress(std::string label, std::string unit, double log_interval_s)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      log_interval_s_(log_interval_s),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

void Progress::update(long long done, long long total) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const bool last = done >= total;
  const double interval = terminal_ ? 0.1 : log_interval_s_;
  if (done > 1 && !last && elapsed - last_print_ < interval) return;
  last_print_ = elapsed;
  std::string eta = "estimating time left";
  if (done > 0) {
    const double left = (total - done) * elapsed / done;
    eta = last        ? fmt::format("done in {:.1f} s", elapsed)
          : left < 90 ? fmt::format("{:.0f} s left", left)
                      : fmt::format("{:.1f} min left", left / 60);
  }
  const double rate = elapsed > 0 ? done / elapsed : 0;
  const std::string line =
      fmt::format("{}: {} {}/{}  {}  {}", label_, unit_, done, total,
                  done == 0   ? std::string("starting")
                  : rate >= 1 ? fmt::format("{:.1f} {}/s", rate, unit_)
                              : fmt::format("{:.1f} s/{}", rate > 0 ? 1 / rate : elapsed, unit_),
                  eta);
  if (terminal_) {
    std::cerr << "\r" << line << "\x1b[K" << (last ? "\n" : "") << std::flush;
    open_line_ = !last;
  } else {
    std::cerr << line << "\n" << std::flush;
  }
}

void Progress::note(const std::string& text) {
  if (open_line_) std::cerr << "\n";
  open_line_ = false;
  std::cerr << label_ << ": " << text << "\n" << std::flush;
}

}  // namespace diffevent_cli
