#include "diffevent/image/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/check.hpp"

namespace diffevent {
inline namespace v1 {
namespace {

void check_pair(const Image& a, const Image& b, const char* what) {
  DIFFEVENT_CHECK(!a.empty() && !b.empty(), ErrorCode::kInvalidArgument, "{}: an image is empty",
                  what);
  DIFFEVENT_CHECK(
      a.channels() == b.channels() && a.height() == b.height() && a.width() == b.width(),
      ErrorCode::kInvalidArgument,
      "{}: image shapes differ (reference [{}, {}, {}], test [{}, {}, {}])", what, a.channels(),
      a.height(), a.width(), b.channels(), b.height(), b.width());
  DIFFEVENT_CHECK(a.all_finite() && b.all_finite(), ErrorCode::kInvalidArgument,
                  "{}: an image contains NaN or infinite values", what);
}

double clampd(double v, double hi) { return std::min(std::max(v, 0.0), hi); }

}  // namespace

double psnr(const Image& reference, const Image& test, double data_range) {
  check_pair(reference, test, "psnr");
  DIFFEVENT_CHECK(data_range > 0, ErrorCode::kInvalidArgument, "psnr: data_range = {} must be > 0",
                  data_range);
  double se = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double d = clampd(reference.data()[i], data_range) - clampd(test.data()[i], data_range);
    se += d * d;
  }
  const double mse = se / static_cast<double>(reference.size());
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(data_range * data_range / mse);
}

double ssim(const Image& reference, const Image& test, double data_range) {
  check_pair(reference, test, "ssim");
  constexpr int kWin = 11;
  constexpr double kSigma = 1.5;
  DIFFEVENT_CHECK(reference.height() >= kWin && reference.width() >= kWin,
                  ErrorCode::kInvalidArgument, "ssim: images must be at least 11x11, got {}x{}",
                  reference.width(), reference.height());
  double g[kWin];
  double gsum = 0;
  for (int i = 0; i < kWin; ++i) {
    const double d = i - kWin / 2;
    g[i] = std::exp(-d * d / (2 * kSigma * kSigma));
    gsum += g[i];
  }
  for (double& v : g) v /= gsum;
  const double c1 = (0.01 * data_range) * (0.01 * data_range);
  const double c2 = (0.03 * data_range) * (0.03 * data_range);
  const int H = reference.height(), W = reference.width();
  const int oh = H - kWin + 1, ow = W - kWin + 1;
  double total = 0;
  // Separable filtering of the five moment images over the valid region.
  std::vector<double> f[5], hpass[5];
  for (int c = 0; c < reference.channels(); ++c) {
    const float* a = reference.plane(c);
    const float* b = test.plane(c);
    for (int k = 0; k < 5; ++k) {
      f[k].assign(static_cast<size_t>(H) * static_cast<size_t>(W), 0.0);
      hpass[k].assign(static_cast<size_t>(H) * static_cast<size_t>(ow), 0.0);
    }
    for (size_t i = 0; i < static_cast<size_t>(H) * static_cast<size_t>(W); ++i) {
      const double x = clampd(a[i], data_range), y = clampd(b[i], data_range);
      f[0][i] = x;
      f[1][i] = y;
      f[2][i] = x * x;
      f[3][i] = y * y;
      f[4][i] = x * y;
    }
    for (int k = 0; k < 5; ++k) {
      for (int yy = 0; yy < H; ++yy) {
        for (int xx = 0; xx < ow; ++xx) {
          double s = 0;
          for (int j = 0; j < kWin; ++j)
            s += g[j] * f[k][static_cast<size_t>(yy) * static_cast<size_t>(W) +
                             static_cast<size_t>(xx + j)];
          hpass[k][static_cast<size_t>(yy) * static_cast<size_t>(ow) + static_cast<size_t>(xx)] = s;
        }
      }
    }
    double sum = 0;
    for (int yy = 0; yy < oh; ++yy) {
      for (int xx = 0; xx < ow; ++xx) {
        double m[5];
        for (int k = 0; k < 5; ++k) {
          double s = 0;
          for (int j = 0; j < kWin; ++j)
            s += g[j] * hpass[k][static_cast<size_t>(yy + j) * static_cast<size_t>(ow) +
                                 static_cast<size_t>(xx)];
          m[k] = s;
        }
        const double mu_x = m[0], mu_y = m[1];
        const double sxx = m[2] - mu_x * mu_x, syy = m[3] - mu_y * mu_y, sxy = m[4] - mu_x * mu_y;
        sum += ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) /
               ((mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2));
      }
    }
    total += sum / (static_cast<double>(oh) * static_cast<double>(ow));
  }
  return total / reference.channels();
}

}  // namespace v1
}  // namespace diffevent
