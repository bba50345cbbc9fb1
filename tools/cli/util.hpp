#pragma once
// Small helpers shared by the CLI's translation units.
#include <filesystem>
#include <fstream>
#include <string>

#include "diffevent/error.hpp"
#include "diffevent/event_integrator.hpp"

namespace diffevent_cli {

/// Writes `text` to a temporary file beside `path`, then renames it into place.
inline void write_text_atomically(const std::string& path, const std::string& text) {
  using diffevent::ErrorCode;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    DIFFEVENT_CHECK(static_cast<bool>(f), ErrorCode::kIoError, "cannot open '{}' for writing", tmp);
    f << text;
    DIFFEVENT_CHECK(static_cast<bool>(f.flush()), ErrorCode::kIoError, "error while writing '{}'", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  DIFFEVENT_CHECK(!ec, ErrorCode::kIoError, "cannot move '{}' into place: {}", path, ec.message());
}

/// The value of --integral (deblur, benchmark): how E interpolates between events.
inline diffevent::Interpolation parse_integral(const std::string& name) {
  DIFFEVENT_CHECK(name == "step" || name == "ramp", diffevent::ErrorCode::kInvalidArgument,
                  "--integral '{}': expected step or ramp", name);
  return name == "ramp" ? diffevent::Interpolation::kRamp : diffevent::Interpolation::kStep;
}

}  // namespace diffevent_cli
