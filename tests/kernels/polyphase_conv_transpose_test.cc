#include "backends/kernels/polyphase_conv_transpose.h"

#include <ATen/ATen.h>

#include <tuple>

#include "gtest/gtest.h"

namespace codec::nn {
namespace {

// Max |a - b| over the largest |b|.
double RelativeError(const at::Tensor& a, const at::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

// The phases give libtorch's transposed conv, within float rounding, for
// kernels that are and are not whole multiples of the stride, stride 1, odd
// strides with output padding, batches, and with and without bias.
TEST(PolyphaseConvTransposeTest, EqualsLibtorchsTransposedConv) {
  at::manual_seed(3);
  // kernel, stride, padding, output_padding, batch.
  for (const auto& [kernel, stride, padding, output_padding, batch] :
       {std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>{16, 8, 4, 0, 1},
        {10, 5, 3, 1, 2},
        {7, 3, 0, 0, 1},
        {3, 1, 1, 0, 2},
        {4, 4, 0, 0, 1},
        {2, 4, 0, 0, 1}}) {
    SCOPED_TRACE(testing::Message() << "kernel " << kernel << " stride " << stride << " padding "
                                    << padding << " output_padding " << output_padding);
    const at::Tensor weight = at::randn({12, 6, kernel});
    const at::Tensor bias = at::randn({6});
    const at::Tensor x = at::randn({batch, 12, 19});
    EXPECT_LE(RelativeError(FullConvTranspose1d(x, weight, bias, stride),
                            at::conv_transpose1d(x, weight, bias, stride)),
              1e-6);
    EXPECT_LE(RelativeError(FullConvTranspose1d(x, weight, {}, stride),
                            at::conv_transpose1d(x, weight, {}, stride)),
              1e-6);
    if (output_padding <= padding && kernel >= stride) {
      EXPECT_LE(
          RelativeError(ConvTranspose1d(x, weight, bias, stride, padding, output_padding),
                        at::conv_transpose1d(x, weight, bias, stride, padding, output_padding)),
          1e-6);
    }
  }
}

TEST(PolyphaseConvTransposeTest, OneFrameIsTheKernelTimesTheFrame) {
  const at::Tensor weight = at::arange(2 * 3 * 4, at::kFloat).view({2, 3, 4});
  const at::Tensor x = at::tensor({1.0f, -2.0f}).view({1, 2, 1});
  const at::Tensor want = (weight * x.view({2, 1, 1})).sum(0, /*keepdim=*/true);
  EXPECT_TRUE(at::equal(FullConvTranspose1d(x, weight, {}, 2), want));
}

TEST(PolyphaseConvTransposeTest, OutputPaddingPastThePaddingIsRefused) {
  const at::Tensor weight = at::randn({2, 2, 4});
  EXPECT_THROW(ConvTranspose1d(at::randn({1, 2, 5}), weight, {}, 2, 0, 1), c10::Error);
}

}  // namespace
}  // namespace codec::nn
