#include "backends/nn/local_attention.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cmath>

namespace codec::nn {
namespace {

constexpr int64_t kHeadDim = 64;

// Swaps the two halves of the last dimension, negating the second.
at::Tensor RotateHalf(const at::Tensor& x) {
  const std::vector<at::Tensor> halves = x.chunk(2, -1);
  return at::cat({-halves[1], halves[0]}, -1);
}

}  // namespace

LocalAttentionImpl::LocalAttentionImpl(int64_t dim, int64_t window_size)
    : heads_(dim / kHeadDim), window_size_(window_size) {
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  to_qkv_ = register_module("to_qkv",
                            torch::nn::Linear(torch::nn::LinearOptions(dim, dim * 3).bias(false)));
  to_out_ =
      register_module("to_out", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(false)));
  auto rel_pos = register_module("rel_pos", std::make_shared<torch::nn::Module>());
  inv_freq_ = rel_pos->register_buffer(
      "inv_freq", 1.0 / at::pow(10000, at::arange(0, kHeadDim, 2).to(at::kFloat) / kHeadDim));
}

const LocalAttentionImpl::Projections& LocalAttentionImpl::FrameProjections() const {
  std::call_once(projections_once_, [this] {
    c10::InferenceMode inference;
    projections_.to_qkv = std::make_unique<RowByRowProducts>(to_qkv_->weight);
    projections_.to_out = std::make_unique<RowByRowProducts>(to_out_->weight);
  });
  return projections_;
}

at::Tensor LocalAttentionImpl::forward(const at::Tensor& x) {
  const Projections& projections = FrameProjections();
  const int64_t batch = x.size(0), channels = x.size(1), frames = x.size(2);
  const int64_t windows = frames / window_size_;
  const at::Tensor normed = norm_->forward(x.transpose(1, 2));  // [B, T, C]
  const std::vector<at::Tensor> qkv =
      (*projections.to_qkv)(normed.reshape({batch * frames, channels}))
          .view({batch, frames, -1})
          .chunk(3, -1);
  // [B, T, C] -> [B, heads, windows, window, head_dim]
  auto split = [&](const at::Tensor& t) {
    return t.reshape({batch, windows, window_size_, heads_, kHeadDim}).permute({0, 3, 1, 2, 4});
  };
  at::Tensor q = split(qkv[0]), k = split(qkv[1]), v = split(qkv[2]);

  const at::Tensor positions = at::arange(window_size_, inv_freq_.options());
  const at::Tensor freqs = at::outer(positions, inv_freq_);
  const at::Tensor angles = at::cat({freqs, freqs}, -1);  // [window, head_dim]
  const at::Tensor cos = angles.cos(), sin = angles.sin();
  q = q * cos + RotateHalf(q) * sin;
  k = k * cos + RotateHalf(k) * sin;

  const double scale = 1.0 / std::sqrt(static_cast<double>(kHeadDim));
  const at::Tensor weights = at::softmax(at::matmul(q, k.transpose(-2, -1)) * scale, -1);
  const at::Tensor out = at::matmul(weights, v)  // [B, h, w, n, d] -> [B*T, C]
                             .permute({0, 2, 3, 1, 4})
                             .reshape({batch * frames, channels});
  return (*projections.to_out)(out).view({batch, frames, channels}).transpose(1, 2) + x;
}

StreamLayerPtr LocalAttentionImpl::OpenStream(NoiseSource*) const {
  auto* self = const_cast<LocalAttentionImpl*>(this);  // forward() only reads the weights.
  return std::make_unique<StreamWindowed>(window_size_,
                                          [self](const at::Tensor& x) { return self->forward(x); });
}

}  // namespace codec::nn
