#pragma once
// Private: how the C library's heap treats the networks' large activations.
//
// Note [Heap and activations]
// A prior's forward allocates and frees tens of tensors of several to tens of megabytes. glibc
// serves blocks above its mmap threshold (at most 32 MiB, adapting) with fresh mappings and
// returns the heap's top above its trim threshold to the system, so every call faults its
// activations in again: on a 2-core CPU that was 3/4 of a deblur (42.8 s against 12.0 s for
// the bundled sample; docs/performance.md). Raising both thresholds keeps freed blocks in the
// heap for the next call; deblur() hands the memory back when it returns.

namespace diffevent {
inline namespace v1 {
namespace detail {

/// Raises malloc's mmap and trim thresholds (glibc; elsewhere nothing). Process-wide.
void retain_freed_memory();
/// Returns the heap's free memory to the system (glibc malloc_trim; elsewhere nothing).
void release_free_memory();

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
