#ifndef BACKENDS_SNAC_SNAC_LAYERS_H_
#define BACKENDS_SNAC_SNAC_LAYERS_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "backends/nn/snake_blocks.h"
#include "backends/snac/snac_config.h"

namespace codec::snac {

// Waveform [B, 1, T] -> latent [B, latent, T / hop]: input conv, encoder
// blocks, optional local attention, output conv. Layers under "block.<i>".
class EncoderImpl : public torch::nn::Module, public nn::Streamable {
 public:
  explicit EncoderImpl(const SnacConfig& config);
  at::Tensor forward(const at::Tensor& x) { return block_->forward(x); }
  nn::StreamLayerPtr OpenStream(nn::NoiseSource* noise) const override {
    return nn::OpenModuleStream(*block_, noise);
  }

 private:
  torch::nn::Sequential block_{nullptr};
};
TORCH_MODULE(Encoder);

// SNAC's decoder: the shared Snake decoder with SNAC's options.
nn::SnakeDecoderSpec DecoderSpec(const SnacConfig& config);

// The encoder's layer reach, for its stream latency.
std::vector<nn::LayerReach> EncoderReach(const SnacConfig& config);

}  // namespace codec::snac

#endif  // BACKENDS_SNAC_SNAC_LAYERS_H_
