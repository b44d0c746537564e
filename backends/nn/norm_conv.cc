#include "backends/nn/norm_conv.h"

#include <cmath>

#include "backends/kernels/conv_kernel.h"
#include "backends/kernels/polyphase_conv_transpose.h"
#include "backends/streaming/interrupt.h"
#include "backends/streaming/stream_conv.h"

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
  at::Tensor y;
  if (const auto conv = std::dynamic_pointer_cast<torch::nn::Conv1dImpl>(conv_.ptr())) {
    const auto& options = conv->options;
    y = ConvBySize(x, conv->weight, conv->bias, options.stride()->front(),
                   options.dilation()->front(), options.groups());
  } else {
    y = ConvTranspose1dForward(*conv_.get<torch::nn::ConvTranspose1d>(), x);
  }
  return norm_ ? norm_->forward(y) : y;
}

std::pair<at::Tensor, at::Tensor> NormConvImpl::StreamableWeights() const {
  TORCH_CHECK(!norm_, "a time-group-normed conv cannot stream");
  const auto parameters = conv_.ptr()->named_parameters(/*recurse=*/false);
  const at::Tensor* bias = parameters.find("bias");
  return {parameters["weight"], bias ? *bias : at::Tensor()};
}

namespace {

// SEANet's split of a conv's padding: causal all on the left.
std::pair<int64_t, int64_t> ConvPadding(const ConvSpec& spec) {
  const int64_t padding_total = (spec.kernel_size - 1) * spec.dilation + 1 - spec.stride;
  const int64_t right = spec.causal ? 0 : padding_total / 2;
  return {padding_total - right, right};
}

// SEANet's split of a transposed conv's surplus: causal by trim_right_ratio.
std::pair<int64_t, int64_t> TransposeTrim(const ConvSpec& spec) {
  const int64_t padding_total = spec.kernel_size - spec.stride;
  const int64_t right = spec.causal
                            ? static_cast<int64_t>(std::ceil(padding_total * spec.trim_right_ratio))
                            : padding_total / 2;
  return {padding_total - right, right};
}

}  // namespace

LayerReach PaddedConvReach(const ConvSpec& spec) {
  return LayerReach::Conv(spec.kernel_size, spec.stride, spec.dilation, ConvPadding(spec).first);
}

LayerReach TrimmedConvTransposeReach(const ConvSpec& spec) {
  return LayerReach::TransposedConv(spec.kernel_size, spec.stride, TransposeTrim(spec).first);
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
  const auto [left, right] = ConvPadding(spec_);
  const int64_t extra =
      ExtraPaddingForConv1d(x.size(-1), effective_kernel, spec_.stride, left + right);
  return conv_->forward(Pad1d(x, left, right + extra, spec_.pad_mode));
}

StreamLayerPtr PaddedConv1dImpl::OpenStream(NoiseSource*) const {
  StreamConvSpec stream;
  std::tie(stream.weight, stream.bias) = conv_->StreamableWeights();
  stream.stride = spec_.stride;
  stream.dilation = spec_.dilation;
  std::tie(stream.left, stream.right) = ConvPadding(spec_);
  stream.mode = spec_.pad_mode;
  stream.complete_last_window = true;
  return std::make_unique<StreamConv1d>(std::move(stream));
}

TrimmedConvTranspose1dImpl::TrimmedConvTranspose1dImpl(const ConvSpec& spec) : spec_(spec) {
  torch::nn::ConvTranspose1d convtr(
      torch::nn::ConvTranspose1dOptions(spec.in_channels, spec.out_channels, spec.kernel_size)
          .stride(spec.stride));
  convtr_ = register_module("convtr", NormConv(torch::nn::AnyModule(convtr), "convtr", spec));
}

at::Tensor TrimmedConvTranspose1dImpl::forward(const at::Tensor& x) {
  const auto [left, right] = TransposeTrim(spec_);
  return Unpad1d(convtr_->forward(x), left, right);
}

StreamLayerPtr TrimmedConvTranspose1dImpl::OpenStream(NoiseSource*) const {
  StreamConvTransposeSpec stream;
  std::tie(stream.weight, stream.bias) = convtr_->StreamableWeights();
  stream.stride = spec_.stride;
  std::tie(stream.crop_left, stream.crop_right) = TransposeTrim(spec_);
  return std::make_unique<StreamConvTranspose1d>(std::move(stream));
}

}  // namespace codec::nn
