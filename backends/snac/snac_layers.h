#ifndef BACKENDS_SNAC_SNAC_LAYERS_H_
#define BACKENDS_SNAC_SNAC_LAYERS_H_

#include <optional>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "backends/snac/snac_config.h"

namespace codec::snac {

// The decoder's noise source for one decode: nullopt switches the noise
// blocks off (identity).
using NoiseSource = std::optional<at::Generator>;

// Snake, dilated k=7 conv, Snake, 1x1 conv, plus the input (cropped to the
// output's length). Parameters under "block.<i>.*".
class ResidualUnitImpl : public torch::nn::Module {
 public:
  ResidualUnitImpl(int64_t dim, int64_t dilation, int64_t groups);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Sequential block_{nullptr};
};
TORCH_MODULE(ResidualUnit);

// Adds randn(B, 1, T) * conv1x1(x) to x (parameters "linear.*").
class NoiseBlockImpl : public torch::nn::Module {
 public:
  explicit NoiseBlockImpl(int64_t dim);
  at::Tensor forward(const at::Tensor& x, NoiseSource& noise);

 private:
  torch::nn::Conv1d linear_{nullptr};
};
TORCH_MODULE(NoiseBlock);

// Three residual units, Snake, and a conv downsampling by `stride` that
// doubles the channels. Parameters under "block.<i>.*".
class EncoderBlockImpl : public torch::nn::Module {
 public:
  EncoderBlockImpl(int64_t input_dim, int64_t stride, int64_t groups);
  at::Tensor forward(const at::Tensor& x) { return block_->forward(x); }

 private:
  torch::nn::Sequential block_{nullptr};
};
TORCH_MODULE(EncoderBlock);

// Snake, transposed conv upsampling by `stride`, optional noise, three
// residual units. Parameters under "block.<i>.*".
class DecoderBlockImpl : public torch::nn::Module {
 public:
  DecoderBlockImpl(int64_t input_dim, int64_t output_dim, int64_t stride, bool noise,
                   int64_t groups);
  at::Tensor forward(const at::Tensor& x, NoiseSource& noise);

 private:
  torch::nn::Sequential upsample_{nullptr};
  NoiseBlock noise_{nullptr};
  torch::nn::Sequential residual_units_{nullptr};
};
TORCH_MODULE(DecoderBlock);

// Waveform [B, 1, T] -> latent [B, latent, T / hop]; layers under "block.<i>".
class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const SnacConfig& config);
  at::Tensor forward(const at::Tensor& x) { return block_->forward(x); }

 private:
  torch::nn::Sequential block_{nullptr};
};
TORCH_MODULE(Encoder);

// Latent [B, latent, F] -> waveform [B, 1, F * hop] in [-1, 1]; layers
// under "model.<i>".
class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const SnacConfig& config);
  at::Tensor forward(const at::Tensor& x, NoiseSource& noise);

 private:
  torch::nn::Sequential head_{nullptr};  // Input convs and attention.
  std::vector<DecoderBlock> blocks_;
  torch::nn::Sequential tail_{nullptr};  // Snake and output conv.
};
TORCH_MODULE(Decoder);

}  // namespace codec::snac

#endif  // BACKENDS_SNAC_SNAC_LAYERS_H_
