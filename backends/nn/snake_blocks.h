#ifndef BACKENDS_NN_SNAKE_BLOCKS_H_
#define BACKENDS_NN_SNAKE_BLOCKS_H_

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <vector>

#include "backends/kernels/conv_precision.h"
#include "backends/nn/snake.h"
#include "backends/streaming/noise_source.h"
#include "backends/streaming/receptive_field.h"
#include "backends/streaming/stream_modules.h"

namespace codec::nn {

// The convolution blocks DAC and SNAC share (Snake activations, dilated
// residual units, strided down- and transposed up-sampling), with
// parameters named as upstream's nn.Sequential children.

// A conv with symmetric zero padding (upstream's WNConv1d once weight norm
// is folded).
PrecisionConv1d PaddedConv(int64_t in, int64_t out, int64_t kernel, int64_t padding = 0,
                           int64_t groups = 1);

// Snake, dilated k=7 conv, Snake, 1x1 conv, plus the input (cropped to the
// output's length). Parameters under "block.<i>.*".
class ResidualUnitImpl : public torch::nn::Module, public Streamable {
 public:
  ResidualUnitImpl(int64_t dim, int64_t dilation, int64_t groups);
  at::Tensor forward(const at::Tensor& x);
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  torch::nn::Sequential block_{nullptr};
};
TORCH_MODULE(ResidualUnit);

// Residual units (dilations 1, 3, 9), Snake, and a conv downsampling by
// `stride` that doubles the channels. Parameters under "block.<i>.*".
class EncoderBlockImpl : public torch::nn::Module, public Streamable {
 public:
  EncoderBlockImpl(int64_t input_dim, int64_t stride, int64_t groups);
  at::Tensor forward(const at::Tensor& x) { return block_->forward(x); }
  StreamLayerPtr OpenStream(NoiseSource* noise) const override {
    return OpenModuleStream(*block_, noise);
  }

 private:
  torch::nn::Sequential block_{nullptr};
};
TORCH_MODULE(EncoderBlock);

// Adds randn(B, 1, T) * conv1x1(x) to x (parameters "linear.*").
class NoiseBlockImpl : public torch::nn::Module, public Streamable {
 public:
  explicit NoiseBlockImpl(int64_t dim);
  at::Tensor forward(const at::Tensor& x, NoiseSource& noise);
  // Draws each chunk's noise in turn from the stream's source: a seeded
  // stream repeats itself for the same chunking. In a batch of streams,
  // each row draws from its own stream's source.
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  // forward() with row b's noise drawn from *sources[b] (all on or all off).
  at::Tensor ForwardRows(const at::Tensor& x, const std::vector<NoiseSource*>& sources);

  PrecisionConv1d linear_{nullptr};
};
TORCH_MODULE(NoiseBlock);

struct DecoderBlockSpec {
  int64_t input_dim = 0;
  int64_t output_dim = 0;
  int64_t stride = 1;
  int64_t output_padding = 0;  // SNAC pads odd strides by one; DAC never.
  bool noise = false;
  int64_t groups = 1;  // Of the residual units' dilated convs.
};

// Snake, transposed conv upsampling by `stride`, optional noise, residual
// units. Parameters under "block.<i>.*".
class DecoderBlockImpl : public torch::nn::Module, public Streamable {
 public:
  explicit DecoderBlockImpl(const DecoderBlockSpec& spec);
  at::Tensor forward(const at::Tensor& x, NoiseSource& noise);
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  torch::nn::Sequential upsample_{nullptr};  // snake_, upsample_conv_.
  Snake1d snake_{nullptr};
  torch::nn::ConvTranspose1d upsample_conv_{nullptr};
  NoiseBlock noise_{nullptr};
  torch::nn::Sequential residual_units_{nullptr};
};
TORCH_MODULE(DecoderBlock);

struct SnakeDecoderSpec {
  int64_t latent_dim = 0;
  int64_t channels = 0;  // Halved by each upsampling block.
  std::vector<int> rates;
  bool depthwise = false;               // Depthwise input conv and residual units.
  std::optional<int> attn_window_size;  // Local attention after the input conv.
  bool noise = false;
  bool pad_odd_strides = false;  // output_padding = stride % 2.
};

// Latent [B, latent, F] -> waveform [B, 1, F * prod(rates)] in [-1, 1]:
// input conv(s), optional local attention, upsampling blocks, Snake, output
// conv, tanh. Layers under "model.<i>" (DAC's and SNAC's Decoder).
class SnakeDecoderImpl : public torch::nn::Module, public Streamable {
 public:
  explicit SnakeDecoderImpl(const SnakeDecoderSpec& spec);
  at::Tensor forward(const at::Tensor& x, NoiseSource& noise);
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  torch::nn::Sequential head_{nullptr};
  std::vector<DecoderBlock> blocks_;
  torch::nn::Sequential tail_{nullptr};
};
TORCH_MODULE(SnakeDecoder);

// The reach of the layers DAC's and SNAC's encoders and decoders are built
// from, for their stream latencies: the input conv (kernel 7), the blocks'
// residual units (dilated kernel-7 convs) and strided convs, and
// `final_kernel` (encoders) or the output conv (decoder).
void AppendEncoderBlocksReach(const std::vector<int>& rates, std::vector<LayerReach>& chain);
std::vector<LayerReach> SnakeDecoderReach(const SnakeDecoderSpec& spec);

}  // namespace codec::nn

#endif  // BACKENDS_NN_SNAKE_BLOCKS_H_
