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

nn::SnakeDecoder MakeDecoder(const SnacConfig& config) {
  nn::SnakeDecoderSpec spec;
  spec.latent_dim = config.latent_channels();
  spec.channels = config.decoder_dim;
  spec.rates = config.decoder_rates;
  spec.depthwise = config.depthwise;
  spec.attn_window_size = config.attn_window_size;
  spec.noise = config.noise;
  spec.pad_odd_strides = true;
  return nn::SnakeDecoder(spec);
}

}  // namespace codec::snac
