#pragma once
/// \file events.hpp
/// Umbrella header of the event half (target diffevent::events, no LibTorch): events and their
/// file formats, the double integral, EDI, the simulator, images and metrics.
#include "diffevent/core/error.hpp"
#include "diffevent/core/models.hpp"
#include "diffevent/core/temporary_files.hpp"
#include "diffevent/events/edi.hpp"
#include "diffevent/events/event_integrator.hpp"
#include "diffevent/events/event_io.hpp"
#include "diffevent/events/event_simulator.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/events/exposure.hpp"
#include "diffevent/events/recording.hpp"
#include "diffevent/image/image.hpp"
#include "diffevent/image/metrics.hpp"
#include "diffevent/version.hpp"
