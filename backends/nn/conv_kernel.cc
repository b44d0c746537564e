#include "backends/nn/conv_kernel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ops/mkldnn_convolution.h>

namespace codec::nn {

bool LongInputsUseOnednn(const at::Tensor& x, const at::Tensor& weight, int64_t stride,
                         int64_t dilation) {
  const bool plain_1x1 = weight.size(-1) == 1 && stride == 1 && dilation == 1;
  return at::hasMKLDNN() && x.scalar_type() == at::kFloat &&
         (!plain_1x1 || at::get_num_threads() > 1);
}

at::Tensor LongInputConv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           int64_t stride, int64_t dilation, int64_t groups) {
  const int64_t no_padding = 0;
  if (LongInputsUseOnednn(x, weight, stride, dilation)) {
    return at::mkldnn_convolution(x.contiguous(), weight, bias, at::IntArrayRef(no_padding),
                                  at::IntArrayRef(stride), at::IntArrayRef(dilation), groups);
  }
  return at::conv1d(x, weight, bias, at::IntArrayRef(stride), at::IntArrayRef(no_padding),
                    at::IntArrayRef(dilation), groups);
}

}  // namespace codec::nn
