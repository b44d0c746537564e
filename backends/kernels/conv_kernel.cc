#include "backends/kernels/conv_kernel.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ops/mkldnn_convolution.h>

#include "backends/kernels/blas_order_products.h"
#include "backends/kernels/conv_precision.h"
#include "backends/kernels/host_kernels.h"
#include "backends/kernels/weight_cache.h"

namespace codec::nn {
namespace {

// libtorch's own im2col conv (no groups, no dilation) with the products in
// the reference BLAS's order: a row per output frame, its terms ordered
// (input channel, tap) as libtorch unfolds them; the BLAS's plain matrix
// product adds each term into the output, which starts as the bias.
at::Tensor ReferenceOrderIm2colConv(const at::Tensor& x, const at::Tensor& weight,
                                    const at::Tensor& bias, int64_t stride) {
  const int64_t batch = x.size(0), out_channels = weight.size(0);
  const at::Tensor rows =
      x.unfold(2, weight.size(-1), stride).permute({0, 2, 1, 3});  // [B, T', C, K]
  const int64_t frames = rows.size(1);
  // Blocked once per weight: a one-thread stream runs its 1x1 convs here
  // every step.
  static auto* cache = new WeightCache<RowByRowProducts>();
  const std::shared_ptr<const RowByRowProducts> products = cache->Get(weight, [&] {
    return std::make_shared<const RowByRowProducts>(weight.reshape({out_channels, -1}), bias,
                                                    ReferenceSum::kIntoBias);
  });
  return (*products)(rows.reshape({batch * frames, -1}))
      .view({batch, frames, out_channels})
      .transpose(1, 2)
      .contiguous();
}

}  // namespace

bool LongInputsUseOnednn(const at::Tensor& x, const at::Tensor& weight, int64_t stride,
                         int64_t dilation) {
  const bool plain_1x1 = weight.size(-1) == 1 && stride == 1 && dilation == 1;
  return UsesExactHostKernels(x) && at::hasMKLDNN() && x.scalar_type() == at::kFloat &&
         (!plain_1x1 || at::get_num_threads() > 1);
}

at::Tensor LongInputConv1d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           int64_t stride, int64_t dilation, int64_t groups) {
  const int64_t no_padding = 0;
  if (LongInputsUseOnednn(x, weight, stride, dilation)) {
    return at::mkldnn_convolution(x.contiguous(), weight, bias, at::IntArrayRef(no_padding),
                                  at::IntArrayRef(stride), at::IntArrayRef(dilation), groups);
  }
  if (UsesExactHostKernels(x) && groups == 1 && dilation == 1) {
    return ReferenceOrderIm2colConv(x, weight, bias, stride);
  }
  return at::conv1d(x, weight, bias, at::IntArrayRef(stride), at::IntArrayRef(no_padding),
                    at::IntArrayRef(dilation), groups);
}

at::Tensor ConvBySize(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                      int64_t stride, int64_t dilation, int64_t groups) {
  const int64_t no_padding = 0;
  if (ConvInBfloat16(x, groups)) {
    return Bfloat16Conv1d(x, weight, bias, no_padding, stride, dilation, groups);
  }
  // libtorch 1.13's choice for a CPU float conv1d (a 2-D conv of height 1):
  // oneDNN when, besides being worth it for a 1x1 (the first clause), the
  // input is grouped, batched or larger than its threshold; else its own
  // im2col kernel, or its dilated kernel.
  const bool onednn = at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() &&
                      x.scalar_type() == at::kFloat &&
                      (stride != 1 || dilation != 1 || x.size(0) >= 16 || weight.size(-1) != 1 ||
                       at::get_num_threads() > 1) &&
                      (groups > 1 || x.size(0) > 1 || x.numel() > 20480);
  if (!UsesExactHostKernels(x) || onednn || groups != 1 || dilation != 1 || x.scalar_type() != at::kFloat) {
    return at::conv1d(x, weight, bias, at::IntArrayRef(stride), at::IntArrayRef(no_padding),
                      at::IntArrayRef(dilation), groups);
  }
  return ReferenceOrderIm2colConv(x, weight, bias, stride);
}

}  // namespace codec::nn
