#include "diffevent/diffusion/tensor_interop.hpp"

#include <cstring>

#include "core/check.hpp"
#include "diffevent/events/edi.hpp"

namespace diffevent {
inline namespace v1 {

at::Tensor image_to_tensor(const Image& image) {
  DIFFEVENT_CHECK(!image.empty(), ErrorCode::kInvalidArgument,
                  "image_to_tensor: the image is empty");
  at::Tensor t = at::empty({image.channels(), image.height(), image.width()}, at::kFloat);
  std::memcpy(t.data_ptr<float>(), image.data(), image.size() * sizeof(float));
  return t;
}

Image tensor_to_image(const at::Tensor& tensor) {
  DIFFEVENT_CHECK(tensor.defined() && tensor.is_floating_point(), ErrorCode::kInvalidArgument,
                  "tensor_to_image: expected a floating-point tensor");
  at::Tensor t = tensor;
  if (t.dim() == 4) {
    DIFFEVENT_CHECK(t.size(0) == 1, ErrorCode::kInvalidArgument,
                    "tensor_to_image: a 4-D tensor must have batch size 1, got {}", t.size(0));
    t = t[0];
  }
  DIFFEVENT_CHECK(t.dim() == 3, ErrorCode::kInvalidArgument,
                  "tensor_to_image: expected [C,H,W] or [1,C,H,W], got {} dimensions", t.dim());
  t = t.to(at::kCPU, at::kFloat).contiguous();
  Image out(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), static_cast<int>(t.size(2)));
  std::memcpy(out.data(), t.data_ptr<float>(), out.size() * sizeof(float));
  return out;
}

at::Tensor event_count_bins(const EventStream& events, TimestampUs t0_us, TimestampUs t1_us,
                            int bins) {
  DIFFEVENT_CHECK(bins >= 1 && (Exposure{t0_us, t1_us}.valid()), ErrorCode::kInvalidArgument,
                  "event_count_bins: need bins >= 1 and t0 < t1 (got {} bins, [{}, {}) us)", bins,
                  t0_us, t1_us);
  at::Tensor out = at::zeros({bins, events.height(), events.width()}, at::kFloat);
  float* o = out.data_ptr<float>();
  const auto [a, b] = events.index_range(t0_us, t1_us);
  const size_t plane = static_cast<size_t>(events.width()) * static_cast<size_t>(events.height());
  const double span = static_cast<double>(t1_us - t0_us);
  for (size_t i = a; i < b; ++i) {
    const auto k = std::min<size_t>(
        static_cast<size_t>(bins) - 1,
        static_cast<size_t>(static_cast<double>(events.t_us()[i] - t0_us) / span * bins));
    o[k * plane + static_cast<size_t>(events.y()[i]) * static_cast<size_t>(events.width()) +
      events.x()[i]] += events.p()[i];
  }
  return out;
}

}  // namespace v1
}  // namespace diffevent
