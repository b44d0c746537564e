#ifndef BACKENDS_KERNELS_PADDING_H_
#define BACKENDS_KERNELS_PADDING_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace codec::nn {

// Zeros, a mirror of the signal, or copies of its first and last samples.
enum class PadMode { kZero, kReflect, kReplicate };

// Pads the last dimension of `x`. Reflect padding of a signal no longer
// than the pad first zero-extends it (and drops that extension afterwards),
// so short inputs pad like long ones instead of failing. Replicate padding
// needs one sample.
at::Tensor Pad1d(const at::Tensor& x, int64_t left, int64_t right, PadMode mode);

// Removes `left` and `right` samples from the last dimension.
at::Tensor Unpad1d(const at::Tensor& x, int64_t left, int64_t right);

// The right padding that makes the last window of a strided convolution
// complete, so that no input sample is dropped.
int64_t ExtraPaddingForConv1d(int64_t length, int64_t kernel_size, int64_t stride,
                              int64_t padding_total);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_PADDING_H_
