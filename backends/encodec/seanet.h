#ifndef BACKENDS_ENCODEC_SEANET_H_
#define BACKENDS_ENCODEC_SEANET_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "backends/encodec/encodec_config.h"
#include "backends/nn/norm_conv.h"
#include "backends/streaming/receptive_field.h"
#include "backends/streaming/stream_modules.h"

namespace codec::encodec {

// The convolution settings every SEANet conv of a model shares.
nn::ConvSpec BaseConvSpec(const EncodecConfig& config);

// SEANet residual unit: ELU, k-conv to dim/compress, ELU, 1x1 conv back,
// plus a 1x1-conv (or identity) shortcut. Parameters under "block.<i>.*"
// and "shortcut.*" as upstream.
class ResnetBlockImpl : public torch::nn::Module, public nn::Streamable {
 public:
  ResnetBlockImpl(const EncodecConfig& config, int64_t dim, int64_t dilation);
  at::Tensor forward(const at::Tensor& x);
  nn::StreamLayerPtr OpenStream(nn::NoiseSource* noise) const override;

 private:
  torch::nn::Sequential block_{nullptr};
  nn::PaddedConv1d shortcut_{nullptr};
};
TORCH_MODULE(ResnetBlock);

// Waveform [B, channels, T] -> latent [B, hidden_size, ceil(T / hop)].
// Layers under "model.<i>.*" with upstream's indices.
class SeanetEncoderImpl : public torch::nn::Module, public nn::Streamable {
 public:
  explicit SeanetEncoderImpl(const EncodecConfig& config);
  at::Tensor forward(const at::Tensor& x) { return model_->forward(x); }
  nn::StreamLayerPtr OpenStream(nn::NoiseSource* noise) const override {
    return nn::OpenModuleStream(*model_, noise);
  }

 private:
  torch::nn::Sequential model_{nullptr};
};
TORCH_MODULE(SeanetEncoder);

// Latent [B, hidden_size, F] -> waveform [B, channels, F * hop].
class SeanetDecoderImpl : public torch::nn::Module, public nn::Streamable {
 public:
  explicit SeanetDecoderImpl(const EncodecConfig& config);
  at::Tensor forward(const at::Tensor& x) { return model_->forward(x); }
  nn::StreamLayerPtr OpenStream(nn::NoiseSource* noise) const override {
    return nn::OpenModuleStream(*model_, noise);
  }

 private:
  torch::nn::Sequential model_{nullptr};
};
TORCH_MODULE(SeanetDecoder);

// The reach of the encoder's and decoder's layers, for stream latencies.
std::vector<nn::LayerReach> SeanetEncoderReach(const EncodecConfig& config);
std::vector<nn::LayerReach> SeanetDecoderReach(const EncodecConfig& config);

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_SEANET_H_
