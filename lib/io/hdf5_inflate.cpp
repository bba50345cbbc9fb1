#include "io/hdf5_inflate.hpp"

#ifdef DIFFEVENT_HAVE_HDF5
#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <thread>
#include <type_traits>

#include "core/check.hpp"
#include "io/hdf5_util.hpp"

#if defined(DIFFEVENT_HAVE_LIBDEFLATE)
#include <libdeflate.h>
#elif defined(DIFFEVENT_HAVE_ZLIB)
#include <zlib.h>
#endif

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace hdf5 {

// Note [Parallel inflate]
// A gzip-compressed event file was read at the speed of one zlib stream (about 18 M events/s
// here). Chunks are independent, so the reader asks HDF5 only for each chunk's stored bytes
// (H5Dread_chunk, on the calling thread: HDF5 is not thread-safe), inflates a run of chunks
// of all four columns on every core, undoes the shuffle filter if present, and converts the
// little-endian elements itself. Only the layouts HDF5 writes for deflate are taken (filter
// masks honoured, so a chunk HDF5 stored unfiltered is copied as is); anything else, and a
// chunk that is not stored (fill values), is left to HDF5. Every stored size and every
// inflated size is checked against the chunk's.

namespace {

// Elements are decoded by copying their little-endian bytes into native integers and floats.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr bool kLittleEndianHost = true;
#else
constexpr bool kLittleEndianHost = false;
#endif

struct Elem {
  bool is_float = false, is_signed = false;
  size_t size = 0;
};

template <typename D, typename S>
D saturate(S v) {
  if constexpr (std::is_floating_point_v<D>) {
    return static_cast<D>(v);
  } else if constexpr (std::is_signed_v<S>) {
    const auto w = static_cast<int64_t>(v);
    if (w < static_cast<int64_t>(std::numeric_limits<D>::min()))
      return std::numeric_limits<D>::min();
    if (w > 0 && static_cast<uint64_t>(w) > static_cast<uint64_t>(std::numeric_limits<D>::max()))
      return std::numeric_limits<D>::max();
    return static_cast<D>(w);
  } else {
    const auto w = static_cast<uint64_t>(v);
    if (w > static_cast<uint64_t>(std::numeric_limits<D>::max()))
      return std::numeric_limits<D>::max();
    return static_cast<D>(w);
  }
}

template <typename D, typename S>
void convert_as(const unsigned char* src, size_t k, D* out) {
  for (size_t i = 0; i < k; ++i) {
    S v;
    std::memcpy(&v, src + i * sizeof(S), sizeof(S));
    out[i] = saturate<D>(v);
  }
}

template <typename D>
void convert(const Elem& e, const unsigned char* src, size_t k, D* out) {
  if (e.is_float) {
    if (e.size == 4) return convert_as<D, float>(src, k, out);
    return convert_as<D, double>(src, k, out);
  }
  switch (e.size) {
    case 1:
      return e.is_signed ? convert_as<D, int8_t>(src, k, out) : convert_as<D, uint8_t>(src, k, out);
    case 2:
      return e.is_signed ? convert_as<D, int16_t>(src, k, out)
                         : convert_as<D, uint16_t>(src, k, out);
    case 4:
      return e.is_signed ? convert_as<D, int32_t>(src, k, out)
                         : convert_as<D, uint32_t>(src, k, out);
    default:
      return e.is_signed ? convert_as<D, int64_t>(src, k, out)
                         : convert_as<D, uint64_t>(src, k, out);
  }
}

}  // namespace

struct InflatingReader::Column {
  hid_t ds = -1;
  std::string src, name;
  MemType want = MemType::kI64;
  Elem elem;
  size_t chunk = 0;  // elements per chunk
  size_t length = 0;
  int deflate_at = -1, shuffle_at = -1;  // the filters' places in the pipeline
  struct Resident {
    size_t index = 0;
    std::vector<unsigned char> bytes;  // chunk * elem.size bytes
  };
  std::deque<Resident> chunks;  // consecutive indices
  size_t chunk_bytes() const { return chunk * elem.size; }
};

struct InflatingReader::Job {
  Column* col = nullptr;
  size_t index = 0;
  std::vector<unsigned char> stored;
  unsigned filter_mask = 0;
  std::vector<unsigned char>* out = nullptr;
  std::exception_ptr error;
};

InflatingReader::InflatingReader() = default;

InflatingReader::~InflatingReader() {
  for (auto& t : pool_) t.join();
}

bool InflatingReader::add(int col, hid_t ds, MemType want, const std::string& src,
                          const char* name) {
  if (!kLittleEndianHost) return false;
#if !defined(DIFFEVENT_HAVE_LIBDEFLATE) && !defined(DIFFEVENT_HAVE_ZLIB)
  return false;
#endif
  Hid dcpl(H5Dget_create_plist(ds), H5Pclose);
  Hid type(H5Dget_type(ds), H5Tclose);
  Hid space(H5Dget_space(ds), H5Sclose);
  if (!dcpl.ok() || !type.ok() || !space.ok() || H5Pget_layout(dcpl) != H5D_CHUNKED ||
      H5Sget_simple_extent_ndims(space) != 1)
    return false;
  auto c = std::make_unique<Column>();
  c->ds = ds;
  c->src = src;
  c->name = name;
  c->want = want;
  hsize_t chunk = 0, dims = 0;
  if (H5Pget_chunk(dcpl, 1, &chunk) != 1 || chunk == 0) return false;
  H5Sget_simple_extent_dims(space, &dims, nullptr);
  c->chunk = static_cast<size_t>(chunk);
  c->length = static_cast<size_t>(dims);
  const int nf = H5Pget_nfilters(dcpl);
  for (int i = 0; i < nf; ++i) {
    unsigned flags = 0, cd[8];
    size_t ncd = 8;
    const H5Z_filter_t f =
        H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &ncd, cd, 0, nullptr, nullptr);
    if (f == H5Z_FILTER_DEFLATE && c->deflate_at < 0)
      c->deflate_at = i;
    else if (f == H5Z_FILTER_SHUFFLE && c->shuffle_at < 0 && c->deflate_at < 0)
      c->shuffle_at = i;
    else
      return false;
  }
  if (c->deflate_at < 0) return false;  // uncompressed: HDF5 reads at memory speed itself
  // Chunks never written read as fill values, which HDF5 knows: such columns stay with it.
  hsize_t stored_chunks = 0;
  if (H5Dget_num_chunks(ds, space, &stored_chunks) < 0 ||
      stored_chunks != (c->length + c->chunk - 1) / c->chunk)
    return false;
  const H5T_class_t cls = H5Tget_class(type);
  c->elem.size = H5Tget_size(type);
  if (H5Tget_order(type) != H5T_ORDER_LE) return false;
  if (cls == H5T_INTEGER) {
    c->elem.is_signed = H5Tget_sign(type) == H5T_SGN_2;
    if (c->elem.size != 1 && c->elem.size != 2 && c->elem.size != 4 && c->elem.size != 8)
      return false;
  } else if (cls == H5T_FLOAT && want == MemType::kF64) {
    // IEEE single or double only (as H5T_NATIVE_FLOAT and _DOUBLE lay them out).
    if (!(H5Tequal(type, H5T_IEEE_F32LE) > 0 || H5Tequal(type, H5T_IEEE_F64LE) > 0)) return false;
    c->elem.is_float = true;
  } else {
    return false;
  }
  if (want == MemType::kU16 && (c->elem.is_signed || c->elem.size > 2)) return false;
  if (static_cast<size_t>(col) >= cols_.size()) cols_.resize(static_cast<size_t>(col) + 1);
  cols_[static_cast<size_t>(col)] = std::move(c);
  return true;
}

bool InflatingReader::has(int col) const {
  return static_cast<size_t>(col) < cols_.size() && cols_[static_cast<size_t>(col)];
}

void InflatingReader::release_before(size_t first) {
  for (auto& cp : cols_) {
    if (!cp) continue;
    while (!cp->chunks.empty() && (cp->chunks.front().index + 1) * cp->chunk <= first) {
      spare_.push_back(std::move(cp->chunks.front().bytes));
      cp->chunks.pop_front();
    }
  }
}

void InflatingReader::start(size_t first, size_t k) {
  finish();
  if (k == 0) return;
  for (auto& cp : cols_) {
    if (!cp) continue;
    Column& c = *cp;
    const size_t a = first / c.chunk, b = (first + k - 1) / c.chunk;
    if (!c.chunks.empty() && (c.chunks.front().index > a || c.chunks.back().index + 1 < a)) {
      // Not the continuation of a forward read (a recording's earlier window): start over.
      for (auto& r : c.chunks) spare_.push_back(std::move(r.bytes));
      c.chunks.clear();
    }
    for (size_t i = c.chunks.empty() ? a : c.chunks.back().index + 1; i <= b; ++i) {
      hsize_t offset = static_cast<hsize_t>(i) * c.chunk, stored = 0;
      DIFFEVENT_CHECK(H5Dget_chunk_storage_size(c.ds, &offset, &stored) >= 0 && stored > 0,
                      ErrorCode::kFormatError,
                      "'{}': chunk {} of dataset {} is not stored (corrupt file?)", c.src, i,
                      c.name);
      // Deflate's worst case grows incompressible data by a few bytes per 16 KiB block.
      DIFFEVENT_CHECK(stored <= c.chunk_bytes() + c.chunk_bytes() / 256 + 1024,
                      ErrorCode::kFormatError,
                      "'{}': chunk {} of dataset {} stores {} bytes for {} (corrupt file?)", c.src,
                      i, c.name, stored, c.chunk_bytes());
      Job j;
      j.col = &c;
      j.index = i;
      j.stored.resize(static_cast<size_t>(stored));
      uint32_t mask = 0;
      DIFFEVENT_CHECK(H5Dread_chunk(c.ds, H5P_DEFAULT, &offset, &mask, j.stored.data()) >= 0,
                      ErrorCode::kFormatError,
                      "'{}': cannot read chunk {} of dataset {} (corrupt or truncated file)", c.src,
                      i, c.name);
      j.filter_mask = mask;
      c.chunks.push_back({i, {}});
      if (!spare_.empty()) {
        c.chunks.back().bytes = std::move(spare_.back());
        spare_.pop_back();
      }
      c.chunks.back().bytes.resize(c.chunk_bytes());
      j.out = &c.chunks.back().bytes;  // a deque's elements stay where they are on push_back
      jobs_.push_back(std::move(j));
    }
  }
  inflate();
}

void InflatingReader::finish() {
  for (auto& t : pool_) t.join();
  pool_.clear();
  std::exception_ptr first_error;
  for (Job& j : jobs_)
    if (j.error && !first_error) first_error = j.error;
  jobs_.clear();
  if (first_error) std::rethrow_exception(first_error);
}

void InflatingReader::inflate() {
  if (jobs_.empty()) return;
  next_job_ = 0;
  auto work = [this] {
    std::vector<Job>& jobs = jobs_;
#if defined(DIFFEVENT_HAVE_LIBDEFLATE)
    std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> d(
        libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
#endif
    std::vector<unsigned char> tmp;
    for (size_t i; (i = next_job_++) < jobs.size();) {
      Job& j = jobs[i];
      try {
        const Column& c = *j.col;
        const size_t want = c.chunk_bytes();
        const bool deflated = !(j.filter_mask & (1u << c.deflate_at));
        const bool shuffled = c.shuffle_at >= 0 && !(j.filter_mask & (1u << c.shuffle_at));
        unsigned char* out = j.out->data();
        unsigned char* dst = shuffled ? (tmp.resize(want), tmp.data()) : out;
        size_t got = 0;
        if (deflated) {
          bool ok = false;
#if defined(DIFFEVENT_HAVE_LIBDEFLATE)
          DIFFEVENT_CHECK(d != nullptr, ErrorCode::kInternal, "libdeflate: out of memory");
          ok = libdeflate_zlib_decompress(d.get(), j.stored.data(), j.stored.size(), dst, want,
                                          &got) == LIBDEFLATE_SUCCESS;
#elif defined(DIFFEVENT_HAVE_ZLIB)
          uLongf n = static_cast<uLongf>(want);
          ok = uncompress(dst, &n, j.stored.data(), static_cast<uLong>(j.stored.size())) == Z_OK;
          got = static_cast<size_t>(n);
#endif
          DIFFEVENT_CHECK(ok, ErrorCode::kFormatError,
                          "'{}': chunk {} of dataset {} is not valid deflate data (corrupt file?)",
                          c.src, j.index, c.name);
        } else {
          got = std::min(j.stored.size(), want);
          std::memcpy(dst, j.stored.data(), got);
        }
        DIFFEVENT_CHECK(got == want, ErrorCode::kFormatError,
                        "'{}': chunk {} of dataset {} holds {} bytes, not {} (corrupt file?)",
                        c.src, j.index, c.name, got, want);
        if (shuffled) {
          // Byte b of element e was stored at b * chunk + e.
          const size_t n = c.chunk, s = c.elem.size;
          for (size_t b = 0; b < s; ++b)
            for (size_t e = 0; e < n; ++e) out[e * s + b] = dst[b * n + e];
        }
        j.stored = std::vector<unsigned char>();
      } catch (...) {
        j.error = std::current_exception();
      }
    }
  };
  // In the background: the calling thread goes on with the chunks already resident.
  const unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                                           static_cast<unsigned>(jobs_.size())));
  for (unsigned t = 0; t < threads; ++t) pool_.emplace_back(work);
}

void InflatingReader::copy(int col, size_t first, size_t k, void* out) const {
  const Column& c = *cols_[static_cast<size_t>(col)];
  size_t done = 0;
  for (const auto& r : c.chunks) {
    const size_t a = r.index * c.chunk, b = a + c.chunk;
    if (b <= first + done) continue;
    if (done == k) break;
    const size_t from = first + done - a, m = std::min(k - done, b - (first + done));
    const unsigned char* src = r.bytes.data() + from * c.elem.size;
    switch (c.want) {
      case MemType::kU8:
        convert(c.elem, src, m, static_cast<uint8_t*>(out) + done);
        break;
      case MemType::kI8:
        convert(c.elem, src, m, static_cast<int8_t*>(out) + done);
        break;
      case MemType::kU16:
        convert(c.elem, src, m, static_cast<uint16_t*>(out) + done);
        break;
      case MemType::kI64:
        convert(c.elem, src, m, static_cast<int64_t*>(out) + done);
        break;
      case MemType::kF64:
        convert(c.elem, src, m, static_cast<double*>(out) + done);
        break;
    }
    done += m;
  }
  DIFFEVENT_CHECK(done == k, ErrorCode::kInternal,
                  "'{}': dataset {} elements [{}, {}) are not resident", c.src, c.name, first,
                  first + k);
}

}  // namespace hdf5
}  // namespace detail
}  // namespace v1
}  // namespace diffevent
#endif  // DIFFEVENT_HAVE_HDF5
