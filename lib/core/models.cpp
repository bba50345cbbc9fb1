#include "diffevent/core/models.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "core/check.hpp"

namespace fs = std::filesystem;

namespace diffevent {
inline namespace v1 {

std::string shipped_prior_file(PriorRole role, int channels) {
  DIFFEVENT_CHECK(role == PriorRole::kX || role == PriorRole::kR, ErrorCode::kInvalidArgument,
                  "prior role {} is neither x (0) nor r (1)", static_cast<int>(role));
  DIFFEVENT_CHECK(channels == 1 || channels == 3, ErrorCode::kInvalidArgument,
                  "shipped priors are grey (1 channel) or RGB (3), not {} channels", channels);
  return std::string(role == PriorRole::kX ? "x" : "r") + "_prior_" +
         (channels == 1 ? "grey" : "rgb") + ".pt";
}

std::vector<std::string> model_folders(const std::vector<std::string>& install_prefixes) {
  std::vector<std::string> folders;
  if (const char* env = std::getenv("DIFFEVENT_MODELS"); env != nullptr && *env != '\0')
    folders.emplace_back(env);
  for (const std::string& prefix : install_prefixes)
    folders.push_back(
        (fs::path(prefix) / "share" / "diffevent" / "models").lexically_normal().string());
#ifdef DIFFEVENT_SOURCE_MODELS
  std::error_code ec;
  if (fs::is_directory(DIFFEVENT_SOURCE_MODELS, ec)) folders.emplace_back(DIFFEVENT_SOURCE_MODELS);
#endif
  return folders;
}

std::string find_shipped_prior(PriorRole role, int channels,
                               const std::vector<std::string>& install_prefixes) {
  return find_model_file(shipped_prior_file(role, channels), model_folders(install_prefixes));
}

std::string find_model_file(const std::string& file, const std::vector<std::string>& folders) {
  std::string looked;
  for (const std::string& folder : folders) {
    std::error_code ec;
    const fs::path path = fs::path(folder) / file;
    if (fs::is_regular_file(path, ec)) return path.string();
    looked += (looked.empty() ? "" : ", ") + folder;
  }
  throw Error(
      ErrorCode::kIoError,
      fmt::format(
          "the prior {} was not found (looked in {}); set DIFFEVENT_MODELS to the folder that "
          "holds it, or name a prior file",
          file,
          looked.empty() ? "no folder: DIFFEVENT_MODELS is unset and no install is known"
                         : looked));
}

}  // namespace v1
}  // namespace diffevent
