// `diffevent`: the command-line tool. The event half's subcommands (simulate, edi, eval, info,
// convert) run here without LibTorch; `deblur` runs in `diffevent-diffusion` (this file built
// with DIFFEVENT_HAVE_TORCH) and the lab's `train-prior` and `benchmark` in `diffevent-lab`
// (lab/cli), which `diffevent` execs with the whole command line: beside it in a build tree,
// in ../libexec/diffevent/ in an install.
#include <cstring>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "deblur_recording.hpp"

#ifdef DIFFEVENT_DIFFUSION_HELPER
#include <unistd.h>

#include <cerrno>
#endif

namespace fs = std::filesystem;
using diffevent::ErrorCode;

namespace {

#ifdef DIFFEVENT_DIFFUSION_HELPER
struct Helper {
  const char* program;
  const char* what;  ///< What it needs, for the error when it is missing.
  const char* name;
  const char* description;
};
// The subcommands that run in another program, with their descriptions for --help.
const Helper kHelpers[] = {
    {"diffevent-diffusion", "LibTorch", "deblur",
     "Deblur with the EBRD model and alternating diffusion sampling (Algorithm 1)"},
    {"diffevent-lab", "the lab (DIFFEVENT_BUILD_LAB)", "train-prior",
     "Train or fine-tune a TorchScript diffusion prior on image patches"},
    {"diffevent-lab", "the lab (DIFFEVENT_BUILD_LAB)", "benchmark",
     "Quality benchmark: EDI variants and deblur on a simulated suite, three noise levels"},
};

const Helper kRecordingHelper = {"diffevent-diffusion", "LibTorch (or --method edi)",
                                 "deblur-recording", ""};

// The subcommand named on the command line: the first argument that is not a flag (the global
// options before it, --json and --sort, take no value).
const char* subcommand_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-') return argv[i];
  return nullptr;
}

// deblur-recording runs here with --method edi, in diffevent-diffusion otherwise.
bool recording_needs_diffusion(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--method=edi") == 0) return false;
    if (std::strcmp(argv[i], "--method") == 0 && i + 1 < argc &&
        std::strcmp(argv[i + 1], "edi") == 0)
      return false;
  }
  return true;
}

// Replaces this process with the helper, given the same arguments. Returns only if there is
// none.
int run_helper(const Helper& h, char** argv) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path dir = ec ? fs::path(argv[0]).parent_path() : self.parent_path();
  const fs::path candidates[] = {dir / h.program, dir / ".." / "libexec" / "diffevent" / h.program};
  for (const fs::path& helper : candidates) {
    if (::access(helper.c_str(), X_OK) != 0) continue;
    ::execv(helper.c_str(), argv);
    std::cerr << "diffevent: error: cannot run " << helper.string() << ": " << std::strerror(errno)
              << "\n";
    return static_cast<int>(ErrorCode::kIoError);
  }
  std::cerr << "diffevent: error: '" << h.name << "' needs " << h.what << ", through " << h.program
            << ", which is not installed beside this program (looked for " << candidates[0].string()
            << " and " << candidates[1].lexically_normal().string() << ")\n";
  return static_cast<int>(ErrorCode::kUnsupported);
}
#endif

}  // namespace

int main(int argc, char** argv) {
#ifdef DIFFEVENT_DIFFUSION_HELPER
  if (const char* command = subcommand_of(argc, argv)) {
    for (const Helper& h : kHelpers)
      if (std::strcmp(command, h.name) == 0) return run_helper(h, argv);
    if (std::strcmp(command, "deblur-recording") == 0 && recording_needs_diffusion(argc, argv))
      return run_helper(kRecordingHelper, argv);
  }
#endif
  CLI::App app{"diffevent: event-guided deblurring (EDI double integral, simulator, formats)"};
  diffevent_cli::Common common;
  diffevent_cli::init_app(app, common);
  std::vector<diffevent_cli::Command> commands = {
      diffevent_cli::add_simulate(app, common), diffevent_cli::add_edi(app, common),
      diffevent_cli::add_eval(app, common), diffevent_cli::add_info(app, common),
      diffevent_cli::add_convert(app, common)};
#ifdef DIFFEVENT_HAVE_TORCH
  commands.push_back(diffevent_cli::add_deblur(app, common));
  commands.push_back(
      diffevent_cli::add_deblur_recording(app, common, diffevent_cli::diffusion_recording_method));
#else
  commands.push_back(diffevent_cli::add_deblur_recording(app, common, nullptr));
#endif
#ifdef DIFFEVENT_HAVE_TORCH
#elif defined(DIFFEVENT_DIFFUSION_HELPER)
  // Listed for --help; a command line naming one never reaches the parser (run_helper).
  for (const Helper& h : kHelpers) app.add_subcommand(h.name, h.description)->allow_extras();
#endif
  return diffevent_cli::run_cli(app, commands, argc, argv);
}
