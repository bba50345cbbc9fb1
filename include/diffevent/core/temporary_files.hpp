#pragma once
/// \file temporary_files.hpp
/// Cleanup of the temporary files the library's writers have open, for signal handlers.
///
/// Every writer (images, event files, JSON) produces its output as a temporary sibling of the
/// target (`.NAME.tmp` + 16 random hex digits, created exclusively, never through a symbolic
/// link) and renames it into place when complete, so a failure never leaves a half-written
/// output. An exception removes the temporary file; a signal that ends the process cannot,
/// unless the host's handler calls remove_temporary_files() before re-raising:
///
///     extern "C" void on_signal(int sig) {
///       diffevent::remove_temporary_files();
///       std::signal(sig, SIG_DFL);
///       std::raise(sig);
///     }

#include <string>

#include "diffevent/core/export.hpp"

namespace diffevent {
inline namespace v1 {

/// Unlinks every temporary file a writer of this library has open in this process.
/// Async-signal-safe (only atomic loads and unlink(2)); the writers themselves then fail with
/// kIoError if the process goes on. Up to 64 writers at a time are tracked.
DIFFEVENT_API void remove_temporary_files() noexcept;

/// Writes `bytes` to `path` the same way (temporary sibling, renamed into place when complete,
/// the replaced file's mode kept). kIoError names the path and the system's reason.
DIFFEVENT_API void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace v1
}  // namespace diffevent
