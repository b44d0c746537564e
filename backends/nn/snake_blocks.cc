#include "backends/nn/snake_blocks.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <string>

#include "backends/kernels/polyphase_conv_transpose.h"
#include "backends/nn/local_attention.h"
#include "backends/streaming/interrupt.h"

namespace codec::nn {
namespace {

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

PrecisionConv1d PaddedConv(int64_t in, int64_t out, int64_t kernel, int64_t padding,
                           int64_t groups) {
  return PrecisionConv1d(torch::nn::Conv1dOptions(in, out, kernel).padding(padding).groups(groups));
}

ResidualUnitImpl::ResidualUnitImpl(int64_t dim, int64_t dilation, int64_t groups) {
  PrecisionConv1d dilated(torch::nn::Conv1dOptions(dim, dim, 7)
                              .dilation(dilation)
                              .padding(3 * dilation)
                              .groups(groups));
  block_ = register_module(
      "block", torch::nn::Sequential(Snake1d(dim), dilated, Snake1d(dim), PaddedConv(dim, dim, 1)));
}

StreamLayerPtr ResidualUnitImpl::OpenStream(NoiseSource* noise) const {
  // The dilated conv pads to the same length: no crop in the skip path.
  return std::make_unique<StreamResidual>(nullptr, OpenModuleStream(*block_, noise));
}

at::Tensor ResidualUnitImpl::forward(const at::Tensor& x) {
  PollInterrupt();
  const at::Tensor y = block_->forward(x);
  const int64_t crop = (x.size(-1) - y.size(-1)) / 2;
  return (crop > 0 ? x.slice(-1, crop, x.size(-1) - crop) : x) + y;
}

EncoderBlockImpl::EncoderBlockImpl(int64_t input_dim, int64_t stride, int64_t groups) {
  block_ = register_module(
      "block", torch::nn::Sequential(
                   ResidualUnit(input_dim, 1, groups), ResidualUnit(input_dim, 3, groups),
                   ResidualUnit(input_dim, 9, groups), Snake1d(input_dim),
                   PrecisionConv1d(torch::nn::Conv1dOptions(input_dim, 2 * input_dim, 2 * stride)
                                       .stride(stride)
                                       .padding(CeilHalf(stride)))));
}

NoiseBlockImpl::NoiseBlockImpl(int64_t dim) {
  linear_ =
      register_module("linear", PrecisionConv1d(torch::nn::Conv1dOptions(dim, dim, 1).bias(false)));
}

at::Tensor NoiseBlockImpl::forward(const at::Tensor& x, NoiseSource& noise) {
  if (!noise) return x;
  RECORD_USER_SCOPE("codec::noise");  // For profilers; free without one.
  const at::Tensor n = at::randn({x.size(0), 1, x.size(2)}, *noise, x.options());
  return x + n * linear_->forward(x);
}

at::Tensor NoiseBlockImpl::ForwardRows(const at::Tensor& x,
                                       const std::vector<NoiseSource*>& sources) {
  TORCH_CHECK(static_cast<int64_t>(sources.size()) == x.size(0), "one noise source per row");
  const NoiseSource& first = *sources.front();
  if (!first) return x;
  // Rows of one generator (unseeded decodes) draw in one call; a seeded
  // stream's row draws from its own, as it would alone.
  const bool one_generator = std::all_of(sources.begin(), sources.end(), [&](NoiseSource* source) {
    return *source && **source == *first;
  });
  at::Tensor noise;
  if (one_generator) {
    noise = at::randn({x.size(0), 1, x.size(2)}, *first, x.options());
  } else {
    std::vector<at::Tensor> rows;
    for (NoiseSource* source : sources) {
      rows.push_back(at::randn({1, 1, x.size(2)}, **source, x.options()));
    }
    noise = at::cat(rows, 0);
  }
  return x + noise * linear_->forward(x);
}

StreamLayerPtr NoiseBlockImpl::OpenStream(NoiseSource* noise) const {
  auto* self = const_cast<NoiseBlockImpl*>(this);  // Only reads the weights.
  auto sources = std::make_shared<std::vector<NoiseSource*>>(1, noise);
  return std::make_unique<StreamPointwise>(
      [self, sources](const at::Tensor& x) { return self->ForwardRows(x, *sources); },
      [sources](StreamStateVisitor& visitor) { visitor.Sources(*sources); });
}

DecoderBlockImpl::DecoderBlockImpl(const DecoderBlockSpec& spec) {
  auto block = register_module("block", std::make_shared<torch::nn::Module>());
  snake_ = Snake1d(spec.input_dim);
  upsample_conv_ = torch::nn::ConvTranspose1d(
      torch::nn::ConvTranspose1dOptions(spec.input_dim, spec.output_dim, 2 * spec.stride)
          .stride(spec.stride)
          .padding(CeilHalf(spec.stride))
          .output_padding(spec.output_padding));
  upsample_ = torch::nn::Sequential(snake_, upsample_conv_);
  RegisterIndexed(*block, 0, upsample_);
  if (spec.noise) noise_ = block->register_module("2", NoiseBlock(spec.output_dim));
  residual_units_ = torch::nn::Sequential(ResidualUnit(spec.output_dim, 1, spec.groups),
                                          ResidualUnit(spec.output_dim, 3, spec.groups),
                                          ResidualUnit(spec.output_dim, 9, spec.groups));
  RegisterIndexed(*block, spec.noise ? 3 : 2, residual_units_);
}

at::Tensor DecoderBlockImpl::forward(const at::Tensor& x, NoiseSource& noise) {
  PollInterrupt();
  at::Tensor y = ConvTranspose1dForward(*upsample_conv_, snake_->forward(x));
  if (noise_) y = noise_->forward(y, noise);
  return residual_units_->forward(y);
}

StreamLayerPtr DecoderBlockImpl::OpenStream(NoiseSource* noise) const {
  std::vector<StreamLayerPtr> layers;
  layers.push_back(OpenModuleStream(*upsample_, noise));
  if (noise_) layers.push_back(OpenModuleStream(*noise_, noise));
  layers.push_back(OpenModuleStream(*residual_units_, noise));
  return std::make_unique<StreamSequential>(std::move(layers));
}

SnakeDecoderImpl::SnakeDecoderImpl(const SnakeDecoderSpec& spec) {
  auto model = register_module("model", std::make_shared<torch::nn::Module>());
  const int64_t latent = spec.latent_dim;
  const int64_t channels = spec.channels;
  head_ = spec.depthwise ? torch::nn::Sequential(PaddedConv(latent, latent, 7, 3, latent),
                                                 PaddedConv(latent, channels, 1))
                         : torch::nn::Sequential(PaddedConv(latent, channels, 7, 3));
  if (spec.attn_window_size) head_->push_back(LocalAttention(channels, *spec.attn_window_size));
  RegisterIndexed(*model, 0, head_);
  int64_t index = static_cast<int64_t>(head_->size());
  int64_t output_dim = channels;
  for (size_t i = 0; i < spec.rates.size(); ++i) {
    DecoderBlockSpec block;
    block.input_dim = channels >> i;
    block.output_dim = output_dim = channels >> (i + 1);
    block.stride = spec.rates[i];
    block.output_padding = spec.pad_odd_strides ? spec.rates[i] % 2 : 0;
    block.noise = spec.noise;
    block.groups = spec.depthwise ? output_dim : 1;
    blocks_.push_back(model->register_module(std::to_string(index++), DecoderBlock(block)));
  }
  tail_ = torch::nn::Sequential(Snake1d(output_dim), PaddedConv(output_dim, 1, 7, 3));
  RegisterIndexed(*model, index, tail_);
}

at::Tensor SnakeDecoderImpl::forward(const at::Tensor& x, NoiseSource& noise) {
  at::Tensor y = head_->forward(x);
  for (DecoderBlock& block : blocks_) y = block->forward(y, noise);
  return at::tanh(tail_->forward(y));
}

StreamLayerPtr SnakeDecoderImpl::OpenStream(NoiseSource* noise) const {
  std::vector<StreamLayerPtr> layers;
  layers.push_back(OpenModuleStream(*head_, noise));
  for (const DecoderBlock& block : blocks_) layers.push_back(OpenModuleStream(*block, noise));
  layers.push_back(OpenModuleStream(*tail_, noise));
  layers.push_back(
      std::make_unique<StreamPointwise>([](const at::Tensor& x) { return at::tanh(x); }));
  return std::make_unique<StreamSequential>(std::move(layers));
}

namespace {

void AppendResidualUnitsReach(std::vector<LayerReach>& chain) {
  for (int64_t dilation : {1, 3, 9}) chain.push_back(LayerReach::Conv(7, 1, dilation, 3 * dilation));
}

}  // namespace

void AppendEncoderBlocksReach(const std::vector<int>& rates, std::vector<LayerReach>& chain) {
  chain.push_back(LayerReach::Conv(7, 1, 1, 3));
  for (int stride : rates) {
    AppendResidualUnitsReach(chain);
    chain.push_back(LayerReach::Conv(2 * stride, stride, 1, CeilHalf(stride)));
  }
}

std::vector<LayerReach> SnakeDecoderReach(const SnakeDecoderSpec& spec) {
  std::vector<LayerReach> chain = {LayerReach::Conv(7, 1, 1, 3)};
  if (spec.attn_window_size) chain.push_back(LayerReach::Window(*spec.attn_window_size));
  for (int stride : spec.rates) {
    chain.push_back(LayerReach::TransposedConv(2 * stride, stride, CeilHalf(stride)));
    AppendResidualUnitsReach(chain);
  }
  chain.push_back(LayerReach::Conv(7, 1, 1, 3));
  return chain;
}

}  // namespace codec::nn
