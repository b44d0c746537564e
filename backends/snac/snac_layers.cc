#include "backends/snac/snac_layers.h"

#include "backends/nn/local_attention.h"

namespace codec::snac {

EncoderImpl::EncoderImpl(const SnacConfig& config) {
  torch::nn::Sequential block;
  int64_t dim = config.encoder_dim;
  block->push_back(nn::PaddedConv(1, dim, 7, 3));
  for (int stride : config.encoder_rates) {
    block->push_back(nn::EncoderBlock(dim, stride, config.depthwise ? dim : 1));
    dim *= 2;
  }
  if (config.attn_window_size) block->push_back(nn::LocalAttention(dim, *config.attn_window_size));
  block->push_back(nn::PaddedConv(dim, dim, 7, 3, config.depthwise ? dim : 1));
  block_ = register_module("block", block);
}

std::vector<nn::LayerReach> EncoderReach(const SnacConfig& config) {
  std::vector<nn::LayerReach> chain;
  nn::AppendEncoderBlocksReach(config.encoder_rates, chain);
  if (config.attn_window_size) chain.push_back(nn::LayerReach::Window(*config.attn_window_size));
  chain.push_back(nn::LayerReach::Conv(7, 1, 1, 3));
  return chain;
}

nn::SnakeDecoderSpec DecoderSpec(const SnacConfig& config) {
  nn::SnakeDecoderSpec spec;
  spec.latent_dim = config.latent_channels();
  spec.channels = config.decoder_dim;
  spec.rates = config.decoder_rates;
  spec.depthwise = config.depthwise;
  spec.attn_window_size = config.attn_window_size;
  spec.noise = config.noise;
  spec.pad_odd_strides = true;
  return spec;
}

}  // namespace codec::snac
