// The C API: the event simulator.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "diffevent/diffevent.h"
#include "diffevent/events.hpp"
#include "internal.hpp"

using diffevent::Error;
using diffevent::ErrorCode;
using namespace diffevent_capi;

extern "C" {

// Simulator

void diffevent_simulator_params_init(diffevent_simulator_params* p) {
  if (p == nullptr) return;
  std::memset(static_cast<void*>(p), 0, sizeof(*p));
  p->struct_size = sizeof(*p);
  const diffevent::SimulatorOptions d;
  p->min_samples = d.min_samples;
  p->exposure_us = d.exposure_us;
  p->refractory_us = d.refractory_us;
  p->c_pos = d.c_pos;
  p->c_neg = d.c_neg;
  p->threshold_sigma = d.threshold_sigma;
  p->shot_noise_hz = d.shot_noise_hz;
  p->leak_hz = d.leak_hz;
  p->log_eps = d.log_eps;
  p->max_step_px = d.max_step_px;
  p->zoom = 1.0;
  p->seed = d.seed;
}

diffevent_status diffevent_simulate(diffevent_context* ctx, const diffevent_image* source,
                                    const diffevent_simulator_params* params,
                                    diffevent_events** out_events, diffevent_image** out_blurry,
                                    diffevent_image** out_sharp) {
  return guard(__func__, [&] {
    REQUIRE_ARG(source);
    REQUIRE_ARG(out_events);
    REQUIRE_ARG(out_blurry);
    check_cancel(ctx);
    const auto p =
        read_params(params, diffevent_simulator_params_init, "diffevent_simulator_params");
    for (double v : {p.c_pos, p.c_neg, p.threshold_sigma, p.shot_noise_hz, p.leak_hz, p.log_eps,
                     p.max_step_px, p.dx_px, p.dy_px, p.rotation_rad, p.zoom})
      check_finite(v, "simulator parameters");
    diffevent::SimulatorOptions o;
    o.width = p.width;
    o.height = p.height;
    o.exposure_us = p.exposure_us;
    o.c_pos = p.c_pos;
    o.c_neg = p.c_neg;
    o.threshold_sigma = p.threshold_sigma;
    o.refractory_us = p.refractory_us;
    o.shot_noise_hz = p.shot_noise_hz;
    o.leak_hz = p.leak_hz;
    o.log_eps = p.log_eps;
    o.max_step_px = p.max_step_px;
    o.min_samples = p.min_samples;
    o.seed = p.seed;
    const diffevent::CameraMotion m{p.dx_px, p.dy_px, p.rotation_rad, p.zoom};
    diffevent::SimulationResult r = diffevent::EventSimulator(o).simulate_motion(source->image, m);
    auto ev = std::make_unique<diffevent_events>();
    ev->events = std::move(r.events);
    ev->exposures.push_back(r.exposure);
    auto blurry = wrap(std::move(r.blurry));
    std::unique_ptr<diffevent_image> sharp;
    if (out_sharp) sharp = wrap(std::move(r.sharp));
    log(ctx, DIFFEVENT_LOG_INFO,
        fmt::format("simulated {} events on {}x{} from {} samples", ev->events.size(),
                    ev->events.width(), ev->events.height(), r.samples));
    *out_events = ev.release();
    *out_blurry = blurry.release();
    if (out_sharp) *out_sharp = sharp.release();
  });
}

}  // extern "C"
