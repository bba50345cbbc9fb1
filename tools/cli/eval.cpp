// diffevent eval: PSNR and SSIM of a test image against a reference.
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
int run_eval(const std::string& ref, const std::string& test, const Common& c) {
  const auto a = diffevent::read_image(ref);
  const auto b = diffevent::read_image(test);
  const double p = diffevent::psnr(a, b), s = diffevent::ssim(a, b);
  if (c.json_out) {
    std::cout << json{{"psnr_db", p},
                      {"ssim", s},
                      {"ssim_window", "gaussian 11x11 sigma 1.5, per channel"}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format("PSNR {:.3f} dB  SSIM {:.4f}\n", p, s);
  }
  return 0;
}

}  // namespace

Command add_eval(CLI::App& app, const Common& c) {
  auto* ev = app.add_subcommand("eval", "PSNR and SSIM of a test image against a reference");
  auto a = std::make_shared<std::pair<std::string, std::string>>();
  ev->add_option("-r,--ref", a->first, "Reference image")->required();
  ev->add_option("-t,--test", a->second, "Test image")->required();
  return {ev, [a, &c] { return run_eval(a->first, a->second, c); }};
}

}  // namespace diffevent_cli
