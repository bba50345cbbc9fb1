// diffevent convert: an event file in another format.
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

}  // namespace

Command add_convert(CLI::App& app, const Common& c) {
  auto* conv = app.add_subcommand("convert", "Convert an event file to another format");
  struct Args {
    std::string in, out, format;
  };
  auto a = std::make_shared<Args>();
  conv->add_option("input", a->in, "Input event file")->required();
  conv->add_option("output", a->out, "Output (.txt, .h5, .npy, .npz, .raw, .dat, .aedat4)")
      ->required();
  conv->add_option(
      "-f,--format", a->format,
      "Output format: text, hdf5, npy, npz, evt2, dat or aedat4 (default: from the extension)");
  return {conv, [a, &c] { return run_convert(a->in, a->out, a->format, c.sort, c); }};
}

}  // namespace diffevent_cli
