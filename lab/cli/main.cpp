// `diffevent-lab`: the lab's subcommands, train-prior and benchmark. `diffevent train-prior` and
// `diffevent benchmark` run here (diffevent execs this program with the whole command line), so
// the product's library and command-line tool carry neither training nor the research
// benchmark.
#include "cli.hpp"
#include "lab/cli/benchmark.hpp"

namespace diffevent_cli {
Command add_train_prior(CLI::App& app, const Common& c);
}

int main(int argc, char** argv) {
  CLI::App app{"diffevent lab: prior training and the quality benchmark"};
  diffevent_cli::Common common;
  diffevent_cli::init_app(app, common);
  std::vector<diffevent_cli::Command> commands = {diffevent_cli::add_train_prior(app, common),
                                                  diffevent_cli::add_benchmark(app, common)};
  return diffevent_cli::run_cli(app, commands, argc, argv);
}
