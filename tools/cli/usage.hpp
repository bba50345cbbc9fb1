#pragma once
// The command line's manners: suggestions for misspelt subcommands and flags, and progress
// lines that suit a terminal and a log file alike.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace diffevent_cli {

/// The name in `names` closest to `word` by edit distance, or "" when none is close enough to
/// be a likely misspelling (at most 2 edits, and fewer than half the word's length).
std::string closest_name(const std::string& word, const std::vector<std::string>& names);

/// What is wrong with the first unknown subcommand ("'deblr' is not a subcommand: did you mean
/// 'deblur'?") or flag ("'--blr': did you mean '--blur'?") on a command line the parser
/// refused; "" when every word is known.
std::string suggest(const CLI::App& app, int argc, const char* const* argv);

/// Progress of a long job on stderr: on a terminal one line redrawn in place, in a log file
/// (stderr not a terminal) plain lines, at most one per `log_interval_s` besides the first and
/// the last. Each update shows done/total, the rate and the time left.
class Progress {
 public:
  Progress(std::string label, std::string unit, double log_interval_s = 1.0);
  /// Reports done of total; the first and the last calls always print.
  void update(long long done, long long total);
  /// A line of its own (ends any line being redrawn).
  void note(const std::string& text);

 private:
  std::string label_, unit_;
  double log_interval_s_;
  bool terminal_;
  bool open_line_ = false;
  double last_print_ = -1e9;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace diffevent_cli
