#ifndef BACKENDS_MIMI_MIMI_TRANSFORMER_H_
#define BACKENDS_MIMI_MIMI_TRANSFORMER_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "backends/mimi/mimi_config.h"

namespace codec::mimi {

// Multiplies the channels (the last dimension) by a learnt vector; its
// parameter is "scale".
class LayerScaleImpl : public torch::nn::Module {
 public:
  explicit LayerScaleImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& x) const { return x * scale_; }

 private:
  at::Tensor scale_;
};
TORCH_MODULE(LayerScale);

// Causal multi-head self-attention with rotary positions, each query
// seeing the `context` most recent steps, its own included. Parameters as
// the published checkpoint names them: "in_proj_weight" ([3 d, d]: q, k and
// v, heads contiguous in each) and "out_proj.weight"; no biases.
class RopeAttentionImpl : public torch::nn::Module {
 public:
  explicit RopeAttentionImpl(const MimiTransformerConfig& config);
  // x: [B, T, d], step t at position first_position + t.
  at::Tensor forward(const at::Tensor& x, int64_t first_position = 0) const;

 private:
  const MimiTransformerConfig config_;
  at::Tensor in_proj_weight_;
  torch::nn::Linear out_proj_{nullptr};
};
TORCH_MODULE(RopeAttention);

// A pre-norm layer: x + scale_1 * attention(norm1(x)), then
// x + scale_2 * linear2(gelu(linear1(norm2(x)))).
class TransformerLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerLayerImpl(const MimiTransformerConfig& config);
  at::Tensor forward(const at::Tensor& x) const;

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  RopeAttention self_attn_{nullptr};
  torch::nn::Linear linear1_{nullptr}, linear2_{nullptr};
  LayerScale layer_scale_1_{nullptr}, layer_scale_2_{nullptr};
};
TORCH_MODULE(TransformerLayer);

// Upstream's ProjectedTransformer at the latent width (no projections):
// [B, d, T] -> [B, d, T], layers under "transformer.layers.<i>".
class ProjectedTransformerImpl : public torch::nn::Module {
 public:
  explicit ProjectedTransformerImpl(const MimiTransformerConfig& config);
  at::Tensor forward(const at::Tensor& x) const;

 private:
  std::vector<TransformerLayer> layers_;
};
TORCH_MODULE(ProjectedTransformer);

// Rotates q or k ([B, heads, T, head_dim]) by their positions (first_position
// onwards): channel pairs (2i, 2i + 1) turn by t * max_period^(-2i / head_dim).
at::Tensor ApplyRope(const at::Tensor& x, int64_t first_position, double max_period);

}  // namespace codec::mimi

#endif  // BACKENDS_MIMI_MIMI_TRANSFORMER_H_
