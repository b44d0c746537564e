#ifndef BACKENDS_KERNELS_CONV_KERNEL_H_
#define BACKENDS_KERNELS_CONV_KERNEL_H_

#include <ATen/core/Tensor.h>

namespace codec::nn {

// libtorch runs a float CPU conv with oneDNN or with its own im2col kernel
// depending on the input's size, and the two round differently in the last
// bits. (On a GPU these are libtorch's conv.) Offline, a layer sees the whole input and libtorch
// picks by its size (as upstream does); a stream sees short chunks of what offline is usually a
// long input, so it takes the kernel libtorch picks for long inputs.

// Whether libtorch runs a float conv on oneDNN when its input is long: it
// does unless the conv is a plain 1x1 on one thread.
bool LongInputsUseOnednn(const at::Tensor& x, const at::Tensor& weight, int64_t stride,
                         int64_t dilation);

// conv1d without padding, with the kernel libtorch picks for long inputs
// (its im2col kernel in the reference BLAS's order, as ConvBySize, where
// that is not oneDNN).
at::Tensor LongInputConv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           int64_t stride, int64_t dilation, int64_t groups);

// conv1d without padding as libtorch runs it on this input (in bfloat16 where
// the process's conv precision says so), except that
// where libtorch would take its im2col kernel through the BLAS (short
// inputs), the products are taken in the reference BLAS's order whatever
// BLAS is linked: the reference codecs were run with the reference BLAS,
// and OpenBLAS rounds otherwise. Where libtorch takes oneDNN, it is
// libtorch's conv (oneDNN does not use the BLAS).
at::Tensor ConvBySize(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      int64_t stride, int64_t dilation, int64_t groups);

}  // namespace codec::nn

#endif  // BACKENDS_KERNELS_CONV_KERNEL_H_
