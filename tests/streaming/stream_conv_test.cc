#include "backends/streaming/stream_conv.h"

#include <ATen/ATen.h>

#include <vector>

#include "gtest/gtest.h"

namespace codec::nn {
namespace {

// A streamed transposed conv, fed in chunks of every size (one frame, a few
// frames, the whole input) for two batch rows at once, gives libtorch's
// transposed conv of the whole input: the same samples, within float
// rounding (its frames' products are summed in the reference BLAS's order,
// libtorch's in its BLAS's).
TEST(StreamConvTranspose1dTest, AnyChunkingGivesTheWholeTransposedConv) {
  at::manual_seed(7);
  const int64_t in = 24, out = 16, kernel = 8, stride = 4, padding = 2, output_padding = 1;
  const at::Tensor weight = at::randn({in, out, kernel});
  const at::Tensor bias = at::randn({out});
  const at::Tensor x = at::randn({2, in, 23});
  const at::Tensor want = at::conv_transpose1d(x, weight, bias, stride, padding, output_padding);
  for (const int64_t chunk : {1, 3, 5, 23}) {
    StreamConvTransposeSpec spec;
    spec.weight = weight;
    spec.bias = bias;
    spec.stride = stride;
    spec.crop_left = padding;
    spec.crop_right = padding - output_padding;
    StreamConvTranspose1d stream(spec);
    std::vector<at::Tensor> pieces;
    for (int64_t start = 0; start < x.size(2); start += chunk) {
      pieces.push_back(stream.Push(x.narrow(2, start, std::min(chunk, x.size(2) - start))));
    }
    pieces.push_back(stream.Finish());
    std::vector<at::Tensor> nonempty;
    for (const at::Tensor& piece : pieces) {
      if (piece.defined() && piece.size(2) > 0) nonempty.push_back(piece);
    }
    const at::Tensor got = at::cat(nonempty, 2);
    ASSERT_EQ(got.sizes(), want.sizes()) << "chunks of " << chunk;
    EXPECT_LT((got - want).abs().max().item<float>(), 1e-5) << "chunks of " << chunk;
  }
}

}  // namespace
}  // namespace codec::nn
