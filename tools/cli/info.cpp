// diffevent info: describes an event file, streaming it.
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
int run_info(const std::string& path, bool sort, const Common& c) {
  // Streams the file (constant memory when it states its sensor size).
  diffevent::ReadOptions ro;
  ro.sort_if_unsorted = sort;
  size_t count = 0, on = 0;
  diffevent::TimestampUs t_begin = 0, t_end = 0;
  auto tally = [&](const diffevent::EventStream& e) {
    if (e.empty()) return true;
    if (count == 0) t_begin = e.t_begin();
    t_end = e.t_end();
    count += e.size();
    for (auto p : e.p()) on += p > 0;
    return true;
  };
  if (!sort) ro.on_chunk = tally;
  const diffevent::EventFile ef = diffevent::read_events(path, ro);
  if (!ro.on_chunk) tally(ef.events);
  const auto& e = ef.events;
  json j = {{"file", path},         {"format", diffevent::format_name(ef.format)},
            {"events", count},      {"width", e.width()},
            {"height", e.height()}, {"size_inferred", ef.size_inferred},
            {"events_on", on},      {"events_off", count - on}};
  if (count > 0) {
    j["t_begin_us"] = t_begin;
    j["t_end_us"] = t_end;
    j["duration_us"] = t_end - t_begin;
  }
  json ex = json::array();
  for (const auto& x : ef.exposures) ex.push_back({x.t0_us, x.t1_us});
  j["exposures_us"] = ex;
  j["has_image"] = ef.image.has_value();
  if (ef.thresholds)
    j["thresholds"] = {{"c_pos", ef.thresholds->c_pos}, {"c_neg", ef.thresholds->c_neg}};
  if (c.json_out) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << fmt::format("{}: {} file, {} events ({} ON, {} OFF), sensor {}x{}{}\n", path,
                             diffevent::format_name(ef.format), count, on, count - on, e.width(),
                             e.height(), ef.size_inferred ? " (inferred from coordinates)" : "");
    if (count > 0)
      std::cout << fmt::format("time [{}, {}] us, span {} us\n", t_begin, t_end, t_end - t_begin);
    for (const auto& x : ef.exposures)
      std::cout << fmt::format("exposure [{}, {}] us\n", x.t0_us, x.t1_us);
    std::cout << (ef.thresholds ? fmt::format("contrast threshold stated: ON {:g}, OFF {:g}\n",
                                              ef.thresholds->c_pos, ef.thresholds->c_neg)
                                : std::string("contrast threshold: not stated\n"));
  }
  return 0;
}

}  // namespace

Command add_info(CLI::App& app, const Common& c) {
  auto* info = app.add_subcommand("info", "Describe an event file");
  auto file = std::make_shared<std::string>();
  info->add_option("file", *file, "Event file")->required();
  return {info, [file, &c] { return run_info(*file, c.sort, c); }};
}

}  // namespace diffevent_cli
