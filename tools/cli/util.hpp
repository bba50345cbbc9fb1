#pragma once
// Small helpers shared by the CLI's translation units.
#include <filesystem>
#include <fstream>
#include <string>

#include "core/check.hpp"
#include "diffevent/event_integrator.hpp"
#include "diffevent/temporary_files.hpp"

namespace diffevent_cli {

/// Writes `text` to a temporary file beside `path` (exclusive, unpredictable name), then
/// renames it into place.
inline void write_text_atomically(const std::string& path, const std::string& text) {
  diffevent::write_file_atomically(path, text);
}

/// The value of --integral (deblur, benchmark): how E interpolates between events.
inline diffevent::Interpolation parse_integral(const std::string& name) {
  DIFFEVENT_CHECK(name == "step" || name == "ramp", diffevent::ErrorCode::kInvalidArgument,
                  "--integral '{}': expected step or ramp", name);
  return name == "ramp" ? diffevent::Interpolation::kRamp : diffevent::Interpolation::kStep;
}

}  // namespace diffevent_cli
