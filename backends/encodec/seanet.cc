#include "backends/encodec/seanet.h"

#include <torch/nn/modules/activation.h>

#include <cmath>

#include "backends/nn/skip_lstm.h"

namespace codec::encodec {
namespace {

nn::ConvSpec Spec(const EncodecConfig& config, int64_t in, int64_t out, int64_t kernel,
                  int64_t stride = 1, int64_t dilation = 1) {
  nn::ConvSpec spec = BaseConvSpec(config);
  spec.in_channels = in;
  spec.out_channels = out;
  spec.kernel_size = kernel;
  spec.stride = stride;
  spec.dilation = dilation;
  return spec;
}

nn::PaddedConv1d Conv(const EncodecConfig& config, int64_t in, int64_t out, int64_t kernel,
                      int64_t stride = 1, int64_t dilation = 1) {
  return nn::PaddedConv1d(Spec(config, in, out, kernel, stride, dilation));
}

int64_t Dilation(const EncodecConfig& config, int j) {
  return static_cast<int64_t>(std::pow(config.dilation_growth_rate, j));
}

// The residual blocks' dilated convs (their 1x1 convs reach nowhere).
void AppendResnetReach(const EncodecConfig& config, std::vector<nn::LayerReach>& chain) {
  for (int j = 0; j < config.num_residual_layers; ++j) {
    chain.push_back(
        nn::PaddedConvReach(Spec(config, 1, 1, config.residual_kernel_size, 1, Dilation(config, j))));
  }
}

}  // namespace

nn::ConvSpec BaseConvSpec(const EncodecConfig& config) {
  nn::ConvSpec spec;
  spec.norm = config.norm_type == "time_group_norm" ? nn::ConvNorm::kTimeGroupNorm
                                                    : nn::ConvNorm::kWeightNorm;
  spec.causal = config.use_causal_conv;
  spec.pad_mode = config.pad_mode == "reflect" ? nn::PadMode::kReflect : nn::PadMode::kZero;
  spec.trim_right_ratio = config.trim_right_ratio;
  return spec;
}

ResnetBlockImpl::ResnetBlockImpl(const EncodecConfig& config, int64_t dim, int64_t dilation) {
  const int64_t hidden = dim / config.compress;
  block_ = register_module(
      "block", torch::nn::Sequential(torch::nn::ELU(),
                                     Conv(config, dim, hidden, config.residual_kernel_size,
                                          /*stride=*/1, dilation),
                                     torch::nn::ELU(), Conv(config, hidden, dim, 1)));
  if (config.use_conv_shortcut) shortcut_ = register_module("shortcut", Conv(config, dim, dim, 1));
}

at::Tensor ResnetBlockImpl::forward(const at::Tensor& x) {
  return (shortcut_ ? shortcut_->forward(x) : x) + block_->forward(x);
}

nn::StreamLayerPtr ResnetBlockImpl::OpenStream(nn::NoiseSource* noise) const {
  return std::make_unique<nn::StreamResidual>(
      shortcut_ ? nn::OpenModuleStream(*shortcut_, noise) : nullptr,
      nn::OpenModuleStream(*block_, noise));
}

SeanetEncoderImpl::SeanetEncoderImpl(const EncodecConfig& config) {
  torch::nn::Sequential model;
  int64_t channels = config.num_filters;
  model->push_back(Conv(config, config.audio_channels, channels, config.kernel_size));
  for (auto ratio = config.upsampling_ratios.rbegin(); ratio != config.upsampling_ratios.rend();
       ++ratio) {
    for (int j = 0; j < config.num_residual_layers; ++j) {
      model->push_back(ResnetBlock(config, channels,
                                   Dilation(config, j)));
    }
    model->push_back(torch::nn::ELU());
    model->push_back(Conv(config, channels, channels * 2, *ratio * 2, *ratio));
    channels *= 2;
  }
  if (config.num_lstm_layers > 0) model->push_back(nn::SkipLstm(channels, config.num_lstm_layers));
  model->push_back(torch::nn::ELU());
  model->push_back(Conv(config, channels, config.hidden_size, config.last_kernel_size));
  model_ = register_module("model", model);
}

SeanetDecoderImpl::SeanetDecoderImpl(const EncodecConfig& config) {
  torch::nn::Sequential model;
  int64_t channels = config.num_filters << config.upsampling_ratios.size();
  model->push_back(Conv(config, config.hidden_size, channels, config.kernel_size));
  if (config.num_lstm_layers > 0) model->push_back(nn::SkipLstm(channels, config.num_lstm_layers));
  for (int ratio : config.upsampling_ratios) {
    model->push_back(torch::nn::ELU());
    nn::ConvSpec spec = BaseConvSpec(config);
    spec.in_channels = channels;
    spec.out_channels = channels / 2;
    spec.kernel_size = ratio * 2;
    spec.stride = ratio;
    model->push_back(nn::TrimmedConvTranspose1d(spec));
    channels /= 2;
    for (int j = 0; j < config.num_residual_layers; ++j) {
      model->push_back(ResnetBlock(config, channels,
                                   Dilation(config, j)));
    }
  }
  model->push_back(torch::nn::ELU());
  model->push_back(
      Conv(config, config.num_filters, config.audio_channels, config.last_kernel_size));
  model_ = register_module("model", model);
}

std::vector<nn::LayerReach> SeanetEncoderReach(const EncodecConfig& config) {
  std::vector<nn::LayerReach> chain = {nn::PaddedConvReach(Spec(config, 1, 1, config.kernel_size))};
  for (auto ratio = config.upsampling_ratios.rbegin(); ratio != config.upsampling_ratios.rend();
       ++ratio) {
    AppendResnetReach(config, chain);
    chain.push_back(nn::PaddedConvReach(Spec(config, 1, 1, *ratio * 2, *ratio)));
  }
  chain.push_back(nn::PaddedConvReach(Spec(config, 1, 1, config.last_kernel_size)));
  return chain;
}

std::vector<nn::LayerReach> SeanetDecoderReach(const EncodecConfig& config) {
  std::vector<nn::LayerReach> chain = {nn::PaddedConvReach(Spec(config, 1, 1, config.kernel_size))};
  for (int ratio : config.upsampling_ratios) {
    chain.push_back(nn::TrimmedConvTransposeReach(Spec(config, 1, 1, ratio * 2, ratio)));
    AppendResnetReach(config, chain);
  }
  chain.push_back(nn::PaddedConvReach(Spec(config, 1, 1, config.last_kernel_size)));
  return chain;
}

}  // namespace codec::encodec
