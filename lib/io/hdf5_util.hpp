#pragma once
// Private: what the HDF5 reader and writer (hdf5_format.cpp) share: owning handles, a quiet
// error stack, and the checked reads and writes of datasets and attributes.
#ifdef DIFFEVENT_HAVE_HDF5
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "io/atomic_file.hpp"
#include "io/hdf5_header.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace hdf5 {

// Owns an HDF5 identifier and closes it with the matching function.
class Hid {
 public:
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Hid() {
    if (id_ >= 0) close_(id_);
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  operator hid_t() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Silences the HDF5 error stack printer for the lifetime of the guard (we report errors).
struct QuietHdf5 {
  H5E_auto2_t func = nullptr;
  void* data = nullptr;
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func, data); }
};

inline bool exists(hid_t loc, const char* path) { return H5Lexists(loc, path, H5P_DEFAULT) > 0; }

// libhdf5 trusts the sizes in a file's object headers: 1.10.8 allocates whatever an object
// header claims (a corrupt size: gigabytes, inside H5Fopen) and divides by the chunk
// dimensions of a layout message (a zero: SIGFPE inside H5Dopen2). So every object header is
// walked by our own bounded reader (io/hdf5_header.hpp) before libhdf5 touches it: the root
// group's before H5Fopen, every other object's at the address its link names, found with
// H5Lget_info (which reads the parent group only).
class HeaderVetting {
 public:
  explicit HeaderVetting(const std::string& src) : src_(src), raw_(open_for_read(src)) {
    const auto sb = hdf5_superblock(raw_.get());
    if (!sb) return;  // no superblock: H5Fopen reports the file as unreadable
    layout_ = sb->layout;
    check(sb->root_address, "the root group");
  }

  // Vets the object that `path` (relative to loc) links to; false when no hard link exists.
  bool vet(hid_t loc, const char* path) const {
    if (H5Lexists(loc, path, H5P_DEFAULT) <= 0) return false;
    uint64_t address = 0;
#if H5_VERSION_GE(1, 12, 0)
    H5L_info2_t info;
    haddr_t addr = 0;
    if (H5Lget_info2(loc, path, &info, H5P_DEFAULT) < 0) return false;
    DIFFEVENT_CHECK(
        info.type == H5L_TYPE_HARD && H5VLnative_token_to_addr(loc, info.u.token, &addr) >= 0,
        ErrorCode::kFormatError,
        "'{}': {} is not a hard link (external and soft links are not followed)", src_, path);
    address = addr;
#else
    H5L_info_t info;
    if (H5Lget_info(loc, path, &info, H5P_DEFAULT) < 0) return false;
    DIFFEVENT_CHECK(info.type == H5L_TYPE_HARD, ErrorCode::kFormatError,
                    "'{}': {} is not a hard link (external and soft links are not followed)", src_,
                    path);
    address = info.u.address;
#endif
    check(address, path);
    return true;
  }

  // Whether `name` under `loc` is a dataset (vetted first).
  bool is_dataset(hid_t loc, const char* name) const {
    if (!vet(loc, name)) return false;
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    return H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
           info.type == H5O_TYPE_DATASET;
#else
    H5O_info_t info;
    return H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0 &&
           info.type == H5O_TYPE_DATASET;
#endif
  }

  // The dataset `name` under `loc`, vetted; an invalid id when libhdf5 cannot open it.
  hid_t open(hid_t loc, const char* name) const {
    DIFFEVENT_CHECK(is_dataset(loc, name), ErrorCode::kFormatError,
                    "'{}': {} is missing or not a dataset", src_, name);
    return H5Dopen2(loc, name, H5P_DEFAULT);
  }

 private:
  void check(uint64_t address, const char* what) const {
    const auto problem = hdf5_layout_problem(raw_.get(), address, layout_);
    DIFFEVENT_CHECK(!problem, ErrorCode::kFormatError,
                    "'{}': corrupt or truncated HDF5 file: {}: {}", src_, what,
                    problem.value_or(""));
  }

  std::string src_;
  std::unique_ptr<std::FILE, FileCloser> raw_;
  Hdf5HeaderLayout layout_;
};

inline size_t dataset_length(hid_t ds, const std::string& src, const char* name) {
  Hid space(H5Dget_space(ds), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space);
  DIFFEVENT_CHECK(rank == 1, ErrorCode::kFormatError, "'{}': dataset {} must be 1-D (rank {})", src,
                  name, rank);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  return static_cast<size_t>(n);
}

// libhdf5 allocates a whole chunk (and a conversion buffer) per read, sized from the file's
// metadata: a corrupt chunk size would make it allocate gigabytes. Real event files use chunks
// of at most a few MB; refuse anything over 64 MiB before reading.
inline void check_storage(hid_t ds, const std::string& src, const std::string& name) {
  // Bytes stored for the dataset (its chunk index's sizes): never more than the file holds.
  std::error_code size_error;
  const auto file_bytes = std::filesystem::file_size(src, size_error);
  const hsize_t stored = H5Dget_storage_size(ds);
  DIFFEVENT_CHECK(size_error || stored <= file_bytes, ErrorCode::kFormatError,
                  "'{}': dataset {} claims {} stored bytes in a file of {} (corrupt file?)", src,
                  name, stored, file_bytes);
  Hid dcpl(H5Dget_create_plist(ds), H5Pclose);
  Hid type(H5Dget_type(ds), H5Tclose);
  const size_t elem = type.ok() ? H5Tget_size(type) : 0;
  DIFFEVENT_CHECK(elem >= 1 && elem <= 16, ErrorCode::kFormatError,
                  "'{}': dataset {} has {}-byte elements (corrupt file?)", src, name, elem);
  const H5D_layout_t layout = dcpl.ok() ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
  if (layout == H5D_COMPACT || (layout == H5D_CONTIGUOUS && stored > 0)) {
    // libhdf5 1.10.8 copies a compact or contiguous dataset's extent out of its stored bytes
    // (the compact buffer, the contiguous sieve buffer) without checking that they cover it: a
    // heap overflow on a corrupt file. They must. (Contiguous storage never allocated reads as
    // fill values.)
    Hid space(H5Dget_space(ds), H5Sclose);
    const hssize_t points = space.ok() ? H5Sget_simple_extent_npoints(space) : -1;
    DIFFEVENT_CHECK(
        points >= 0 &&
            static_cast<double>(stored) >= static_cast<double>(points) * static_cast<double>(elem),
        ErrorCode::kFormatError,
        "'{}': {} dataset {} stores {} bytes for {} elements of {} bytes (corrupt file?)", src,
        layout == H5D_COMPACT ? "compact" : "contiguous", name, stored, points, elem);
  }
  if (layout != H5D_CHUNKED) return;
  hsize_t chunk[H5S_MAX_RANK] = {};
  const int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
  double bytes = static_cast<double>(elem);
  for (int i = 0; i < rank; ++i) bytes *= static_cast<double>(chunk[i]);
  DIFFEVENT_CHECK(rank >= 1 && bytes <= 64.0 * (1 << 20), ErrorCode::kFormatError,
                  "'{}': dataset {} has chunks of {:.0f} bytes (corrupt file?)", src, name, bytes);
  // Without filters a stored chunk is the chunk itself; libhdf5 1.10.8 reads a whole chunk out
  // of whatever the chunk index says is stored (a heap overflow when it says less). Every chunk
  // of the grid must be stored, whole; each is looked up by its coordinates (a B-tree search:
  // by index, H5Dget_chunk_info walks the index from the start, quadratic in the chunk count).
  if (H5Pget_nfilters(dcpl) != 0) return;
  Hid fspace(H5Dget_space(ds), H5Sclose);  // 1.10.8 refuses H5S_ALL here
  hsize_t dims[H5S_MAX_RANK] = {}, stored_chunks = 0;
  DIFFEVENT_CHECK(fspace.ok() && H5Sget_simple_extent_ndims(fspace) == rank &&
                      H5Sget_simple_extent_dims(fspace, dims, nullptr) == rank &&
                      H5Dget_num_chunks(ds, fspace, &stored_chunks) >= 0,
                  ErrorCode::kFormatError,
                  "'{}': cannot read the chunk index of dataset {} (corrupt file?)", src, name);
  double grid = 1.0;
  for (int d = 0; d < rank; ++d) grid *= static_cast<double>((dims[d] + chunk[d] - 1) / chunk[d]);
  DIFFEVENT_CHECK(grid == static_cast<double>(stored_chunks), ErrorCode::kFormatError,
                  "'{}': dataset {} stores {} of its {:.0f} chunks (corrupt file?)", src, name,
                  stored_chunks, grid);
  hsize_t at[H5S_MAX_RANK] = {};  // chunk grid coordinates, odometer order
  for (hsize_t i = 0; i < stored_chunks; ++i) {
    hsize_t offset[H5S_MAX_RANK] = {}, size = 0;
    for (int d = 0; d < rank; ++d) offset[d] = at[d] * chunk[d];
    unsigned mask = 0;
    haddr_t addr = 0;
    DIFFEVENT_CHECK(
        H5Dget_chunk_info_by_coord(ds, offset, &mask, &addr, &size) >= 0 &&
            static_cast<double>(size) == bytes,
        ErrorCode::kFormatError,
        "'{}': unfiltered chunk {} of dataset {} stores {} bytes, not {:.0f} (corrupt file?)", src,
        i, name, size, bytes);
    for (int d = rank - 1; d >= 0 && ++at[d] * chunk[d] >= dims[d]; --d) at[d] = 0;
  }
}

// Reads elements [first, first + n) of a 1-D dataset converted to `mem_type`.
inline void read_range(hid_t ds, hid_t mem_type, size_t first, size_t n, void* out,
                       const std::string& src, const char* name) {
  Hid space(H5Dget_space(ds), H5Sclose);
  hsize_t start = first, count = n;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Hid mem(H5Screate_simple(1, &count, nullptr), H5Sclose);
  DIFFEVENT_CHECK(H5Dread(ds, mem_type, mem, space, H5P_DEFAULT, out) >= 0, ErrorCode::kFormatError,
                  "'{}': cannot read dataset {} (corrupt or truncated file)", src, name);
}

inline bool read_attr_double(hid_t obj, const char* name, std::vector<double>& out) {
  if (H5Aexists(obj, name) <= 0) return false;
  Hid a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!a.ok()) return false;
  Hid space(H5Aget_space(a), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n <= 0 || n > 16) return false;
  out.resize(static_cast<size_t>(n));
  return H5Aread(a, H5T_NATIVE_DOUBLE, out.data()) >= 0;
}

inline bool read_attr_int64(hid_t obj, const char* name, int64_t& out) {
  if (H5Aexists(obj, name) <= 0) return false;
  Hid a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  return a.ok() && H5Aread(a, H5T_NATIVE_INT64, &out) >= 0;
}

inline void write_attr_double(hid_t obj, const char* name, const std::vector<double>& v) {
  hsize_t n = v.size();
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Hid a(H5Acreate2(obj, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(a, H5T_NATIVE_DOUBLE, v.data());
}

inline void write_attr_int64(hid_t obj, const char* name, int64_t v) {
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid a(H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(a, H5T_NATIVE_INT64, &v);
}

template <typename T>
inline void write_dataset(hid_t loc, const char* name, hid_t file_type, hid_t mem_type,
                          const std::vector<T>& v, int deflate_level) {
  hsize_t n = v.size();
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Hid plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (n > 0) {
    hsize_t chunk = std::min<hsize_t>(n, 1 << 16);
    H5Pset_chunk(plist, 1, &chunk);
    if (deflate_level > 0) H5Pset_deflate(plist, static_cast<unsigned>(deflate_level));
  }
  Hid ds(H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, plist, H5P_DEFAULT), H5Dclose);
  DIFFEVENT_CHECK(ds.ok(), ErrorCode::kIoError, "HDF5: cannot create dataset {}", name);
  if (n > 0)
    DIFFEVENT_CHECK(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0,
                    ErrorCode::kIoError, "HDF5: cannot write dataset {}", name);
}

}  // namespace hdf5
}  // namespace detail
}  // namespace v1
}  // namespace diffevent
#endif  // DIFFEVENT_HAVE_HDF5
