#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <fstream>

#include "io/atomic_file.hpp"
#include "test_util.hpp"

using namespace diffevent;

TEST(Image, PngRoundTripsGreyAndRgbAt8And16Bits) {
  if (!png_supported()) GTEST_SKIP() << "PNG not compiled in";
  test::TempDir dir;
  for (int c : {1, 3}) {
    for (int depth : {8, 16}) {
      const Image img = test::synthetic_photo(c, 13, 17, 4);
      const std::string path = dir.file(fmt::format("i{}_{}.png", c, depth));
      write_image(path, img, depth);
      const Image back = read_image(path);
      ASSERT_EQ(back.channels(), c);
      ASSERT_EQ(back.height(), 13);
      ASSERT_EQ(back.width(), 17);
      const double q = depth == 8 ? 0.5 / 255 : 0.5 / 65535;
      for (size_t i = 0; i < img.size(); ++i) EXPECT_NEAR(back.data()[i], img.data()[i], q + 1e-7);
    }
  }
}

TEST(Image, PfmIsLossless) {
  test::TempDir dir;
  Image img = test::synthetic_photo(3, 5, 7, 2);
  img.at(1, 2, 3) = -3.25f;  // values outside [0,1] survive
  write_image(dir.file("a.pfm"), img);
  const Image back = read_image(dir.file("a.pfm"));
  EXPECT_EQ(back.values(), img.values());
}

TEST(Image, SrgbTransferFunctionsAreInverse) {
  Image img = test::synthetic_photo(1, 8, 8, 1);
  const Image orig = img;
  srgb_to_linear(img);
  EXPECT_NEAR(img.at(0, 0, 0), std::pow((orig.at(0, 0, 0) + 0.055) / 1.055, 2.4), 1e-5);
  linear_to_srgb(img);
  for (size_t i = 0; i < img.size(); ++i) EXPECT_NEAR(img.data()[i], orig.data()[i], 1e-5);
}

TEST(Image, ErrorsNameTheProblem) {
  test::TempDir dir;
  std::FILE* f = std::fopen(dir.file("trunc.png").c_str(), "wb");
  std::fwrite("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 1, 16, f);
  std::fclose(f);
  if (png_supported())
    EXPECT_DIFFEVENT_ERROR(read_image(dir.file("trunc.png")), ErrorCode::kFormatError,
                           "invalid or truncated PNG");
  f = std::fopen(dir.file("junk.png").c_str(), "wb");
  std::fwrite("hello", 1, 5, f);
  std::fclose(f);
  EXPECT_DIFFEVENT_ERROR(read_image(dir.file("junk.png")), ErrorCode::kFormatError,
                         "not a PNG or PFM");
  EXPECT_DIFFEVENT_ERROR(read_image(dir.file("missing.png")), ErrorCode::kIoError, "cannot open");
  EXPECT_DIFFEVENT_ERROR(write_image(dir.file("x.jpg"), Image(1, 2, 2)),
                         ErrorCode::kInvalidArgument, "use .png or .pfm");
  EXPECT_DIFFEVENT_ERROR(Image(0, 2, 2), ErrorCode::kInvalidArgument, "invalid");
  // A failed write leaves nothing behind.
  EXPECT_DIFFEVENT_ERROR(write_image(dir.file("two.png"), Image(2, 3, 3)),
                         ErrorCode::kInvalidArgument, "1 or 3 channels");
  EXPECT_FALSE(std::filesystem::exists(dir.file("two.png")));
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    files += e.path().filename().string().find(".tmp") != std::string::npos;
  EXPECT_EQ(files, 0u);
}

TEST(Image, GreyConversionUsesRec601Weights) {
  Image rgb(3, 1, 1);
  rgb.at(0, 0, 0) = 1.0f;
  EXPECT_NEAR(rgb.to_grey().at(0, 0, 0), 0.299f, 1e-6);
}

TEST(Image, HeadersThatDeclareMoreThanTheFileOrTheLimitsAreRefusedBeforeAllocating) {
  if (!png_supported()) GTEST_SKIP() << "PNG not compiled in";
  test::TempDir dir;
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir.file(name), std::ios::binary) << bytes;
    return dir.file(name);
  };
  // 69 bytes declaring 100000 x 100000 (10 GB of pixels): refused from the header alone.
  const std::string huge = write("huge.png", test::lying_png(100000, 100000));
  ASSERT_EQ(std::filesystem::file_size(huge), 69u);
  EXPECT_DIFFEVENT_ERROR(read_image(huge), ErrorCode::kFormatError, "100000 x 100000 pixels");
  // 40000 x 40000 is within the side limit but not the pixel limit; with the pixel limit
  // raised, the file size still refuses it.
  const std::string big = write("big.png", test::lying_png(40000, 40000));
  EXPECT_DIFFEVENT_ERROR(read_image(big), ErrorCode::kFormatError, "beyond the reader's limits");
  ImageReadLimits roomy;
  roomy.max_pixels = int64_t{1} << 40;
  EXPECT_DIFFEVENT_ERROR(read_image(big, roomy), ErrorCode::kFormatError,
                         "more than its 69 bytes can hold");
  // Lower limits a host sets apply to honest files too.
  write_image(dir.file("ok.png"), Image(1, 30, 40));
  ImageReadLimits tight;
  tight.max_pixels = 1000;
  EXPECT_DIFFEVENT_ERROR(read_image(dir.file("ok.png"), tight), ErrorCode::kFormatError,
                         "40 x 30 pixels");
  EXPECT_EQ(read_image(dir.file("ok.png")).width(), 40);
  // A PFM header beyond the limits, and one larger than its file.
  const std::string pfm = write("big.pfm", "Pf\n100000 100000\n-1.0\n" + std::string(16, '\0'));
  EXPECT_DIFFEVENT_ERROR(read_image(pfm, tight), ErrorCode::kFormatError,
                         "beyond the reader's limits");
  EXPECT_DIFFEVENT_ERROR(read_image(pfm, roomy), ErrorCode::kFormatError, "truncated");
  // A chunk that declares more data than the file holds is refused before libpng allocates
  // its buffer (found by fuzz_image: a 115-byte file made libpng allocate 1.97 GB).
  const std::string chunk = write("chunk.png", test::png_with_lying_chunk(1970632053));
  EXPECT_DIFFEVENT_ERROR(read_image(chunk), ErrorCode::kFormatError,
                         "invalid or truncated PNG: the chunk 'zTXt' at byte 33 declares "
                         "1970632053 bytes of data, the file has 0 left");
}

namespace {
size_t temporary_files_in(const std::string& folder) {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(folder))
    n += e.path().filename().string().find(".tmp") != std::string::npos;
  return n;
}
}  // namespace

TEST(Image, WritersKeepModesNeverFollowLinksAndNameTheSystemsReason) {
  test::TempDir dir;
  namespace fs = std::filesystem;
  // Replacing a 0600 file keeps 0600.
  const std::string secret = dir.file("secret.pfm");
  write_image(secret, Image(1, 2, 2));
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write);
  write_image(secret, Image(1, 3, 3, 0.5f));
  EXPECT_EQ(fs::status(secret).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(read_image(secret).width(), 3);
  // A symbolic link planted at the output is replaced, not followed: its target is untouched.
  const std::string victim = dir.file("victim.txt");
  std::ofstream(victim) << "keep";
  fs::create_symlink(victim, dir.file("out.pfm"));
  write_image(dir.file("out.pfm"), Image(1, 2, 2));
  EXPECT_FALSE(fs::is_symlink(dir.file("out.pfm")));
  std::string kept;
  std::ifstream(victim) >> kept;
  EXPECT_EQ(kept, "keep");
  // A rename that fails says why (not "Success"), and leaves nothing behind.
  fs::create_directories(dir.file("taken.pfm/inside"));
  EXPECT_DIFFEVENT_ERROR(write_image(dir.file("taken.pfm"), Image(1, 2, 2)), ErrorCode::kIoError,
                         "directory");
  try {
    write_image(dir.file("taken.pfm"), Image(1, 2, 2));
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("Success"), std::string::npos) << e.what();
  }
  EXPECT_EQ(temporary_files_in(dir.path()), 0u);
  // Text through the same path.
  write_file_atomically(dir.file("meta.json"), "{}\n");
  std::ifstream meta(dir.file("meta.json"));
  std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "{}\n");
}

TEST(Image, ASignalDuringAWriteLeavesNoTemporaryFileWhenTheHandlerCleansUp) {
  // Given a child process whose SIGTERM handler calls remove_temporary_files() and re-raises
  // (as the CLI's does), and the signal arriving while a writer has half its file written: the
  // child dies by the signal and the folder holds neither the output nor a temporary file.
  test::TempDir dir;
  const std::string out = dir.file("big.bin");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct Handler {
      static void on(int sig) {
        remove_temporary_files();
        std::signal(sig, SIG_DFL);
        std::raise(sig);
      }
    };
    std::signal(SIGTERM, Handler::on);
    try {
      detail::write_atomically(out, [](const std::string& tmp) {
        std::FILE* f = std::fopen(tmp.c_str(), "wb");
        const std::string half(1 << 20, 'x');
        std::fwrite(half.data(), 1, half.size(), f);
        std::fflush(f);
        std::raise(SIGTERM);  // as if from outside, in the middle of the write
        std::fclose(f);
      });
    } catch (...) {
    }
    _exit(0);  // not reached: the handler re-raises with the default action
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(temporary_files_in(dir.path()), 0u);
}
