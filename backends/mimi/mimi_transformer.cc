#include "backends/mimi/mimi_transformer.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "backends/nn/interrupt.h"

namespace codec::mimi {

LayerScaleImpl::LayerScaleImpl(int64_t channels) {
  scale_ = register_parameter("scale", torch::ones({channels}), /*requires_grad=*/false);
}

at::Tensor ApplyRope(const at::Tensor& x, int64_t first_position, double max_period) {
  const int64_t head_dim = x.size(-1), steps = x.size(-2);
  const at::TensorOptions floats = x.options().dtype(at::kFloat);
  const at::Tensor pairs = at::arange(head_dim / 2, floats);
  const at::Tensor frequencies = at::exp(pairs * (-std::log(max_period) * 2 / head_dim));
  const at::Tensor positions = at::arange(steps, floats).add_(first_position).view({-1, 1});
  const at::Tensor angles = positions * frequencies;  // [T, head_dim / 2]
  const at::Tensor cos = at::cos(angles), sin = at::sin(angles);
  const at::Tensor split = x.to(at::kFloat).view({x.size(0), x.size(1), steps, head_dim / 2, 2});
  const at::Tensor re = split.select(-1, 0), im = split.select(-1, 1);
  return at::stack({re * cos - im * sin, re * sin + im * cos}, -1)
      .view(x.sizes())
      .to(x.scalar_type());
}

RopeAttentionImpl::RopeAttentionImpl(const MimiTransformerConfig& config) : config_(config) {
  const int64_t d = config.d_model;
  in_proj_weight_ =
      register_parameter("in_proj_weight", torch::zeros({3 * d, d}), /*requires_grad=*/false);
  out_proj_ =
      register_module("out_proj", torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false)));
}

at::Tensor RopeAttentionImpl::forward(const at::Tensor& x, int64_t first_position) const {
  const int64_t batch = x.size(0), steps = x.size(1), d = config_.d_model;
  const int64_t heads = config_.num_heads, head_dim = d / heads;
  // [B, T, 3, heads, head_dim] -> three [B, heads, T, head_dim].
  const at::Tensor qkv = at::linear(x, in_proj_weight_)
                             .view({batch, steps, 3, heads, head_dim})
                             .permute({2, 0, 3, 1, 4});
  const at::Tensor q = ApplyRope(qkv[0], first_position, config_.max_period);
  const at::Tensor k = ApplyRope(qkv[1], first_position, config_.max_period);
  const at::Tensor v = qkv[2];
  // Query t sees keys s with t - context < s <= t.
  const at::Tensor query_steps = at::arange(steps, x.options().dtype(at::kLong)).view({-1, 1});
  const at::Tensor key_steps = query_steps.view({1, -1});
  const at::Tensor delta = query_steps - key_steps;
  const at::Tensor hidden = delta.lt(0).logical_or(delta.ge(config_.context));
  const at::Tensor scores = at::matmul(q, k.transpose(-2, -1))
                                .mul_(1.0 / std::sqrt(static_cast<double>(head_dim)))
                                .masked_fill_(hidden, -std::numeric_limits<float>::infinity());
  const at::Tensor mixed = at::matmul(at::softmax(scores, -1), v);
  return out_proj_.ptr()->forward(mixed.transpose(1, 2).reshape({batch, steps, d}));
}

TransformerLayerImpl::TransformerLayerImpl(const MimiTransformerConfig& config) {
  const int64_t d = config.d_model;
  auto norm = [d] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(1e-5)); };
  norm1_ = register_module("norm1", norm());
  norm2_ = register_module("norm2", norm());
  self_attn_ = register_module("self_attn", RopeAttention(config));
  linear1_ = register_module(
      "linear1",
      torch::nn::Linear(torch::nn::LinearOptions(d, config.dim_feedforward).bias(false)));
  linear2_ = register_module(
      "linear2",
      torch::nn::Linear(torch::nn::LinearOptions(config.dim_feedforward, d).bias(false)));
  layer_scale_1_ = register_module("layer_scale_1", LayerScale(d));
  layer_scale_2_ = register_module("layer_scale_2", LayerScale(d));
}

at::Tensor TransformerLayerImpl::forward(const at::Tensor& x) const {
  const at::Tensor attended =
      x + layer_scale_1_.ptr()->forward(self_attn_.ptr()->forward(norm1_.ptr()->forward(x)));
  const at::Tensor fed =
      linear2_.ptr()->forward(at::gelu(linear1_.ptr()->forward(norm2_.ptr()->forward(attended))));
  return attended + layer_scale_2_.ptr()->forward(fed);
}

ProjectedTransformerImpl::ProjectedTransformerImpl(const MimiTransformerConfig& config) {
  auto transformer = register_module("transformer", std::make_shared<torch::nn::Module>());
  auto layers = transformer->register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < config.num_layers; ++i) {
    layers_.push_back(TransformerLayer(config));
    layers->push_back(layers_.back());
  }
}

at::Tensor ProjectedTransformerImpl::forward(const at::Tensor& x) const {
  at::Tensor steps = x.transpose(1, 2);
  for (const TransformerLayer& layer : layers_) {
    nn::PollInterrupt();
    steps = layer->forward(steps);
  }
  return steps.transpose(1, 2).contiguous();
}

}  // namespace codec::mimi
