#ifndef BACKENDS_KERNELS_CONV_SPEC_H_
#define BACKENDS_KERNELS_CONV_SPEC_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>

#include "backends/kernels/padding.h"

namespace codec::nn {

// A 1-D convolution as its offline module computes it: `left` and `right`
// samples of padding (zeros or reflection), and with `complete_last_window`
// the extra right padding that completes the last stride (SEANet).
struct StreamConvSpec {
  at::Tensor weight;  // [out, in / groups, kernel]
  at::Tensor bias;    // [out] or undefined.
  int64_t stride = 1;
  int64_t dilation = 1;
  int64_t groups = 1;
  int64_t left = 0;
  int64_t right = 0;
  PadMode mode = PadMode::kZero;
  bool complete_last_window = false;
};

// The spec of a torch Conv1d with symmetric zero padding from its options.
StreamConvSpec ConvSpecOf(const torch::nn::Conv1dImpl& conv);

// A transposed 1-D convolution whose offline output is the full transposed
// convolution of T frames, (T - 1) * stride + kernel samples, less
// `crop_left` samples at the start and `crop_right` at the end (torch's
// padding and output_padding, or SEANet's trim).
struct StreamConvTransposeSpec {
  at::Tensor weight;  // [in, out, kernel]
  at::Tensor bias;    // [out] or undefined.
  int64_t stride = 1;
  int64_t crop_left = 0;
  int64_t crop_right = 0;
};

StreamConvTransposeSpec ConvTransposeSpecOf(const torch::nn::ConvTranspose1dImpl& conv);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_CONV_SPEC_H_
