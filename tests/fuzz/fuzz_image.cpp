// libFuzzer harness for the image reader (PNG through libpng, PFM), with the default limits a
// host gets. A diffevent::Error is the expected outcome for a malformed file. Whatever the reader
// accepts must be a well-formed image (positive sizes within the limits, the values its size
// says) and must survive a lossless round trip through the PFM writer. Allocations beyond
// libFuzzer's -malloc_limit_mb (a header claiming more pixels than its file can hold) are
// findings.
#include <cstdint>
#include <string>

#include "diffevent/image/image.hpp"
#include "read_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace diffevent;
  static const std::string path = fuzz::scratch_path(".img"), copy = fuzz::scratch_path(".pfm");
  if (!fuzz::put_file(path, data, size)) return 0;
  const ImageReadLimits limits;
  try {
    const Image img = read_image(path, limits);
    if (img.channels() != 1 && img.channels() != 3) __builtin_trap();
    if (img.height() < 1 || img.width() < 1 || img.height() > limits.max_side ||
        img.width() > limits.max_side || int64_t{img.height()} * img.width() > limits.max_pixels)
      __builtin_trap();
    if (img.values().size() != size_t(img.channels()) * img.height() * img.width())
      __builtin_trap();
    write_image(copy, img);
    const Image back = read_image(copy, limits);
    if (back.channels() != img.channels() || back.height() != img.height() ||
        back.width() != img.width())
      __builtin_trap();
    for (size_t i = 0; i < img.values().size(); ++i) {
      const float a = img.values()[i], b = back.values()[i];
      if (!(a == b || (a != a && b != b))) __builtin_trap();  // bit-equal, NaN stays NaN
    }
  } catch (const Error&) {
  }
  return 0;
}
