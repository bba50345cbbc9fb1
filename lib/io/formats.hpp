#pragma once
// Private: the readers and writers of each event format, one file each (lib/io/*_format.cpp),
// which read_events() and write_events() (event_io.cpp) dispatch to.
#include <string>

#include "diffevent/events/event_io.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {

/// The format an extension names (.txt/.csv, .h5/.hdf5, .raw as EVT 3.0, .dat, .aedat4, .mat,
/// .npy, .npz; any case), kAuto for any other.
EventFormat format_from_extension(const std::string& path);

// Format readers and writers (lib/io/*.cpp). `path` is used for errors and opening.
EventFile read_text(const std::string& path, const ReadOptions& o);
void write_text(const std::string& path, const EventStream& ev);
EventFile read_npy(const std::string& path, const ReadOptions& o);
EventFile read_npz(const std::string& path, const ReadOptions& o);
void write_npy(const std::string& path, const EventStream& ev);
void write_npz(const std::string& path, const EventStream& ev);
EventFile read_mat(const std::string& path, const ReadOptions& o);
EventFile read_evt2(const std::string& path, const ReadOptions& o);
EventFile read_evt3(const std::string& path, const ReadOptions& o);
EventFile read_dat(const std::string& path, const ReadOptions& o);
void write_evt2(const std::string& path, const EventStream& ev);
void write_dat(const std::string& path, const EventStream& ev);
EventFile read_aedat4(const std::string& path, const ReadOptions& o);
void write_aedat4(const std::string& path, const EventStream& ev, const WriteOptions& w);
EventFile read_hdf5(const std::string& path, const ReadOptions& o);
void write_hdf5(const std::string& path, const EventStream& ev, const WriteOptions& w);

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
