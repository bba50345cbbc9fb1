#include <cmath>

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
  if (png_supported()) EXPECT_DIFFEVENT_ERROR(read_image(dir.file("trunc.png")), ErrorCode::kFormatError, "invalid or truncated PNG");
  f = std::fopen(dir.file("junk.png").c_str(), "wb");
  std::fwrite("hello", 1, 5, f);
  std::fclose(f);
  EXPECT_DIFFEVENT_ERROR(read_image(dir.file("junk.png")), ErrorCode::kFormatError, "not a PNG or PFM");
  EXPECT_DIFFEVENT_ERROR(read_image(dir.file("missing.png")), ErrorCode::kIoError, "cannot open");
  EXPECT_DIFFEVENT_ERROR(write_image(dir.file("x.jpg"), Image(1, 2, 2)), ErrorCode::kInvalidArgument, "use .png or .pfm");
  EXPECT_DIFFEVENT_ERROR(Image(0, 2, 2), ErrorCode::kInvalidArgument, "invalid");
  // A failed write leaves nothing behind.
  EXPECT_DIFFEVENT_ERROR(write_image(dir.file("two.png"), Image(2, 3, 3)), ErrorCode::kInvalidArgument, "1 or 3 channels");
  EXPECT_FALSE(std::filesystem::exists(dir.file("two.png")));
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.path().filename().string().find(".tmp") != std::string::npos;
  EXPECT_EQ(files, 0u);
}

TEST(Image, GreyConversionUsesRec601Weights) {
  Image rgb(3, 1, 1);
  rgb.at(0, 0, 0) = 1.0f;
  EXPECT_NEAR(rgb.to_grey().at(0, 0, 0), 0.299f, 1e-6);
}
