#ifndef BACKENDS_MIMI_MIMI_TRANSFORMER_H_
#define BACKENDS_MIMI_MIMI_TRANSFORMER_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <vector>

#include "absl/base/call_once.h"
#include "backends/kernels/blas_order_products.h"
#include "backends/mimi/mimi_config.h"
#include "backends/streaming/stream_modules.h"

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

// The products of a bias-free linear layer's weight ([out, in]) with a
// transformer's steps ([..., in] -> [..., out]). Each step's row is taken
// on its own (nn::RowByRowProducts, made on first use, after the weights
// load), so a step has the same bits offline, in a stream of any chunking
// and batched beside other streams, and a stream's few rows a step do not
// pay for packing the whole weight as a BLAS call does; in bfloat16 where
// the process's precision is (nn::Bfloat16Linear).
class StepProducts {
 public:
  // `weight` is the module's parameter: products read it when first used.
  explicit StepProducts(at::Tensor weight) : weight_(std::move(weight)) {}
  at::Tensor operator()(const at::Tensor& x) const;

 private:
  const at::Tensor weight_;
  mutable absl::once_flag once_;
  mutable std::unique_ptr<const nn::RowByRowProducts> row_products_;
};

// What one attention layer keeps of a stream: the keys and values of its
// last context - 1 steps, [B, heads, context - 1, head_dim], zeros (and
// hidden) before the stream's start.
struct AttentionCache {
  at::Tensor keys;
  at::Tensor values;
};

// What every layer of one step shares, made once a step: the rotations of
// its steps' positions and the keys each query may not see.
struct StepPlacement {
  at::Tensor cos, sin;  // [B, 1, T, head_dim / 2]
  // bool [B, 1, T, context]: of each query's window (the `context` steps up
  // to its own, oldest first), the keys it does not see.
  at::Tensor hidden;

  // For steps at positions[b] + [0, steps) of each row b, the cache's
  // context - 1 steps before them.
  static StepPlacement For(const at::Tensor& positions, int64_t steps,
                           const MimiTransformerConfig& config);
};

// Causal multi-head self-attention with rotary positions. Parameters as
// the published checkpoint names them: "in_proj_weight" ([3 d, d]: q, k and
// v, heads contiguous in each) and "out_proj.weight"; no biases.
class RopeAttentionImpl : public torch::nn::Module {
 public:
  explicit RopeAttentionImpl(const MimiTransformerConfig& config);
  // x: [B, T, d], placed by `placement`; `cache` holds the steps before
  // them and then takes these.
  at::Tensor Step(const at::Tensor& x, const StepPlacement& placement, AttentionCache& cache) const;

 private:
  const MimiTransformerConfig config_;
  at::Tensor in_proj_weight_;
  torch::nn::Linear out_proj_{nullptr};
  std::unique_ptr<StepProducts> in_proj_products_, out_proj_products_;
};
TORCH_MODULE(RopeAttention);

// A pre-norm layer: x + scale_1 * attention(norm1(x)), then
// x + scale_2 * linear2(gelu(linear1(norm2(x)))).
class TransformerLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerLayerImpl(const MimiTransformerConfig& config);
  at::Tensor Step(const at::Tensor& x, const StepPlacement& placement, AttentionCache& cache) const;

 private:
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  RopeAttention self_attn_{nullptr};
  torch::nn::Linear linear1_{nullptr}, linear2_{nullptr};
  std::unique_ptr<StepProducts> linear1_products_, linear2_products_;
  LayerScale layer_scale_1_{nullptr}, layer_scale_2_{nullptr};
};
TORCH_MODULE(TransformerLayer);

// Upstream's ProjectedTransformer at the latent width (no projections):
// [B, d, T] -> [B, d, T], layers under "transformer.layers.<i>". Offline is
// the stream pushed in blocks, so memory stays bounded by the context
// whatever the input's length.
class ProjectedTransformerImpl : public torch::nn::Module, public nn::Streamable {
 public:
  explicit ProjectedTransformerImpl(const MimiTransformerConfig& config);
  at::Tensor forward(const at::Tensor& x) const;
  nn::StreamLayerPtr OpenStream(nn::NoiseSource* noise) const override;

  const std::vector<TransformerLayer>& layers() const { return layers_; }
  const MimiTransformerConfig& config() const { return config_; }

 private:
  const MimiTransformerConfig config_;
  std::vector<TransformerLayer> layers_;
};
TORCH_MODULE(ProjectedTransformer);

// Rotates q or k ([B, heads, T, head_dim]) by their positions: channel
// pairs (2i, 2i + 1) turn by position * max_period^(-2i / head_dim), whose
// cos and sin StepPlacement holds.
at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// Whether the query at q_pos ([B, T]) sees the keys at k_pos ([B, T, S]:
// each query's own): [B, T, S]. It sees a key when 0 <= k_pos <= q_pos and
// k_pos lies in the `context` steps up to the last step of the query's group
// of `window_steps` steps (its own step when 1).
at::Tensor VisibleKeys(const at::Tensor& q_pos, const at::Tensor& k_pos, int64_t context,
                       int64_t window_steps);

}  // namespace codec::mimi

#endif  // BACKENDS_MIMI_MIMI_TRANSFORMER_H_
