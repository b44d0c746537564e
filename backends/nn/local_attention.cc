#include "backends/nn/local_attention.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <vector>

#include "backends/kernels/host_kernels.h"

namespace codec::nn {
namespace {

constexpr int64_t kHeadDim = 64;

// Swaps the two halves of the last dimension, negating the second.
at::Tensor RotateHalf(const at::Tensor& x) {
  const std::vector<at::Tensor> halves = x.chunk(2, -1);
  return at::cat({-halves[1], halves[0]}, -1);
}

// a [..., n, k] times b [..., k, m] for every window, each sum taken over k
// in order: a window's bits do not depend on how many windows the call holds
// nor on the BLAS. (libtorch's batched product picks its BLAS call by the
// operands' strides, which differ for one window, and OpenBLAS rounds its
// kernels differently; a stream passes windows a few at a time.) Attention
// is a small share of the work. Off the exact host kernels (a GPU), the
// product is libtorch's.
at::Tensor WindowProducts(const at::Tensor& a, const at::Tensor& b) {
  if (!UsesExactHostKernels(a)) return at::matmul(a, b);
  const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
  const at::Tensor left = a.contiguous();
  const at::Tensor right = b.contiguous();
  std::vector<int64_t> shape(a.sizes().begin(), a.sizes().end());
  shape.back() = m;
  at::Tensor result = at::zeros(shape, a.options());
  const float* l = left.data_ptr<float>();
  const float* r = right.data_ptr<float>();
  float* out = result.data_ptr<float>();
  const int64_t windows = left.numel() / (n * k);
  at::parallel_for(0, windows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      for (int64_t i = 0; i < n; ++i) {
        float* row = out + (w * n + i) * m;
        for (int64_t j = 0; j < k; ++j) {
          const float factor = l[(w * n + i) * k + j];
          const float* from = r + (w * k + j) * m;
          for (int64_t c = 0; c < m; ++c) row[c] += factor * from[c];
        }
      }
    }
  });
  return result;
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
  const at::Tensor weights = at::softmax(WindowProducts(q, k.transpose(-2, -1)) * scale, -1);
  const at::Tensor out = WindowProducts(weights, v)  // [B, h, w, n, d] -> [B*T, C]
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
