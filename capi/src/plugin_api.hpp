// Internal to the C API: the table of entry points the LibTorch plugin (libdiffevent_c_torch.so)
// gives the C library. The library loads the plugin on the first call that needs LibTorch
// (plugin_loader.cpp); every function here has the signature of the public one it serves and
// the same contract. After a call that fails, last_error() is the plugin thread's message.
#pragma once

#include <cstdint>

#include "deblur_params.hpp"
#include "diffevent/diffevent.h"

/// Raised whenever the table or the handles' layouts change; the library refuses a plugin with
/// another value (or another version string: they come from one build).
#define DIFFEVENT_TORCH_PLUGIN_ABI 2
/// The symbol the library looks up in the plugin.
#define DIFFEVENT_TORCH_PLUGIN_ENTRY "diffevent_torch_plugin_v1"

struct diffevent_torch_plugin {
  uint32_t abi;         ///< DIFFEVENT_TORCH_PLUGIN_ABI
  const char* version;  ///< DIFFEVENT_VERSION_STRING of the build it came from
  /// sizeof the handles it was built with (diffevent_context, _image, _events): a plugin from
  /// another build whose layouts differ is refused.
  uint32_t handle_sizes[3];
  const char* (*last_error)(void);
  diffevent_status (*enhance)(diffevent_context* ctx, const diffevent_image* integral,
                              const diffevent_image* blurry,
                              const diffevent_enhancer_params* params, diffevent_image** out);
  diffevent_status (*prior_load)(diffevent_context* ctx, const char* path,
                                 const diffevent_prior_params* params, diffevent_prior** out);
  diffevent_status (*prior_create_analytic)(int32_t channels, diffevent_prior** out);
  void (*prior_destroy)(diffevent_prior* prior);
  diffevent_status (*prior_get_metadata)(const diffevent_prior* prior,
                                         diffevent_prior_metadata* out);
  /// diffevent_deblur with its parameters already read and validated by the library.
  diffevent_status (*deblur)(diffevent_context* ctx, const diffevent_image* blurry,
                             const diffevent_events* events, diffevent_prior* x_prior,
                             diffevent_prior* r_prior, const diffevent_capi::DeblurRequest* request,
                             diffevent_image** out_sharp, diffevent_image** out_residual,
                             double* out_threshold);
};

/// The plugin's entry point: its table (static, valid while the plugin is loaded).
extern "C" typedef const diffevent_torch_plugin* (*diffevent_torch_plugin_entry)(void);
