#pragma once
// Finding the shipped priors (models/{x,r}_prior_{grey,rgb}.pt, installed to
// PREFIX/share/diffevent/models): the one lookup behind the CLI's and the C API's defaults.
// Needs no LibTorch: it finds files; loading them is diffusion_prior.hpp's job.
#include <string>
#include <vector>

#include "diffevent/core/export.hpp"

namespace diffevent {
inline namespace v1 {

/// Which part of the EBRD model y = f(E) x + r a prior serves.
enum class PriorRole {
  kX = 0,  ///< the sharp image x
  kR = 1,  ///< the residual r
};

/// The shipped prior's file name: "x_prior_grey.pt", "r_prior_rgb.pt", ... (channels 1 or 3).
DIFFEVENT_API std::string shipped_prior_file(PriorRole role, int channels);

/// The folders searched, in order: $DIFFEVENT_MODELS when set; PREFIX/share/diffevent/models
/// for each install prefix given (a program passes the prefix it is installed in); the models/
/// folder of the source tree the library was built from, when it exists.
DIFFEVENT_API std::vector<std::string> model_folders(
    const std::vector<std::string>& install_prefixes = {});

/// The path of `file` in the first of `folders` that holds it; kIoError naming every folder
/// looked in when none does.
DIFFEVENT_API std::string find_model_file(const std::string& file,
                                          const std::vector<std::string>& folders);

/// The path of a shipped prior: the first of model_folders() that holds its file. A role and
/// channel count without one, or no folder holding it, is kIoError naming every folder looked
/// in (and how to point at another: DIFFEVENT_MODELS).
DIFFEVENT_API std::string find_shipped_prior(PriorRole role, int channels,
                                             const std::vector<std::string>& install_prefixes = {});

}  // namespace v1
}  // namespace diffevent
