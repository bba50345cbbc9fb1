// The C API's LibTorch plugin (libdiffevent_c_torch.so): enhancers, priors and deblurring.
// libdiffevent_c loads it with dlopen on the first call that needs LibTorch (plugin_loader.cpp)
// and forwards those calls here through the table at the end of this file. Built from the same
// tree as the library, it shares the handles' layouts (internal.hpp) and reports errors through
// its own per-thread message, which the library copies.
#include <c10/util/Exception.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "core/check.hpp"
#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/diffusion/tensor_interop.hpp"
#include "internal.hpp"
#include "plugin_api.hpp"

struct diffevent_prior {
  std::shared_ptr<diffevent::DiffusionPrior> prior;
  std::mutex mutex;  // a prior runs one sampling call at a time
};

using diffevent::Error;
using diffevent::ErrorCode;
using namespace diffevent_capi;

namespace {

diffevent::EbrdOptions enhancer_options(int32_t kind, int32_t radius, double eps,
                                        const char* path) {
  DIFFEVENT_CHECK(kind >= DIFFEVENT_ENHANCER_IDENTITY && kind <= DIFFEVENT_ENHANCER_TORCHSCRIPT,
                  ErrorCode::kInvalidArgument,
                  "enhancer kind {} is not a DIFFEVENT_ENHANCER_* value", kind);
  diffevent::EbrdOptions o;
  o.enhancer = static_cast<diffevent::Enhancer>(kind);
  o.guided_radius = radius;
  o.guided_eps = eps;
  if (path != nullptr) o.enhancer_path = path;
  diffevent::validate(o);
  return o;
}

diffevent_status plugin_enhance(diffevent_context* ctx, const diffevent_image* integral,
                                const diffevent_image* blurry,
                                const diffevent_enhancer_params* params, diffevent_image** out) {
  return guard("diffevent_enhance", [&] {
    REQUIRE_ARG(integral);
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    const auto p = read_params(params, init_enhancer_params, "diffevent_enhancer_params");
    DIFFEVENT_CHECK(integral->image.channels() == 1, ErrorCode::kInvalidArgument,
                    "the double integral must have 1 channel, got {}", integral->image.channels());
    const diffevent::EbrdModel model(
        diffevent::image_to_tensor(blurry->image), diffevent::image_to_tensor(integral->image),
        enhancer_options(p.kind, p.guided_radius, p.guided_eps, p.path));
    auto h = wrap(diffevent::tensor_to_image(model.f_e()));
    *out = h.release();
  });
}

diffevent_status plugin_prior_load(diffevent_context* ctx, const char* path,
                                   const diffevent_prior_params* params, diffevent_prior** out) {
  return guard("diffevent_prior_load", [&] {
    REQUIRE_ARG(path);
    REQUIRE_ARG(out);
    check_cancel(ctx);
    const auto p = read_params(params, init_prior_params, "diffevent_prior_params");
    check_flag(p.half_precision, "half_precision");
    DIFFEVENT_CHECK(p.intra_op_threads >= 0, ErrorCode::kInvalidArgument,
                    "intra_op_threads must be >= 0, got {}", p.intra_op_threads);
    diffevent::TorchScriptPriorOptions o;
    if (p.device != nullptr) o.device = p.device;
    o.half_precision = flag(p.half_precision);
    o.intra_op_threads = p.intra_op_threads;
    check_flag(p.keep_malloc_settings, "keep_malloc_settings");
    o.retain_heap = !flag(p.keep_malloc_settings);
    auto h = std::make_unique<diffevent_prior>();
    h->prior = diffevent::load_prior(path, o);
    log(ctx, DIFFEVENT_LOG_INFO, fmt::format("loaded prior '{}' on {}", path, o.device));
    *out = h.release();
  });
}

diffevent_status plugin_prior_create_analytic(int32_t channels, diffevent_prior** out) {
  return guard("diffevent_prior_create_analytic", [&] {
    REQUIRE_ARG(out);
    auto h = std::make_unique<diffevent_prior>();
    h->prior = diffevent::make_analytic_prior(channels);
    *out = h.release();
  });
}

void plugin_prior_destroy(diffevent_prior* prior) { delete prior; }

diffevent_status plugin_prior_get_metadata(const diffevent_prior* prior,
                                           diffevent_prior_metadata* out) {
  return guard("diffevent_prior_get_metadata", [&] {
    REQUIRE_ARG(prior);
    check_out_struct(out, "diffevent_prior_metadata");
    const diffevent::PriorMetadata& m = prior->prior->metadata();
    diffevent_prior_metadata r;
    init_prior_metadata(&r);
    r.channels = m.channels;
    r.schedule = m.schedule == diffevent::BetaSchedule::kCosine ? DIFFEVENT_SCHEDULE_COSINE
                                                                : DIFFEVENT_SCHEDULE_LINEAR;
    r.num_timesteps = m.num_timesteps;
    r.learned_sigma = m.learned_sigma ? 1 : 0;
    r.size_multiple = m.size_multiple;
    r.data_min = m.data_min;
    r.data_max = m.data_max;
    write_out_struct(out, r);
  });
}

diffevent_status plugin_deblur(diffevent_context* ctx, const diffevent_image* blurry,
                               const diffevent_events* events, diffevent_prior* x_prior,
                               diffevent_prior* r_prior, const DeblurRequest* request,
                               diffevent_image** out_sharp, diffevent_image** out_residual,
                               double* out_threshold) {
  return guard("diffevent_deblur", [&] {
    REQUIRE_ARG(blurry);
    REQUIRE_ARG(events);
    REQUIRE_ARG(out_sharp);
    check_cancel(ctx);
    REQUIRE_ARG(request);
    diffevent::DeblurOptions o = request->options;
    diffevent::SamplerOptions& so = o.sampler;
    std::atomic<bool> never{false};
    so.cancel = ctx != nullptr ? &ctx->cancel : &never;
    so.progress = [&](int done, int total) {
      log(ctx, DIFFEVENT_LOG_DEBUG, fmt::format("deblur: step {}/{}", done, total));
      return request->progress == nullptr ||
             request->progress(request->progress_user_data, done, total) == 0;
    };
    const diffevent::Exposure ex = request->exposure;
    // One sampling run per prior at a time (priors keep per-call state); std::scoped_lock
    // orders the two locks, and the same prior given twice is locked once.
    std::unique_lock<std::mutex> lx, lr;
    if (x_prior != nullptr && r_prior != nullptr && x_prior != r_prior) {
      std::lock(x_prior->mutex, r_prior->mutex);
      lx = std::unique_lock<std::mutex>(x_prior->mutex, std::adopt_lock);
      lr = std::unique_lock<std::mutex>(r_prior->mutex, std::adopt_lock);
    } else if (x_prior != nullptr) {
      lx = std::unique_lock<std::mutex>(x_prior->mutex);
    } else if (r_prior != nullptr) {
      lr = std::unique_lock<std::mutex>(r_prior->mutex);
    }
    const auto t0 = std::chrono::steady_clock::now();
    diffevent::DeblurResult res =
        diffevent::deblur(blurry->image, events->events, ex, x_prior ? x_prior->prior : nullptr,
                          r_prior ? r_prior->prior : nullptr, o);
    log(ctx, DIFFEVENT_LOG_INFO,
        fmt::format("deblur: {} steps, {} network calls, c = {:.4f}, {:.2f} s", so.steps,
                    res.network_calls, res.c_pos,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()));
    auto sharp = wrap(std::move(res.sharp));
    std::unique_ptr<diffevent_image> residual;
    if (out_residual) residual = wrap(std::move(res.residual));
    *out_sharp = sharp.release();
    if (out_residual) *out_residual = residual.release();
    if (out_threshold) *out_threshold = res.c_pos;
  });
}

}  // namespace

namespace {
const char* plugin_last_error() { return diffevent_capi::last_error().c_str(); }
}  // namespace

extern "C" __attribute__((visibility("default"))) const diffevent_torch_plugin*
diffevent_torch_plugin_v1(void) {
  static const diffevent_torch_plugin table = {
      DIFFEVENT_TORCH_PLUGIN_ABI,
      DIFFEVENT_VERSION_STRING,
      {static_cast<uint32_t>(sizeof(diffevent_context)),
       static_cast<uint32_t>(sizeof(diffevent_image)),
       static_cast<uint32_t>(sizeof(diffevent_events))},
      plugin_last_error,
      plugin_enhance,
      plugin_prior_load,
      plugin_prior_create_analytic,
      plugin_prior_destroy,
      plugin_prior_get_metadata,
      plugin_deblur,
  };
  return &table;
}
