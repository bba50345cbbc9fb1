// What every event-reader harness checks for one file: read whole, then streamed in chunks with
// a known sensor size (the constant-memory path) and cancelled from the callback. A
// diffevent::Error is the expected outcome for a malformed file; any other exception, crash,
// sanitizer report or leak is a finding, and so is an accepted stream that is not valid.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "diffevent/core/error.hpp"
#include "diffevent/events/event_io.hpp"
#include "diffevent/events/recording.hpp"

namespace fuzz {

// A per-process scratch file in /dev/shm (the readers take paths), with this extension.
inline std::string scratch_path(const char* ext) {
  const char* dir = std::getenv("DIFFEVENT_FUZZ_TMP");
  if (!dir) dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/diffevent-fuzz-" + std::to_string(getpid()) + ext;
}

inline bool put_file(const std::string& path, const void* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  if (size) std::fwrite(data, 1, size, f);
  std::fclose(f);
  return true;
}

inline void read_and_check(const std::string& path, diffevent::EventFormat format) {
  using namespace diffevent;
  ReadOptions whole;
  whole.format = format;
  try {
    const EventFile ef = read_events(path, whole);
    // Whatever a reader accepts must be a valid stream: coordinates inside, times ordered.
    for (size_t i = 0; i < ef.events.size(); ++i) {
      if (ef.events.x()[i] >= ef.events.width() || ef.events.y()[i] >= ef.events.height() ||
          (i && ef.events.t_us()[i] < ef.events.t_us()[i - 1]))
        __builtin_trap();
    }
  } catch (const Error&) {
  }

  ReadOptions streamed = whole;
  streamed.width = 640;  // a known sensor size takes the constant-memory streaming path
  streamed.height = 480;
  size_t seen = 0;
  streamed.on_chunk = [&](const EventStream& chunk) {
    seen += chunk.size();
    return seen < 100000;  // also exercises cancellation from the callback
  };
  try {
    (void)read_events(path, streamed);
  } catch (const Error&) {
  }

  // Files that hold frames also open as recordings: the packet and image index, the first
  // frames' images and events, and a window (each checked as above).
  if (format != EventFormat::kAedat4 && format != EventFormat::kHdf5) return;
  try {
    RecordingOptions ro;
    ro.read.format = format;
    ro.exposure_us = 1000;
    const Recording rec = Recording::open(path, ro);
    for (size_t i = 0; i < rec.size() && i < 4; ++i) {
      try {
        const Image im = rec.image(i);
        const EventStream ev = rec.events(i);
        for (size_t k = 0; k < ev.size(); ++k)
          if (ev.x()[k] >= ev.width() || ev.y()[k] >= ev.height() ||
              ev.t_us()[k] < rec.frame(i).exposure.t0_us ||
              ev.t_us()[k] >= rec.frame(i).exposure.t1_us)
            __builtin_trap();
        if (im.empty()) __builtin_trap();
      } catch (const Error&) {
      }
    }
    (void)rec.events_between(0, 1000000);
  } catch (const Error&) {
  }
}

}  // namespace fuzz
