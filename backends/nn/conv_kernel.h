#ifndef BACKENDS_NN_CONV_KERNEL_H_
#define BACKENDS_NN_CONV_KERNEL_H_

#include <ATen/core/Tensor.h>

namespace codec::nn {

// libtorch runs a float conv with oneDNN or with its own im2col kernel
// depending on the input's size, and the two round differently in the last
// bits. Offline, a layer sees the whole input and libtorch picks by its size
// (as upstream does); a stream sees short chunks of what offline is usually
// a long input, so it takes the kernel libtorch picks for long inputs.
enum class ConvKernel { kBySize, kLongInput };

// Whether libtorch runs a float conv on oneDNN when its input is long: it
// does unless the conv is a plain 1x1 on one thread.
bool LongInputsUseOnednn(const at::Tensor& x, const at::Tensor& weight, int64_t stride,
                         int64_t dilation);

// conv1d without padding, with the kernel libtorch picks for long inputs.
at::Tensor LongInputConv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           int64_t stride, int64_t dilation, int64_t groups);

}  // namespace codec::nn

#endif  // BACKENDS_NN_CONV_KERNEL_H_
