// Finding the shipped priors: the order of the folders, the file names, and the error that
// names every folder looked in.
#include "diffevent/core/models.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "test_util.hpp"

using namespace diffevent;

namespace {

// Sets an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

TEST(Models, FileNamesFollowRoleAndChannels) {
  EXPECT_EQ(shipped_prior_file(PriorRole::kX, 1), "x_prior_grey.pt");
  EXPECT_EQ(shipped_prior_file(PriorRole::kR, 3), "r_prior_rgb.pt");
  EXPECT_DIFFEVENT_ERROR(shipped_prior_file(PriorRole::kX, 2), ErrorCode::kInvalidArgument,
                         "grey (1 channel) or RGB (3), not 2 channels");
}

TEST(Models, TheEnvironmentComesFirstThenInstallsThenTheSourceTree) {
  // Given a folder named by DIFFEVENT_MODELS that holds an x prior, and an install prefix
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("env"));
  std::ofstream(dir.file("env/x_prior_grey.pt")) << "x";
  std::filesystem::create_directories(dir.file("prefix/share/diffevent/models"));
  std::ofstream(dir.file("prefix/share/diffevent/models/x_prior_grey.pt")) << "x";
  std::ofstream(dir.file("prefix/share/diffevent/models/r_prior_grey.pt")) << "r";
  const ScopedEnv env("DIFFEVENT_MODELS", dir.file("env"));
  // Then the folders come in that order, the source tree's last
  const auto folders = model_folders({dir.file("prefix")});
  ASSERT_GE(folders.size(), 2u);
  EXPECT_EQ(folders[0], dir.file("env"));
  EXPECT_EQ(folders[1], dir.file("prefix/share/diffevent/models"));
  // And the first folder holding the file wins
  EXPECT_EQ(find_shipped_prior(PriorRole::kX, 1, {dir.file("prefix")}),
            dir.file("env/x_prior_grey.pt"));
  EXPECT_EQ(find_shipped_prior(PriorRole::kR, 1, {dir.file("prefix")}),
            dir.file("prefix/share/diffevent/models/r_prior_grey.pt"));
}

TEST(Models, AMissingPriorNamesEveryFolderLookedIn) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.file("b"));
  std::ofstream(dir.file("b/x_prior_grey.pt")) << "x";
  EXPECT_EQ(find_model_file("x_prior_grey.pt", {dir.file("a"), dir.file("b")}),
            dir.file("b/x_prior_grey.pt"));
  EXPECT_DIFFEVENT_ERROR(find_model_file("r_prior_rgb.pt", {dir.file("a"), dir.file("b")}),
                         ErrorCode::kIoError,
                         "the prior r_prior_rgb.pt was not found (looked in " + dir.file("a") +
                             ", " + dir.file("b") + "); set DIFFEVENT_MODELS");
  EXPECT_DIFFEVENT_ERROR(find_model_file("x_prior_grey.pt", {}), ErrorCode::kIoError,
                         "DIFFEVENT_MODELS is unset");
}

TEST(Models, TheSourceTreeShipsAllFour) {
  // Without DIFFEVENT_MODELS or an install, a build tree finds the priors in models/.
  const ScopedEnv env("DIFFEVENT_MODELS", "");
  for (PriorRole role : {PriorRole::kX, PriorRole::kR})
    for (int channels : {1, 3}) {
      const std::string path = find_shipped_prior(role, channels);
      EXPECT_EQ(path, std::string(DIFFEVENT_SOURCE_DIR) + "/models/" +
                          shipped_prior_file(role, channels));
    }
}
