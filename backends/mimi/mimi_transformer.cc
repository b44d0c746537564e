#include "backends/mimi/mimi_transformer.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "backends/kernels/conv_precision.h"
#include "backends/streaming/interrupt.h"

namespace codec::mimi {
namespace {

// A stream of the transformer: each layer's attention cache and the
// position of the stream's next step, per row.
class TransformerStream final : public nn::StreamLayer {
 public:
  explicit TransformerStream(const ProjectedTransformerImpl& model)
      : model_(model), caches_(model.layers().size()) {}

  at::Tensor Push(const at::Tensor& x) override {
    if (nn::TimeLength(x) == 0) return {};
    if (!positions_.defined()) positions_ = at::zeros({x.size(0)}, x.options().dtype(at::kLong));
    const StepPlacement placement = StepPlacement::For(positions_, x.size(-1), model_.config());
    at::Tensor steps = x.transpose(1, 2);
    for (size_t i = 0; i < caches_.size(); ++i) {
      nn::PollInterrupt();
      steps = model_.layers()[i]->Step(steps, placement, caches_[i]);
    }
    positions_ = positions_ + x.size(-1);
    return steps.transpose(1, 2).contiguous();
  }
  at::Tensor Finish() override { return {}; }  // Causal: nothing waits.
  void VisitState(nn::StreamStateVisitor& visitor) override {
    for (AttentionCache& cache : caches_) {
      visitor.Rows(cache.keys, 0);
      visitor.Rows(cache.values, 0);
    }
    visitor.Rows(positions_, 0);
  }

 private:
  const ProjectedTransformerImpl& model_;
  std::vector<AttentionCache> caches_;
  at::Tensor positions_;  // int64 [B]: steps seen.
};

}  // namespace

at::Tensor StepProducts::operator()(const at::Tensor& x) const {
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = weight_.size(0);
  const at::Tensor rows = x.reshape({-1, x.size(-1)});
  if (nn::ConvInBfloat16(rows)) return nn::Bfloat16Linear(rows, weight_).view(shape);
  absl::call_once(once_,
                  [this] { row_products_ = std::make_unique<nn::RowByRowProducts>(weight_); });
  return (*row_products_)(rows).view(shape);
}

LayerScaleImpl::LayerScaleImpl(int64_t channels) {
  scale_ = register_parameter("scale", torch::ones({channels}), /*requires_grad=*/false);
}

StepPlacement StepPlacement::For(const at::Tensor& positions, int64_t steps,
                                 const MimiTransformerConfig& config) {
  const int64_t head_dim = config.d_model / config.num_heads, kept = config.context - 1;
  const at::Tensor q_pos = positions.unsqueeze(1) + at::arange(steps, positions.options());
  const at::Tensor k_pos = q_pos.unsqueeze(-1) - kept + at::arange(kept + 1, positions.options());
  const at::Tensor pairs = at::arange(head_dim / 2, positions.options().dtype(at::kFloat));
  const at::Tensor frequencies = at::exp(pairs * (-std::log(config.max_period) * 2 / head_dim));
  const at::Tensor angles = (q_pos.to(at::kFloat).unsqueeze(-1) * frequencies).unsqueeze(1);
  StepPlacement placement;
  placement.cos = at::cos(angles);
  placement.sin = at::sin(angles);
  placement.hidden =
      VisibleKeys(q_pos, k_pos, config.context, config.window_steps).logical_not().unsqueeze(1);
  return placement;
}

at::Tensor ApplyRope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  std::vector<int64_t> pair_shape = x.sizes().vec();
  pair_shape.back() = x.size(-1) / 2;
  pair_shape.push_back(2);
  const at::Tensor split = x.to(at::kFloat).reshape(pair_shape);
  const at::Tensor re = split.select(-1, 0), im = split.select(-1, 1);
  return at::stack({re * cos - im * sin, re * sin + im * cos}, -1)
      .view(x.sizes())
      .to(x.scalar_type());
}

at::Tensor VisibleKeys(const at::Tensor& q_pos, const at::Tensor& k_pos, int64_t context,
                       int64_t window_steps) {
  const at::Tensor q = q_pos.unsqueeze(-1), k = k_pos;
  const at::Tensor group_last =
      at::div(q, window_steps, "floor") * window_steps + (window_steps - 1);
  return k.ge(0).logical_and(k.le(q)).logical_and(k.gt(group_last - context));
}

namespace {

// Queries whose windows are unfolded at once: bounds the copies of keys and
// values the products take (heads x block x window x head_dim each).
constexpr int64_t kQueryBlock = 64;

// Attention of each query over exactly its window: q [B, heads, T, head_dim];
// keys and values [B, heads, window - 1 + T, head_dim], query t's window
// being rows t .. t + window - 1; hidden [B, 1, T, window]. Every query's
// products and softmax have the same shape whatever T is (a one-step stream
// or a whole file), so they round alike: OpenBLAS rounds a product by its
// shape, and a softmax's sum by its length. -> [B, heads, T, head_dim].
at::Tensor WindowedAttention(const at::Tensor& q, const at::Tensor& keys,
                             const at::Tensor& values, const at::Tensor& hidden) {
  const int64_t steps = q.size(2), window = hidden.size(-1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  std::vector<at::Tensor> blocks;
  for (int64_t first = 0; first < steps; first += kQueryBlock) {
    const int64_t count = std::min(kQueryBlock, steps - first);
    // [B, heads, count, head_dim, window]: the windows of these queries.
    const at::Tensor window_keys = keys.narrow(2, first, count + window - 1).unfold(2, window, 1);
    const at::Tensor window_values =
        values.narrow(2, first, count + window - 1).unfold(2, window, 1);
    const at::Tensor scores =
        at::matmul(q.narrow(2, first, count).unsqueeze(-2), window_keys)
            .mul_(scale)
            .masked_fill_(hidden.narrow(2, first, count).unsqueeze(-2),
                          -std::numeric_limits<float>::infinity());
    blocks.push_back(
        at::matmul(at::softmax(scores, -1), window_values.transpose(-1, -2)).squeeze(-2));
  }
  return blocks.size() == 1 ? blocks[0] : at::cat(blocks, 2);
}

}  // namespace

RopeAttentionImpl::RopeAttentionImpl(const MimiTransformerConfig& config) : config_(config) {
  const int64_t d = config.d_model;
  in_proj_weight_ =
      register_parameter("in_proj_weight", torch::zeros({3 * d, d}), /*requires_grad=*/false);
  out_proj_ =
      register_module("out_proj", torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false)));
  in_proj_products_ = std::make_unique<StepProducts>(in_proj_weight_);
  out_proj_products_ = std::make_unique<StepProducts>(out_proj_->weight);
}

at::Tensor RopeAttentionImpl::Step(const at::Tensor& x, const StepPlacement& placement,
                                   AttentionCache& cache) const {
  const int64_t batch = x.size(0), steps = x.size(1), d = config_.d_model;
  const int64_t heads = config_.num_heads, head_dim = d / heads;
  const int64_t kept = config_.context - 1;
  // [B, T, 3, heads, head_dim] -> three [B, heads, T, head_dim].
  const at::Tensor qkv =
      (*in_proj_products_)(x).view({batch, steps, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
  const at::Tensor q = ApplyRope(qkv[0], placement.cos, placement.sin);
  const at::Tensor k = ApplyRope(qkv[1], placement.cos, placement.sin);
  if (!cache.keys.defined()) {
    cache.keys = at::zeros({batch, heads, kept, head_dim}, x.options());
    cache.values = at::zeros({batch, heads, kept, head_dim}, x.options());
  }
  const at::Tensor keys = at::cat({cache.keys, k}, 2);
  const at::Tensor values = at::cat({cache.values, qkv[2]}, 2);
  const at::Tensor mixed = WindowedAttention(q, keys, values, placement.hidden);
  cache.keys = keys.narrow(2, steps, kept);
  cache.values = values.narrow(2, steps, kept);
  return (*out_proj_products_)(mixed.transpose(1, 2).reshape({batch, steps, d}));
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
  linear1_products_ = std::make_unique<StepProducts>(linear1_->weight);
  linear2_products_ = std::make_unique<StepProducts>(linear2_->weight);
  layer_scale_1_ = register_module("layer_scale_1", LayerScale(d));
  layer_scale_2_ = register_module("layer_scale_2", LayerScale(d));
}

at::Tensor TransformerLayerImpl::Step(const at::Tensor& x, const StepPlacement& placement,
                                      AttentionCache& cache) const {
  const at::Tensor attended = x + layer_scale_1_.ptr()->forward(self_attn_.ptr()->Step(
                                      norm1_.ptr()->forward(x), placement, cache));
  const at::Tensor fed =
      (*linear2_products_)(at::gelu((*linear1_products_)(norm2_.ptr()->forward(attended))));
  return attended + layer_scale_2_.ptr()->forward(fed);
}

ProjectedTransformerImpl::ProjectedTransformerImpl(const MimiTransformerConfig& config)
    : config_(config) {
  auto transformer = register_module("transformer", std::make_shared<torch::nn::Module>());
  auto layers = transformer->register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < config.num_layers; ++i) {
    layers_.push_back(TransformerLayer(config));
    layers->push_back(layers_.back());
  }
}

at::Tensor ProjectedTransformerImpl::forward(const at::Tensor& x) const {
  // Blocks of a context's length: each block's attention is
  // [block, context - 1 + block] whatever the input's length.
  const int64_t block = std::max<int64_t>(config_.context, 64);
  TransformerStream stream(*this);
  std::vector<at::Tensor> outputs;
  for (int64_t start = 0; start < x.size(-1); start += block) {
    outputs.push_back(stream.Push(x.narrow(-1, start, std::min(block, x.size(-1) - start))));
  }
  if (outputs.empty()) return x;
  return outputs.size() == 1 ? outputs.front() : at::cat(outputs, -1);
}

nn::StreamLayerPtr ProjectedTransformerImpl::OpenStream(nn::NoiseSource*) const {
  return std::make_unique<TransformerStream>(*this);
}

}  // namespace codec::mimi
