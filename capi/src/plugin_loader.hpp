// Internal to the C API: finds and loads the LibTorch plugin once per process, on first use.
#pragma once

#include <string>

#include "plugin_api.hpp"

namespace diffevent_capi {

/// The directory libdiffevent_c was loaded from ("" when unknown).
std::string library_directory();

/// The plugin's file name, looked for next to libdiffevent_c (the directory this library was
/// loaded from), unless the environment variable DIFFEVENT_TORCH_PLUGIN names the file.
inline constexpr const char* kTorchPluginFile = "libdiffevent_c_torch.so";

/// The plugin's table, loading it on the first call (thread-safe; it stays loaded). Throws
/// diffevent::Error(kUnsupported) naming the file looked for and the loader's reason when
/// there is no usable plugin; the outcome is the same on every later call.
const diffevent_torch_plugin& torch_plugin();

/// True when the plugin loads (loads it).
bool torch_plugin_available() noexcept;

}  // namespace diffevent_capi
