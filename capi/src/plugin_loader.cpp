// Loads the LibTorch plugin of the C API with dlopen, once: LibTorch and its hundreds of shared
// libraries enter the process only when a prior, an enhancer or deblurring is first used.
#include "plugin_loader.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "diffevent/core/error.hpp"
#include "diffevent/version.hpp"
#include "internal.hpp"

namespace diffevent_capi {
namespace {

struct Loaded {
  const diffevent_torch_plugin* table = nullptr;
  std::string error;  // why there is none
};

Loaded load() {
  Loaded r;
  const char* env = std::getenv("DIFFEVENT_TORCH_PLUGIN");
  const std::string dir = library_directory();
  const std::string file = env != nullptr && *env != '\0' ? std::string(env)
                           : dir.empty()                  ? std::string(kTorchPluginFile)
                                                          : dir + "/" + kTorchPluginFile;
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    r.error = "deblurring, priors and enhancers need LibTorch, through the plugin '" + file +
              "', which could not be loaded (" + (why ? why : "unknown reason") +
              "); a diffevent built with LibTorch installs it beside libdiffevent_c, one built "
              "without LibTorch "
              "has none (set DIFFEVENT_TORCH_PLUGIN to its path if it lives elsewhere)";
    return r;
  }
  auto entry =
      reinterpret_cast<diffevent_torch_plugin_entry>(dlsym(handle, DIFFEVENT_TORCH_PLUGIN_ENTRY));
  const diffevent_torch_plugin* table = entry != nullptr ? entry() : nullptr;
  if (table == nullptr || table->abi != DIFFEVENT_TORCH_PLUGIN_ABI || table->version == nullptr ||
      std::strcmp(table->version, DIFFEVENT_VERSION_STRING) != 0 ||
      table->handle_sizes[0] != sizeof(diffevent_context) ||
      table->handle_sizes[1] != sizeof(diffevent_image) ||
      table->handle_sizes[2] != sizeof(diffevent_events)) {
    r.error = "the LibTorch plugin '" + file + "' does not belong to this library (diffevent " +
              DIFFEVENT_VERSION_STRING + ", plugin interface " +
              std::to_string(DIFFEVENT_TORCH_PLUGIN_ABI) + "; the plugin says " +
              (table && table->version ? table->version : "nothing") +
              "): install the library and its plugin from the same build";
    dlclose(handle);
    return r;
  }
  r.table = table;  // the handle stays open for the life of the process
  return r;
}

const Loaded& loaded() {
  static const Loaded instance = load();  // thread-safe initialisation, once
  return instance;
}

}  // namespace

std::string library_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&library_directory), &info) == 0 || info.dli_fname == nullptr)
    return "";
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

const diffevent_torch_plugin& torch_plugin() {
  const Loaded& l = loaded();
  if (l.table == nullptr) throw diffevent::Error(diffevent::ErrorCode::kUnsupported, l.error);
  return *l.table;
}

bool torch_plugin_available() noexcept {
  try {
    return loaded().table != nullptr;
  } catch (...) {
    return false;
  }
}

}  // namespace diffevent_capi
