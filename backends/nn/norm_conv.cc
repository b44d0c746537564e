#include "backends/nn/norm_conv.h"

#include <cmath>

#include "backends/nn/interrupt.h"

namespace codec::nn {

NormConvImpl::NormConvImpl(torch::nn::AnyModule conv, const std::string& conv_name,
                           const ConvSpec& spec)
    : conv_(std::move(conv)) {
  register_module(conv_name, conv_.ptr());
  if (spec.norm == ConvNorm::kTimeGroupNorm) {
    norm_ = register_module(
        "norm", torch::nn::GroupNorm(torch::nn::GroupNormOptions(1, spec.out_channels)));
  }
}

at::Tensor NormConvImpl::forward(const at::Tensor& x) {
  PollInterrupt();
  at::Tensor y = conv_.forward(x);
  return norm_ ? norm_->forward(y) : y;
}

PaddedConv1dImpl::PaddedConv1dImpl(const ConvSpec& spec) : spec_(spec) {
  torch::nn::Conv1d conv(
      torch::nn::Conv1dOptions(spec.in_channels, spec.out_channels, spec.kernel_size)
          .stride(spec.stride)
          .dilation(spec.dilation));
  conv_ = register_module("conv", NormConv(torch::nn::AnyModule(conv), "conv", spec));
}

at::Tensor PaddedConv1dImpl::forward(const at::Tensor& x) {
  const int64_t effective_kernel = (spec_.kernel_size - 1) * spec_.dilation + 1;
  const int64_t padding_total = effective_kernel - spec_.stride;
  const int64_t extra =
      ExtraPaddingForConv1d(x.size(-1), effective_kernel, spec_.stride, padding_total);
  const int64_t right = spec_.causal ? 0 : padding_total / 2;
  const int64_t left = padding_total - right;
  return conv_->forward(Pad1d(x, left, right + extra, spec_.pad_mode));
}

TrimmedConvTranspose1dImpl::TrimmedConvTranspose1dImpl(const ConvSpec& spec) : spec_(spec) {
  torch::nn::ConvTranspose1d convtr(
      torch::nn::ConvTranspose1dOptions(spec.in_channels, spec.out_channels, spec.kernel_size)
          .stride(spec.stride));
  convtr_ = register_module("convtr", NormConv(torch::nn::AnyModule(convtr), "convtr", spec));
}

at::Tensor TrimmedConvTranspose1dImpl::forward(const at::Tensor& x) {
  const int64_t padding_total = spec_.kernel_size - spec_.stride;
  const int64_t right =
      spec_.causal ? static_cast<int64_t>(std::ceil(padding_total * spec_.trim_right_ratio))
                   : padding_total / 2;
  return Unpad1d(convtr_->forward(x), padding_total - right, right);
}

}  // namespace codec::nn
