#include "diffevent/diffusion/tensor_interop.hpp"

#include "test_util.hpp"

using namespace diffevent;

TEST(TensorInterop, ImageRoundTripsThroughTensor) {
  const Image img = test::synthetic_photo(3, 7, 13, 1);
  const at::Tensor t = image_to_tensor(img);
  EXPECT_EQ(t.sizes(), (at::IntArrayRef{3, 7, 13}));
  EXPECT_FLOAT_EQ(t[2][6][12].item<float>(), img.at(2, 6, 12));
  EXPECT_EQ(tensor_to_image(t.unsqueeze(0)).values(), img.values());
  EXPECT_DIFFEVENT_ERROR(tensor_to_image(at::zeros({2, 3, 4, 5})), ErrorCode::kInvalidArgument,
                         "batch size 1");
}

TEST(TensorInterop, EventCountBinsConserveSignedCounts) {
  const auto ev = test::random_stream(9, 7, 3000, 0, 10000, 4);
  const at::Tensor bins = event_count_bins(ev, 0, 10000, 5);
  int64_t net = 0;
  for (auto p : ev.p()) net += p;
  EXPECT_EQ(bins.sum().item<float>(), static_cast<float>(net));
  EXPECT_EQ(bins.abs().sum().item<float>() <= 3000.0f, true);
}
