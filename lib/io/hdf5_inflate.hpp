#pragma once
// Private: reads 1-D HDF5 datasets compressed with deflate (optionally after the shuffle
// filter) by taking each chunk's stored bytes from HDF5 and inflating them on every core
// (libdeflate where it was built in, else zlib). HDF5's own filter pipeline inflates one chunk
// at a time on the calling thread. See Note [Parallel inflate].
#ifdef DIFFEVENT_HAVE_HDF5
#include <hdf5.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace hdf5 {

// The memory types the event reader asks for.
enum class MemType { kU8, kI8, kU16, kI64, kF64 };

class InflatingReader {
 public:
  InflatingReader();
  ~InflatingReader();
  InflatingReader(const InflatingReader&) = delete;
  InflatingReader& operator=(const InflatingReader&) = delete;

  // Takes dataset `ds` (not owned; it must outlive the reader) as column `col` when it
  // qualifies: 1-D, chunked, every chunk stored, filters deflate or shuffle then deflate,
  // little-endian integers (or floats, when `want` is kF64) that `want` can hold. Returns
  // whether it does; a column that does not is read through HDF5 by the caller.
  bool add(int col, hid_t ds, MemType want, const std::string& src, const char* name);
  bool has(int col) const;

  // Reads the stored bytes of the chunks covering [first, first + k) that are not resident
  // (on this thread, through HDF5) and inflates them on every core in the background; the
  // caller goes on with the chunks already resident. Waits for an earlier start() first.
  void start(size_t first, size_t k);
  // Waits for the chunks of the last start() and rethrows its first error.
  void finish();
  // Releases the chunks that end at or before `first` (after finish()).
  void release_before(size_t first);

  // Elements [first, first + k) of a resident column, converted to its MemType (integers
  // saturate, as HDF5's conversions do).
  void copy(int col, size_t first, size_t k, void* out) const;

 private:
  struct Column;
  struct Job;
  void inflate();
  std::vector<std::unique_ptr<Column>> cols_;
  std::vector<std::vector<unsigned char>> spare_;  // chunk buffers for reuse
  std::vector<Job> jobs_;                          // the last start()'s chunks
  std::atomic<size_t> next_job_{0};
  std::vector<std::thread> pool_;  // inflating jobs_
};

}  // namespace hdf5
}  // namespace detail
}  // namespace v1
}  // namespace diffevent
#endif  // DIFFEVENT_HAVE_HDF5
