#include "backends/kernels/onednn_conv.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ops/mkldnn_convolution.h>

#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace codec::nn {
namespace {

struct ConvCase {
  int64_t in, out, kernel, stride, dilation, groups;
  bool bias;
};

at::Tensor LibtorchOnednn(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                          const ConvCase& c) {
  return at::mkldnn_convolution(x, weight, bias, at::IntArrayRef(int64_t{0}),
                                at::IntArrayRef(c.stride), at::IntArrayRef(c.dilation),
                                c.groups);
}

// The prepared primitive equals libtorch's oneDNN conv to the bit, for the
// layer shapes the codecs use (plain, strided, dilated, depthwise, 1x1), at
// many widths and thread counts, reusing one plan and switching plans as
// shapes change.
TEST(OnednnConv1dTest, EqualsLibtorchOnednnToTheBit) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "libtorch without oneDNN";
  at::manual_seed(7);
  const int threads = at::get_num_threads();
  const std::vector<ConvCase> cases = {
      {1, 32, 7, 1, 1, 1, true},     {32, 32, 3, 1, 1, 1, true},  {32, 16, 1, 1, 1, 1, true},
      {32, 64, 4, 2, 1, 1, true},    {64, 128, 16, 8, 1, 1, true}, {64, 64, 7, 1, 9, 1, true},
      {64, 64, 7, 1, 3, 64, true},   {48, 48, 7, 1, 1, 48, false}, {512, 128, 7, 1, 1, 1, true},
      {128, 8, 1, 1, 1, 1, false},
  };
  for (const ConvCase& c : cases) {
    const at::Tensor weight = at::randn({c.out, c.in / c.groups, c.kernel});
    const at::Tensor bias = c.bias ? at::randn({c.out}) : at::Tensor();
    OnednnConv1d conv(weight, bias, c.stride, c.dilation, c.groups);
    const int64_t reach = (c.kernel - 1) * c.dilation + 1;
    for (int64_t batch : {1, 2}) {
      at::set_num_threads(batch == 1 ? 1 : threads);
      for (int64_t extra : {0, 1, 5, 16, 17, 95, 300, 2000}) {
        for (int repeat = 0; repeat < 2; ++repeat) {
          const at::Tensor x = at::randn({batch, c.in, reach + extra});
          const at::Tensor got = conv(x);
          const at::Tensor want = LibtorchOnednn(x, weight, bias, c);
          ASSERT_EQ(got.sizes(), want.sizes());
          EXPECT_TRUE(at::equal(got, want))
              << "in " << c.in << " out " << c.out << " kernel " << c.kernel << " stride "
              << c.stride << " dilation " << c.dilation << " groups " << c.groups << " width "
              << x.size(2) << " batch " << batch << " threads " << at::get_num_threads()
              << ": max diff "
              << (got - want).abs().max().item<float>();
        }
      }
    }
  }
}

TEST(OnednnConv1dTest, RejectsInputsThatDoNotFit) {
  if (!at::hasMKLDNN()) GTEST_SKIP() << "libtorch without oneDNN";
  OnednnConv1d conv(at::randn({4, 2, 3}), at::Tensor(), 1, 1, 1);
  EXPECT_THROW(conv(at::randn({1, 3, 10})), c10::Error);  // Channels.
  EXPECT_THROW(conv(at::randn({1, 2, 2})), c10::Error);   // Shorter than the kernel.
  EXPECT_EQ(conv(at::randn({1, 2, 3})).sizes(), at::IntArrayRef({1, 4, 1}));
}

}  // namespace
}  // namespace codec::nn
