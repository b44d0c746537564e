#include "backends/snac/snac_layers.h"

#include <ATen/ATen.h>
#include <string>

#include "backends/nn/local_attention.h"
#include "backends/nn/snake.h"

namespace codec::snac {
namespace {

torch::nn::Conv1d Conv(int64_t in, int64_t out, int64_t kernel, int64_t padding = 0,
                       int64_t groups = 1) {
  return torch::nn::Conv1d(
      torch::nn::Conv1dOptions(in, out, kernel).padding(padding).groups(groups));
}

int64_t CeilHalf(int64_t stride) { return (stride + 1) / 2; }

// Registers `modules` in `parent` under consecutive indices from `first`,
// the way nn.Sequential names its children.
void RegisterIndexed(torch::nn::Module& parent, int64_t first,
                     const torch::nn::Sequential& modules) {
  for (const auto& child : modules->children()) {
    parent.register_module(std::to_string(first++), child);
  }
}

}  // namespace

ResidualUnitImpl::ResidualUnitImpl(int64_t dim, int64_t dilation, int64_t groups) {
  torch::nn::Conv1d dilated(torch::nn::Conv1dOptions(dim, dim, 7)
                                .dilation(dilation)
                                .padding(3 * dilation)
                                .groups(groups));
  block_ = register_module("block", torch::nn::Sequential(nn::Snake1d(dim), dilated,
                                                          nn::Snake1d(dim), Conv(dim, dim, 1)));
}

at::Tensor ResidualUnitImpl::forward(const at::Tensor& x) {
  const at::Tensor y = block_->forward(x);
  const int64_t crop = (x.size(-1) - y.size(-1)) / 2;
  return (crop > 0 ? x.slice(-1, crop, x.size(-1) - crop) : x) + y;
}

EncoderBlockImpl::EncoderBlockImpl(int64_t input_dim, int64_t stride, int64_t groups) {
  block_ = register_module(
      "block", torch::nn::Sequential(
                   ResidualUnit(input_dim, 1, groups), ResidualUnit(input_dim, 3, groups),
                   ResidualUnit(input_dim, 9, groups), nn::Snake1d(input_dim),
                   torch::nn::Conv1d(torch::nn::Conv1dOptions(input_dim, 2 * input_dim, 2 * stride)
                                         .stride(stride)
                                         .padding(CeilHalf(stride)))));
}

NoiseBlockImpl::NoiseBlockImpl(int64_t dim) {
  linear_ = register_module(
      "linear", torch::nn::Conv1d(torch::nn::Conv1dOptions(dim, dim, 1).bias(false)));
}

at::Tensor NoiseBlockImpl::forward(const at::Tensor& x, NoiseSource& noise) {
  if (!noise) return x;
  const at::Tensor n = at::randn({x.size(0), 1, x.size(2)}, *noise, x.options());
  return x + n * linear_->forward(x);
}

DecoderBlockImpl::DecoderBlockImpl(int64_t input_dim, int64_t output_dim, int64_t stride,
                                   bool noise, int64_t groups) {
  auto block = register_module("block", std::make_shared<torch::nn::Module>());
  upsample_ = torch::nn::Sequential(
      nn::Snake1d(input_dim),
      torch::nn::ConvTranspose1d(
          torch::nn::ConvTranspose1dOptions(input_dim, output_dim, 2 * stride)
              .stride(stride)
              .padding(CeilHalf(stride))
              .output_padding(stride % 2)));
  RegisterIndexed(*block, 0, upsample_);
  if (noise) noise_ = block->register_module("2", NoiseBlock(output_dim));
  residual_units_ = torch::nn::Sequential(ResidualUnit(output_dim, 1, groups),
                                          ResidualUnit(output_dim, 3, groups),
                                          ResidualUnit(output_dim, 9, groups));
  RegisterIndexed(*block, noise ? 3 : 2, residual_units_);
}

at::Tensor DecoderBlockImpl::forward(const at::Tensor& x, NoiseSource& noise) {
  at::Tensor y = upsample_->forward(x);
  if (noise_) y = noise_->forward(y, noise);
  return residual_units_->forward(y);
}

EncoderImpl::EncoderImpl(const SnacConfig& config) {
  torch::nn::Sequential block;
  int64_t dim = config.encoder_dim;
  block->push_back(Conv(1, dim, 7, 3));
  for (int stride : config.encoder_rates) {
    block->push_back(EncoderBlock(dim, stride, config.depthwise ? dim : 1));
    dim *= 2;
  }
  if (config.attn_window_size) block->push_back(nn::LocalAttention(dim, *config.attn_window_size));
  block->push_back(Conv(dim, dim, 7, 3, config.depthwise ? dim : 1));
  block_ = register_module("block", block);
}


DecoderImpl::DecoderImpl(const SnacConfig& config) {
  auto model = register_module("model", std::make_shared<torch::nn::Module>());
  const int64_t latent = config.latent_channels();
  const int64_t channels = config.decoder_dim;
  head_ = config.depthwise ? torch::nn::Sequential(Conv(latent, latent, 7, 3, latent),
                                                   Conv(latent, channels, 1))
                           : torch::nn::Sequential(Conv(latent, channels, 7, 3));
  if (config.attn_window_size) {
    head_->push_back(nn::LocalAttention(channels, *config.attn_window_size));
  }
  RegisterIndexed(*model, 0, head_);
  int64_t index = static_cast<int64_t>(head_->size());
  int64_t output_dim = channels;
  for (size_t i = 0; i < config.decoder_rates.size(); ++i) {
    const int64_t input_dim = channels >> i;
    output_dim = channels >> (i + 1);
    blocks_.push_back(model->register_module(
        std::to_string(index++),
        DecoderBlock(input_dim, output_dim, config.decoder_rates[i], config.noise,
                     config.depthwise ? output_dim : 1)));
  }
  tail_ = torch::nn::Sequential(nn::Snake1d(output_dim), Conv(output_dim, 1, 7, 3));
  RegisterIndexed(*model, index, tail_);
}

at::Tensor DecoderImpl::forward(const at::Tensor& x, NoiseSource& noise) {
  at::Tensor y = head_->forward(x);
  for (DecoderBlock& block : blocks_) y = block->forward(y, noise);
  return at::tanh(tail_->forward(y));
}

}  // namespace codec::snac
