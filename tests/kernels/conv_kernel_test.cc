#include "backends/kernels/conv_kernel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "gtest/gtest.h"

namespace codec::nn {
namespace {

// libtorch's im2col conv through the reference BLAS, written out: per
// output, the bias, then each (input channel, tap) product added in turn.
at::Tensor ReferenceIm2col(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                           int64_t stride) {
  const int64_t frames = (x.size(2) - w.size(2)) / stride + 1;
  at::Tensor out = at::empty({1, w.size(0), frames});
  for (int64_t o = 0; o < w.size(0); ++o) {
    for (int64_t t = 0; t < frames; ++t) {
      float sum = b[o].item<float>();
      for (int64_t c = 0; c < w.size(1); ++c) {
        for (int64_t k = 0; k < w.size(2); ++k) {
          const volatile float product =
              w[o][c][k].item<float>() * x[0][c][t * stride + k].item<float>();
          sum = sum + product;
        }
      }
      out[0][o][t] = sum;
    }
  }
  return out;
}

// Short inputs take libtorch's im2col kernel, in the reference BLAS's order
// whatever BLAS is linked; long ones libtorch's own (oneDNN) conv.
TEST(ConvBySizeTest, ShortInputsTakeTheReferenceIm2colOrder) {
  at::manual_seed(6);
  for (const int64_t stride : {1, 2}) {
    const at::Tensor w = at::randn({8, 12, 3});
    const at::Tensor b = at::randn({8}) * 10;
    const at::Tensor short_input = at::randn({1, 12, 40});
    EXPECT_TRUE(at::equal(ConvBySize(short_input, w, b, stride, 1, 1),
                          ReferenceIm2col(short_input, w, b, stride)))
        << "stride " << stride;
    const at::Tensor long_input = at::randn({1, 12, 4000});
    EXPECT_TRUE(at::equal(ConvBySize(long_input, w, b, stride, 1, 1),
                          at::conv1d(long_input, w, b, stride)))
        << "stride " << stride;
  }
}

// On one thread libtorch keeps plain 1x1 convs of long inputs on its im2col
// kernel too, and streams do as well.
TEST(ConvBySizeTest, OneThreadPlain1x1TakesTheReferenceOrderOfflineAndInStreams) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  at::manual_seed(7);
  const at::Tensor w = at::randn({8, 16, 1});
  const at::Tensor b = at::randn({8});
  const at::Tensor x = at::randn({1, 16, 3000});
  const at::Tensor want = ReferenceIm2col(x, w, b, 1);
  EXPECT_TRUE(at::equal(ConvBySize(x, w, b, 1, 1, 1), want));
  EXPECT_TRUE(at::equal(LongInputConv1d(x.narrow(2, 0, 7), w, b, 1, 1, 1), want.narrow(2, 0, 7)));
  at::set_num_threads(threads);
}

}  // namespace
}  // namespace codec::nn
