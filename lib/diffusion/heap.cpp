#include "diffusion/heap.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {

// See Note [Heap and activations].
void retain_freed_memory() {
#if defined(__GLIBC__)
  // Blocks up to 1 GiB come from the heap (a glibc that caps the threshold lower: no mappings
  // at all), and the heap keeps up to 1 GiB free between calls.
  if (mallopt(M_MMAP_THRESHOLD, 1 << 30) == 0) mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
