#pragma once
// Private: NumPy's .npy format, shared by the .npy and .npz readers and writers (npy_format.cpp,
// npz_format.cpp): dtypes, headers, and decoding an .npy of events into an EventBuilder.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "diffevent/events/event_io.hpp"
#include "io/byte_source.hpp"
#include "io/event_builder.hpp"

namespace diffevent {
inline namespace v1 {
namespace detail {
namespace numpy {

/// One scalar type from a numpy descr such as "<i8", "|u1", "<f4", "|b1".
struct Scalar {
  char kind = 0;  // 'i', 'u', 'f', 'b'
  size_t size = 0;
};

struct Field {
  std::string name;
  Scalar type;
  size_t offset = 0;
};

struct NpyHeader {
  bool structured = false;
  Scalar scalar;              // when !structured
  std::vector<Field> fields;  // when structured
  size_t itemsize = 0;
  bool fortran = false;
  std::vector<int64_t> shape;
};

/// A descr's scalar type, checked (Note [NumPy dtypes]); `padding_allowed` admits 'V' padding.
Scalar parse_scalar(const std::string& d, const std::string& src, bool padding_allowed = false);
/// Reads and checks an .npy header; `in` is left at the first data byte.
NpyHeader parse_header(ByteSource& in, const std::string& src);
/// The first structured field with one of these names, or nullptr.
const Field* find_field(const NpyHeader& h, std::initializer_list<const char*> names);
/// m values `stride` bytes apart, as int64 (floats rounded to the nearest integer).
void load_column(const unsigned char* p, size_t stride, size_t m, const Scalar& s, int64_t* out);
/// One timestamp in microseconds (float seconds when `seconds`), checked finite and in range.
TimestampUs to_us(const unsigned char* p, const Scalar& s, bool seconds, const std::string& src,
                  size_t index);
/// Streams an .npy of events (N x 4 numeric, or structured) into the builder.
void decode_npy(ByteSource& in, const std::string& src, const ReadOptions& o, EventBuilder& b);
/// The header of a C-ordered array.
std::string npy_header(const std::string& descr, const std::string& shape);

/// A 1-D array as an .npy file's bytes.
template <typename T>
inline std::string npy_array(const std::vector<T>& v, const char* descr) {
  std::string s = npy_header(fmt::format("'{}'", descr), fmt::format("({},)", v.size()));
  s.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  return s;
}

}  // namespace numpy
}  // namespace detail
}  // namespace v1
}  // namespace diffevent
