#ifndef BACKENDS_KERNELS_POLYPHASE_CONV_TRANSPOSE_H_
#define BACKENDS_KERNELS_POLYPHASE_CONV_TRANSPOSE_H_

#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>

#include <cstdint>

namespace codec::nn {

// Transposed 1-D convolutions as one ordinary convolution. Output sample
// t * stride + r of a stride-s transposed conv sums only the taps
// r, r + s, r + 2s, ... of each input frame, so the s output phases are s
// small convolutions of the input; stacked as s times the output channels
// they are one convolution of kernel ceil(kernel / stride), which runs on
// oneDNN's convolution kernel, followed by one pass interleaving the phases.
// libtorch 1.x takes CPU transposed convs through im2col products on the
// BLAS and a scatter-add instead, which is several times slower. Sums are in
// another order than libtorch's, so results differ in the last bits. On
// other devices (and without oneDNN) this is libtorch's conv_transpose1d.

// The full transposed convolution of x [batch, in, frames] with weight
// [in, out, kernel]: (frames - 1) * stride + kernel samples per channel,
// plus `bias` ([out]) where it is defined.
at::Tensor FullConvTranspose1d(const at::Tensor& x, const at::Tensor& weight,
                               const at::Tensor& bias, int64_t stride);

// torch's conv_transpose1d (one group, no dilation): the full convolution
// less `padding` samples at the start and `padding - output_padding` at the
// end (output_padding at most padding).
at::Tensor ConvTranspose1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           int64_t stride, int64_t padding, int64_t output_padding);

// A torch ConvTranspose1d module's forward, with its weights, stride and
// padding, through ConvTranspose1d above.
at::Tensor ConvTranspose1dForward(const torch::nn::ConvTranspose1dImpl& conv, const at::Tensor& x);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_POLYPHASE_CONV_TRANSPOSE_H_
