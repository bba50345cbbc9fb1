// Structure-aware libFuzzer harness for the NumPy readers (.npy and .npz). The byte-level
// harnesses (fuzz_npy, fuzz_npz) spend most inputs on headers the parser rejects at once; this
// one decodes each input as a recipe (FuzzedDataProvider) for a well-formed container: header
// versions, dtype descriptors (scalars of every kind, byte orders and sizes, raw-byte 'V'
// types with odd or negative sizes, structured dtypes with renamed, reordered or padding
// fields), fortran order, shapes from the interesting sizes (0, 1, 4, 2^31, 2^32, 2^61 + 1,
// ...), member names, stored or deflated zip members whose declared sizes may lie, and data
// that may be shorter or longer than the shape says, or hold NaN, infinities and huge floats.
// The file is then read as fuzz_reader reads it (read_check.hpp).
#include <fuzzer/FuzzedDataProvider.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "read_check.hpp"

namespace {

template <typename T>
void put_le(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out += static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
}

std::string scalar_descr(FuzzedDataProvider& in) {
  static const char* kOrders[] = {"<", ">", "|", "="};
  static const char* kKinds[] = {"i", "u", "f", "b", "V", "c", "U", "S", "O", "M", "m"};
  static const int kSizes[] = {1, 2, 4, 8, 16, 0, 3, -13, 12, 1 << 20};
  if (in.ConsumeIntegralInRange(0, 15) == 0) return in.ConsumeRandomLengthString(12);  // anything
  return std::string(kOrders[in.ConsumeIntegralInRange(0, 3)]) +
         kKinds[in.ConsumeIntegralInRange(0, 10)] +
         std::to_string(kSizes[in.ConsumeIntegralInRange(0, 9)]);
}

std::string dtype(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) return "'" + scalar_descr(in) + "'";
  static const char* kNames[] = {"t", "x", "y", "p", "ts", "timestamp", "polarity", "", "x", "q"};
  std::string d = "[";
  const int fields = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < fields; ++i) {
    d += "('" + std::string(kNames[in.ConsumeIntegralInRange(0, 9)]) + "', '" + scalar_descr(in) +
         "')";
    if (i + 1 < fields) d += ", ";
  }
  return d + "]";
}

uint64_t dimension(FuzzedDataProvider& in) {
  static const uint64_t kSizes[] = {0,
                                    1,
                                    2,
                                    3,
                                    4,
                                    5,
                                    10,
                                    100,
                                    70000,
                                    uint64_t{1} << 31,
                                    uint64_t{1} << 32,
                                    (uint64_t{1} << 61) + 1,
                                    std::numeric_limits<uint64_t>::max()};
  if (in.ConsumeBool()) return in.ConsumeIntegralInRange<uint64_t>(0, 300);
  return kSizes[in.ConsumeIntegralInRange<size_t>(0, std::size(kSizes) - 1)];
}

std::string shape(FuzzedDataProvider& in) {
  const int dims = in.ConsumeIntegralInRange(0, 3);
  std::string s = "(";
  for (int i = 0; i < dims; ++i)
    s += std::to_string(dimension(in)) + (dims == 1 || i + 1 < dims ? "," : "");
  return s + ")";
}

// Data bytes: the fuzzer's own, or a run of one notable 8-byte value.
std::string payload(FuzzedDataProvider& in) {
  if (in.ConsumeBool()) return in.ConsumeBytesAsString(in.ConsumeIntegralInRange<size_t>(0, 4096));
  static const double kValues[] = {std::numeric_limits<double>::quiet_NaN(),
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   1e300,
                                   -1e300,
                                   9.3e18,
                                   0.5,
                                   1.0,
                                   -1.0};
  const double v = kValues[in.ConsumeIntegralInRange<size_t>(0, std::size(kValues) - 1)];
  std::string one(8, '\0');
  std::memcpy(one.data(), &v, 8);
  std::string out;
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 64); n > 0; --n) out += one;
  return out;
}

std::string npy(FuzzedDataProvider& in) {
  std::string dict = "{'descr': " + dtype(in) + ", 'fortran_order': " +
                     (in.ConsumeIntegralInRange(0, 7) == 0 ? std::string("1")
                      : in.ConsumeBool()                   ? "True"
                                                           : "False") +
                     ", 'shape': " + shape(in) + ", }";
  const int version = in.ConsumeIntegralInRange(1, 4);  // 4 is not a NumPy version
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(version);
  out += '\0';
  if (version == 1)
    put_le<uint16_t>(out, static_cast<uint16_t>(dict.size()));
  else
    put_le<uint32_t>(out, static_cast<uint32_t>(dict.size()));
  return out + dict + payload(in);
}

// A zip archive of .npy members, stored or deflated, with sizes that may be misdeclared.
std::string npz(FuzzedDataProvider& in) {
  static const char* kMembers[] = {"t",  "x",  "y",         "p",        "events", "ts", "xs",
                                   "ys", "ps", "timestamp", "polarity", "x",      ""};
  std::string local, central;
  const int members = in.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < members; ++i) {
    const std::string name =
        std::string(kMembers[in.ConsumeIntegralInRange<size_t>(0, std::size(kMembers) - 1)]) +
        (in.ConsumeIntegralInRange(0, 7) ? ".npy" : "");
    const std::string raw = npy(in);
    std::string stored = raw;
    const bool deflated = in.ConsumeBool();
    if (deflated) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
      stored.assign(deflateBound(&z, raw.size()), '\0');
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
      z.avail_in = static_cast<uInt>(raw.size());
      z.next_out = reinterpret_cast<Bytef*>(stored.data());
      z.avail_out = static_cast<uInt>(stored.size());
      deflate(&z, Z_FINISH);
      stored.resize(z.total_out);
      deflateEnd(&z);
    }
    uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(raw.data()), static_cast<uInt>(raw.size())));
    uint32_t csize = static_cast<uint32_t>(stored.size()),
             usize = static_cast<uint32_t>(raw.size());
    switch (in.ConsumeIntegralInRange(0, 7)) {  // mostly honest, sometimes not
      case 0:
        usize = in.ConsumeIntegral<uint32_t>();
        break;
      case 1:
        csize = in.ConsumeIntegral<uint32_t>();
        break;
      case 2:
        crc ^= 1;
        break;
      case 3:
        stored.resize(stored.size() / 2);
        break;
      default:
        break;
    }
    const uint32_t offset = static_cast<uint32_t>(local.size());
    put_le<uint32_t>(local, 0x04034b50);
    put_le<uint16_t>(local, 20);
    put_le<uint16_t>(local, 0);
    put_le<uint16_t>(local, deflated ? 8 : 0);
    put_le<uint32_t>(local, 0);
    put_le<uint32_t>(local, crc);
    put_le<uint32_t>(local, csize);
    put_le<uint32_t>(local, usize);
    put_le<uint16_t>(local, static_cast<uint16_t>(name.size()));
    put_le<uint16_t>(local, 0);
    local += name + stored;
    put_le<uint32_t>(central, 0x02014b50);
    put_le<uint16_t>(central, 20);
    put_le<uint16_t>(central, 20);
    put_le<uint16_t>(central, 0);
    put_le<uint16_t>(central, deflated ? 8 : 0);
    put_le<uint32_t>(central, 0);
    put_le<uint32_t>(central, crc);
    put_le<uint32_t>(central, csize);
    put_le<uint32_t>(central, usize);
    put_le<uint16_t>(central, static_cast<uint16_t>(name.size()));
    put_le<uint16_t>(central, 0);
    put_le<uint16_t>(central, 0);
    put_le<uint16_t>(central, 0);
    put_le<uint16_t>(central, 0);
    put_le<uint32_t>(central, 0);
    put_le<uint32_t>(central, offset);
    central += name;
  }
  std::string out = local + central;
  put_le<uint32_t>(out, 0x06054b50);
  put_le<uint16_t>(out, 0);
  put_le<uint16_t>(out, 0);
  put_le<uint16_t>(out, static_cast<uint16_t>(members));
  put_le<uint16_t>(out, static_cast<uint16_t>(members));
  put_le<uint32_t>(out, static_cast<uint32_t>(central.size()));
  put_le<uint32_t>(out, static_cast<uint32_t>(local.size()));
  put_le<uint16_t>(out, 0);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string npy_path = fuzz::scratch_path("-s.npy"),
                           npz_path = fuzz::scratch_path("-s.npz");
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    const std::string bytes = npy(in);
    if (fuzz::put_file(npy_path, bytes.data(), bytes.size()))
      fuzz::read_and_check(npy_path, diffevent::EventFormat::kNpy);
  } else {
    const std::string bytes = npz(in);
    if (fuzz::put_file(npz_path, bytes.data(), bytes.size()))
      fuzz::read_and_check(npz_path, diffevent::EventFormat::kNpz);
  }
  return 0;
}
