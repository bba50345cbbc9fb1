// A small, bounded reader of HDF5 object headers (format spec, section IV.A), used to vet a
// dataset's storage layout before libhdf5 opens it. libhdf5 1.10.8 (Debian bookworm) divides by
// the chunk dimensions of a layout message while opening a dataset (H5D__chunk_set_info,
// HDFGroup/hdf5 issue #578), so a corrupt file with a zero chunk dimension kills the process
// with SIGFPE inside H5Dopen2. Reading the layout message ourselves first turns that into an
// error. Needs no libhdf5, so it is unit-tested on hand-made headers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace diffevent {
inline namespace v1 {
namespace detail {

struct Hdf5HeaderLayout {
  unsigned sizeof_addr = 8;  // "size of offsets" from the superblock
  unsigned sizeof_size = 8;  // "size of lengths" from the superblock
  uint64_t base = 0;         // base address (the user block size): file offset of address 0
  unsigned leaf_k = 4;       // group leaf node K (symbol table nodes hold up to 2K entries)
  unsigned internal_k = 16;  // group internal node K (B-tree nodes hold up to 2K children)
};

// Walks the object header at `address` (v1 or v2, following continuation blocks) in `file` and
// checks every data layout message (type 0x0008), attribute message and, for an old-style
// group (symbol table message), its B-tree, symbol table nodes and local heap. Returns a
// description of the first problem (a chunk dimension of zero, a dimensionality out of range, an
// unknown layout version, a message or block running past its end or past the end of the file), or
// nullopt when the header is well formed. Reads at most 64 blocks of at most 1 MiB each.
std::optional<std::string> hdf5_layout_problem(std::FILE* file, uint64_t address,
                                               const Hdf5HeaderLayout& layout);

/// The superblock (versions 0 to 3, at offset 0, 512, 1024, ...): sizes, base address and the
/// root group's object header address. nullopt when none is found or it is truncated.
struct Hdf5Superblock {
  Hdf5HeaderLayout layout;
  uint64_t root_address = 0;
};
std::optional<Hdf5Superblock> hdf5_superblock(std::FILE* file);

}  // namespace detail
}  // namespace v1
}  // namespace diffevent
