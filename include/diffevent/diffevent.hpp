#pragma once
/// \file diffevent.hpp
/// Everything: the event half (diffevent/events.hpp) and the diffusion half
/// (diffevent/diffusion.hpp, needs LibTorch). Code that links only diffevent::events includes
/// diffevent/events.hpp.
#include "diffevent/diffusion.hpp"
#include "diffevent/events.hpp"
