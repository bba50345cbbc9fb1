#pragma once
/// \file diffusion.hpp
/// Umbrella header of the diffusion half (target diffevent::diffevent, needs LibTorch): the EBRD
/// model, diffusion priors, the alternating sampler and deblur(). Includes the event half.
#include "diffevent/diffusion/alternating_sampler.hpp"
#include "diffevent/diffusion/deblur.hpp"
#include "diffevent/diffusion/diffusion_prior.hpp"
#include "diffevent/diffusion/ebrd_model.hpp"
#include "diffevent/diffusion/noise_schedule.hpp"
#include "diffevent/diffusion/options.hpp"
#include "diffevent/diffusion/tensor_interop.hpp"
#include "diffevent/events.hpp"
