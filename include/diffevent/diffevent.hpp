#pragma once
/// \file diffevent.hpp
/// Umbrella header for the event half (diffevent::events).
#include "diffevent/edi.hpp"
#include "diffevent/error.hpp"
#include "diffevent/event_integrator.hpp"
#include "diffevent/event_io.hpp"
#include "diffevent/event_simulator.hpp"
#include "diffevent/event_stream.hpp"
#include "diffevent/exposure.hpp"
#include "diffevent/image.hpp"
#include "diffevent/metrics.hpp"
#include "diffevent/models.hpp"
#include "diffevent/temporary_files.hpp"
#include "diffevent/version.hpp"
