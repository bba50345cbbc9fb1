#pragma once
/// \file tensor_interop.hpp
/// Conversions between diffevent images/events and ATen tensors (needs diffevent::diffevent).

#include <ATen/ATen.h>

#include "diffevent/core/export.hpp"
#include "diffevent/events/event_stream.hpp"
#include "diffevent/image/image.hpp"

namespace diffevent {
inline namespace v1 {

/// Copies an image into a float32 CPU tensor of shape [C,H,W].
DIFFEVENT_API at::Tensor image_to_tensor(const Image& image);
/// Copies a [C,H,W] or [1,C,H,W] floating tensor (any device) into an Image.
DIFFEVENT_API Image tensor_to_image(const at::Tensor& tensor);
/// Signed event counts per pixel in `bins` equal time bins over [t0, t1): a float32 tensor
/// [bins, H, W] (ON adds +1, OFF adds -1): the usual event voxel input of learned models.
DIFFEVENT_API at::Tensor event_count_bins(const EventStream& events, TimestampUs t0_us,
                                          TimestampUs t1_us, int bins);

}  // namespace v1
}  // namespace diffevent
