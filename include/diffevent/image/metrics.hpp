#pragma once
/// \file metrics.hpp
/// Image quality metrics: PSNR and SSIM.

#include "diffevent/core/export.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// PSNR in dB between two images of the same shape with values in [0, data_range]:
/// 10 log10(data_range^2 / MSE) over all channels and pixels. Returns +infinity for identical
/// images. Inputs are clamped to [0, data_range] first (as an 8/16-bit file would be).
DIFFEVENT_API double psnr(const Image& reference, const Image& test, double data_range = 1.0);

/// Mean SSIM (Wang et al. 2004) with an 11x11 Gaussian window, sigma 1.5, K1 = 0.01,
/// K2 = 0.03, computed per channel over the "valid" region (windows fully inside the image,
/// as Wang's reference MATLAB code does) and averaged over channels. Images must be at least
/// 11x11. Inputs are clamped to [0, data_range].
DIFFEVENT_API double ssim(const Image& reference, const Image& test, double data_range = 1.0);

}  // namespace v1
}  // namespace diffevent
