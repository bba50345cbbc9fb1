// libFuzzer harness for one event-file reader. Built once per format with
// DIFFEVENT_FUZZ_FORMAT set to an EventFormat enumerator (see tests/fuzz/CMakeLists.txt).
// Each input is written to a file in /dev/shm (the readers take paths) and read twice: whole,
// and streamed in chunks. A diffevent::Error is the expected outcome for a malformed file;
// anything else (another exception, a crash, a leak, a sanitizer report) is a finding.
#include "read_check.hpp"

#ifdef DIFFEVENT_FUZZ_CHECK_HDF5_IDS
#include <hdf5.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = fuzz::scratch_path(DIFFEVENT_FUZZ_EXT);
  if (!fuzz::put_file(path, data, size)) return 0;
  fuzz::read_and_check(path, diffevent::EventFormat::DIFFEVENT_FUZZ_FORMAT);
#ifdef DIFFEVENT_FUZZ_CHECK_HDF5_IDS
  // Every file, dataset, attribute, type and space the reader opened is closed again, on the
  // error paths too. (An id left open stays reachable from HDF5's tables, so LeakSanitizer
  // could not see it; libhdf5's own error-path leaks are suppressed in lsan.supp.)
  if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) __builtin_trap();
#endif
  return 0;
}
