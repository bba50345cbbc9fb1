#include "diffevent/image/image.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>

#include "core/check.hpp"
#include "io/atomic_file.hpp"

#ifdef DIFFEVENT_HAVE_PNG
#include <png.h>
#endif

namespace diffevent {
inline namespace v1 {

Image::Image(int channels, int height, int width, float fill)
    : c_(channels), h_(height), w_(width) {
  DIFFEVENT_CHECK(channels >= 1 && height >= 1 && width >= 1, ErrorCode::kInvalidArgument,
                  "image: size [{}, {}, {}] is invalid (each dimension must be >= 1)", channels,
                  height, width);
  data_.assign(static_cast<size_t>(channels) * plane_size(), fill);
}

Image Image::to_grey() const {
  if (c_ == 1) return *this;
  DIFFEVENT_CHECK(c_ == 3, ErrorCode::kInvalidArgument,
                  "image: cannot convert {} channels to grey (expected 1 or 3)", c_);
  Image g(1, h_, w_);
  const float* r = plane(0);
  const float* gr = plane(1);
  const float* b = plane(2);
  for (size_t i = 0; i < plane_size(); ++i)
    g.data()[i] = 0.299f * r[i] + 0.587f * gr[i] + 0.114f * b[i];
  return g;
}

bool Image::all_finite() const noexcept {
  for (float v : data_) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

void srgb_to_linear(Image& image) {
  for (float& v : image.values()) {
    const float c = std::fmin(std::fmax(v, 0.0f), 1.0f);
    v = c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f);
  }
}

void linear_to_srgb(Image& image) {
  for (float& v : image.values()) {
    const float c = std::fmin(std::fmax(v, 0.0f), 1.0f);
    v = c <= 0.0031308f ? 12.92f * c : 1.055f * std::pow(c, 1.0f / 2.4f) - 0.055f;
  }
}

namespace {

using detail::FileCloser;
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// PFM: "PF" (RGB) or "Pf" (grey), "W H", scale (negative = little endian), rows bottom-to-top.
// Width and height a header declares, checked against the limits before anything is allocated.
void check_declared_size(const std::string& path, const char* format, int64_t w, int64_t h,
                         const ImageReadLimits& limits) {
  DIFFEVENT_CHECK(w >= 1 && h >= 1, ErrorCode::kFormatError,
                  "'{}': the {} header declares an empty image ({} x {})", path, format, w, h);
  DIFFEVENT_CHECK(w <= limits.max_side && h <= limits.max_side && w * h <= limits.max_pixels,
                  ErrorCode::kFormatError,
                  "'{}': the {} header declares {} x {} pixels, beyond the reader's limits ({} per "
                  "side, {} pixels; "
                  "ImageReadLimits)",
                  path, format, w, h, limits.max_side, limits.max_pixels);
}

Image read_pfm(const std::string& path, const std::string& bytes, const ImageReadLimits& limits) {
  size_t pos = 0;
  auto token = [&]() {
    while (pos < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[pos]))) ++pos;
    const size_t start = pos;
    while (pos < bytes.size() && !std::isspace(static_cast<unsigned char>(bytes[pos]))) ++pos;
    return bytes.substr(start, pos - start);
  };
  const std::string magic = token();
  const int c = magic == "PF" ? 3 : 1;
  long w = 0, h = 0;
  double scale = 0;
  try {
    w = std::stol(token());
    h = std::stol(token());
    scale = std::stod(token());
  } catch (const std::exception&) {
    throw Error(ErrorCode::kFormatError, fmt::format("'{}': malformed PFM header", path));
  }
  DIFFEVENT_CHECK(
      w >= 1 && h >= 1 && w <= 1 << 20 && h <= 1 << 20 && std::isfinite(scale) && scale != 0,
      ErrorCode::kFormatError, "'{}': PFM header has invalid size {}x{} or scale {}", path, w, h,
      scale);
  check_declared_size(path, "PFM", w, h, limits);
  ++pos;  // the single whitespace after the scale
  const size_t need = static_cast<size_t>(w) * static_cast<size_t>(h) * static_cast<size_t>(c) * 4;
  DIFFEVENT_CHECK(bytes.size() >= pos + need, ErrorCode::kFormatError,
                  "'{}': PFM file is truncated ({} bytes of pixel data, expected {})", path,
                  bytes.size() - std::min(bytes.size(), pos), need);
  DIFFEVENT_CHECK(scale < 0, ErrorCode::kUnsupported,
                  "'{}': big-endian PFM files are not supported", path);
  Image img(c, static_cast<int>(h), static_cast<int>(w));
  const char* src = bytes.data() + pos;
  for (long y = 0; y < h; ++y) {
    for (long x = 0; x < w; ++x) {
      for (int ch = 0; ch < c; ++ch) {
        float v;
        std::memcpy(
            &v,
            src + ((static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x)) *
                       static_cast<size_t>(c) +
                   static_cast<size_t>(ch)) *
                      4,
            4);
        img.at(ch, static_cast<int>(h - 1 - y), static_cast<int>(x)) = v;
      }
    }
  }
  return img;
}

void write_pfm(const std::string& path, const Image& img) {
  DIFFEVENT_CHECK(img.channels() == 1 || img.channels() == 3, ErrorCode::kInvalidArgument,
                  "image: PFM stores 1 or 3 channels, got {}", img.channels());
  FilePtr f(detail::open_for_write(path));
  const std::string header = fmt::format("{}\n{} {}\n-1.0\n", img.channels() == 3 ? "PF" : "Pf",
                                         img.width(), img.height());
  std::fwrite(header.data(), 1, header.size(), f.get());
  std::vector<float> row(static_cast<size_t>(img.width()) * static_cast<size_t>(img.channels()));
  for (int y = img.height() - 1; y >= 0; --y) {
    for (int x = 0; x < img.width(); ++x) {
      for (int c = 0; c < img.channels(); ++c) {
        row[static_cast<size_t>(x) * static_cast<size_t>(img.channels()) + static_cast<size_t>(c)] =
            img.at(c, y, x);
      }
    }
    std::fwrite(row.data(), sizeof(float), row.size(), f.get());
  }
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}

#ifdef DIFFEVENT_HAVE_PNG
struct PngError {
  std::string message;
};

[[noreturn]] void png_error_fn(png_structp png, png_const_charp msg) {
  auto* err = static_cast<PngError*>(png_get_error_ptr(png));
  if (err) err->message = msg;
  png_longjmp(png, 1);
}
void png_warning_fn(png_structp, png_const_charp) {}

// Every chunk's declared length must fit in the bytes left in the file: libpng allocates a
// chunk's buffer from its header before it reads the data (a 115-byte file declaring a 1.97 GB
// zTXt chunk made it allocate 1.97 GB). Walks the chunk headers up to IEND, then rewinds.
void vet_png_chunks(std::FILE* f, int64_t file_bytes, const std::string& path) {
  int64_t pos = 8;  // after the signature (libpng checks it)
  while (pos + 8 <= file_bytes && std::fseek(f, static_cast<long>(pos), SEEK_SET) == 0) {
    unsigned char h[8];
    if (std::fread(h, 1, 8, f) != 8) break;
    const int64_t length =
        (int64_t{h[0]} << 24) | (int64_t{h[1]} << 16) | (int64_t{h[2]} << 8) | int64_t{h[3]};
    std::string type(reinterpret_cast<const char*>(h + 4), 4);
    for (char& c : type)
      if (!std::isalpha(static_cast<unsigned char>(c))) c = '?';
    DIFFEVENT_CHECK(length + 12 <= file_bytes - pos, ErrorCode::kFormatError,
                    "'{}': invalid or truncated PNG: the chunk '{}' at byte {} declares {} bytes "
                    "of data, the file has {} left",
                    path, type, pos, length, std::max<int64_t>(0, file_bytes - pos - 12));
    if (type == "IEND") break;
    pos += 12 + length;
  }
  std::rewind(f);
}

Image read_png(const std::string& path, const ImageReadLimits& limits) {
  FilePtr f(detail::open_for_read(path));
  std::error_code size_error;
  const auto file_bytes = static_cast<int64_t>(std::filesystem::file_size(path, size_error));
  if (!size_error) vet_png_chunks(f.get(), file_bytes, path);
  PngError err;
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, png_error_fn, png_warning_fn);
  DIFFEVENT_CHECK(png != nullptr, ErrorCode::kInternal, "libpng: cannot create read struct");
  png_infop info = png_create_info_struct(png);
  Image img;
  std::vector<unsigned char> buffer;
  std::vector<png_bytep> rows;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw Error(ErrorCode::kFormatError,
                fmt::format("'{}': invalid or truncated PNG ({})", path, err.message));
  }
  png_init_io(png, f.get());
  // libpng's own guards: no side above the limit, no ancillary chunk above 8 MB (zTXt/iCCP
  // bombs); IHDR is checked against them inside png_read_info.
  const auto side = static_cast<png_uint_32>(std::min<int64_t>(limits.max_side, 0x7fffffff));
  png_set_user_limits(png, side, side);
  png_set_chunk_malloc_max(png, 8u << 20);
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info);
  const png_uint_32 h = png_get_image_height(png, info);
  // Checked outside libpng's error path: our exception must not cross its longjmp.
  const size_t native_rowbytes = png_get_rowbytes(png, info);
  std::string too_large;
  try {
    check_declared_size(path, "PNG", w, h, limits);
    // The pixels, one filter byte per row, must fit in the compressed data at deflate's
    // largest ratio (1032:1); a header that claims more is lying.
    const double raw = (static_cast<double>(native_rowbytes) + 1.0) * static_cast<double>(h);
    DIFFEVENT_CHECK(size_error || raw <= 1032.0 * static_cast<double>(file_bytes) + 4096.0,
                    ErrorCode::kFormatError,
                    "'{}': the PNG header declares {} x {} pixels ({:.0f} bytes uncompressed), "
                    "more than its {} bytes "
                    "can hold",
                    path, w, h, raw, file_bytes);
  } catch (...) {
    png_destroy_read_struct(&png, &info, nullptr);
    throw;
  }
  const int color = png_get_color_type(png, info);
  int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (depth == 16) png_set_swap(png);  // little-endian 16-bit samples
  png_read_update_info(png, info);
  const int channels = png_get_channels(png, info);
  depth = png_get_bit_depth(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  buffer.resize(rowbytes * h);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = buffer.data() + y * rowbytes;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);

  const int out_c = (channels >= 3) ? 3 : 1;  // alpha dropped
  img = Image(out_c, static_cast<int>(h), static_cast<int>(w));
  const float scale = depth == 16 ? 1.0f / 65535.0f : 1.0f / 255.0f;
  for (png_uint_32 y = 0; y < h; ++y) {
    const unsigned char* row = rows[y];
    for (png_uint_32 x = 0; x < w; ++x) {
      for (int c = 0; c < out_c; ++c) {
        const size_t k =
            static_cast<size_t>(x) * static_cast<size_t>(channels) + static_cast<size_t>(c);
        float v;
        if (depth == 16) {
          uint16_t s;
          std::memcpy(&s, row + 2 * k, 2);
          v = s * scale;
        } else {
          v = row[k] * scale;
        }
        img.at(c, static_cast<int>(y), static_cast<int>(x)) = v;
      }
    }
  }
  return img;
}

void write_png(const std::string& path, const Image& img, int bit_depth) {
  DIFFEVENT_CHECK(img.channels() == 1 || img.channels() == 3, ErrorCode::kInvalidArgument,
                  "image: PNG output needs 1 or 3 channels, got {}", img.channels());
  DIFFEVENT_CHECK(bit_depth == 8 || bit_depth == 16, ErrorCode::kInvalidArgument,
                  "image: PNG bit depth must be 8 or 16, got {}", bit_depth);
  const int c = img.channels(), w = img.width(), h = img.height();
  const size_t bps = static_cast<size_t>(bit_depth / 8);
  const size_t rowbytes = static_cast<size_t>(w) * static_cast<size_t>(c) * bps;
  std::vector<unsigned char> buffer(rowbytes * static_cast<size_t>(h));
  const float maxv = bit_depth == 16 ? 65535.0f : 255.0f;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int ch = 0; ch < c; ++ch) {
        float v = img.at(ch, y, x);
        v = std::isfinite(v) ? std::fmin(std::fmax(v, 0.0f), 1.0f) : 0.0f;
        const auto q = static_cast<unsigned>(std::lround(v * maxv));
        const size_t k =
            static_cast<size_t>(y) * rowbytes +
            (static_cast<size_t>(x) * static_cast<size_t>(c) + static_cast<size_t>(ch)) * bps;
        if (bit_depth == 16) {
          buffer[k] = static_cast<unsigned char>(q >> 8);  // PNG is big-endian
          buffer[k + 1] = static_cast<unsigned char>(q & 0xFF);
        } else {
          buffer[k] = static_cast<unsigned char>(q);
        }
      }
    }
  }
  FilePtr f(detail::open_for_write(path));
  PngError err;
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, png_error_fn, png_warning_fn);
  DIFFEVENT_CHECK(png != nullptr, ErrorCode::kInternal, "libpng: cannot create write struct");
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep> rows(static_cast<size_t>(h));
  for (int y = 0; y < h; ++y)
    rows[static_cast<size_t>(y)] = buffer.data() + static_cast<size_t>(y) * rowbytes;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error(ErrorCode::kIoError, fmt::format("'{}': PNG write failed ({})", path, err.message));
  }
  png_init_io(png, f.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), bit_depth,
               c == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  DIFFEVENT_CHECK(!std::ferror(f.get()) && std::fflush(f.get()) == 0, ErrorCode::kIoError,
                  "error while writing '{}'", path);
}
#endif

std::string lower_extension(const std::string& path) {
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return "";
  std::string e = path.substr(dot);
  for (auto& ch : e) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return e;
}

}  // namespace

bool png_supported() noexcept {
#ifdef DIFFEVENT_HAVE_PNG
  return true;
#else
  return false;
#endif
}

static Image read_image_unguarded(const std::string& path, const ImageReadLimits& limits);

Image read_image(const std::string& path, const ImageReadLimits& limits) {
  try {
    return read_image_unguarded(path, limits);
  } catch (const std::bad_alloc&) {
    throw Error(
        ErrorCode::kOutOfMemory,
        fmt::format(
            "'{}': out of memory while decoding the image (ImageReadLimits: at most {} pixels, "
            "{} per side)",
            path, limits.max_pixels, limits.max_side));
  }
}

static Image read_image_unguarded(const std::string& path, const ImageReadLimits& limits) {
  std::string head;
  {
    FilePtr f(detail::open_for_read(path));
    char buf[8] = {};
    const size_t n = std::fread(buf, 1, sizeof buf, f.get());
    head.assign(buf, n);
  }
  DIFFEVENT_CHECK(!head.empty(), ErrorCode::kFormatError, "'{}': the file is empty", path);
  if (head.size() >= 8 && std::memcmp(head.data(), "\x89PNG\r\n\x1a\n", 8) == 0) {
#ifdef DIFFEVENT_HAVE_PNG
    return read_png(path, limits);
#else
    throw Error(
        ErrorCode::kUnsupported,
        fmt::format("'{}': PNG support was not compiled in (DIFFEVENT_WITH_PNG=OFF)", path));
#endif
  }
  if (head.size() >= 2 && head[0] == 'P' && (head[1] == 'f' || head[1] == 'F')) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    // A PFM holds its pixels raw: a file larger than the limits allow plus a header is refused
    // before it is read into memory.
    DIFFEVENT_CHECK(
        ec || bytes <= static_cast<uintmax_t>(limits.max_pixels) * 12u + 4096u,
        ErrorCode::kFormatError,
        "'{}': {} bytes, more than a PFM within the reader's limits ({} pixels) can hold", path,
        bytes, limits.max_pixels);
    return read_pfm(path, detail::read_file(path), limits);
  }
  throw Error(ErrorCode::kFormatError,
              fmt::format("'{}': not a PNG or PFM image (unrecognised first bytes)", path));
}

void write_image(const std::string& path, const Image& image, int bit_depth) {
  DIFFEVENT_CHECK(!image.empty(), ErrorCode::kInvalidArgument,
                  "image: cannot write an empty image to '{}'", path);
  const std::string ext = lower_extension(path);
  if (ext == ".pfm") {
    detail::write_atomically(path, [&](const std::string& tmp) { write_pfm(tmp, image); });
    return;
  }
  DIFFEVENT_CHECK(ext == ".png", ErrorCode::kInvalidArgument,
                  "image: cannot tell the format of '{}' (use .png or .pfm)", path);
#ifdef DIFFEVENT_HAVE_PNG
  detail::write_atomically(path, [&](const std::string& tmp) { write_png(tmp, image, bit_depth); });
#else
  (void)bit_depth;
  throw Error(ErrorCode::kUnsupported,
              fmt::format("'{}': PNG support was not compiled in (DIFFEVENT_WITH_PNG=OFF)", path));
#endif
}

}  // namespace v1
}  // namespace diffevent
