#ifndef BACKENDS_NN_LOCAL_ATTENTION_H_
#define BACKENDS_NN_LOCAL_ATTENTION_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <mutex>

#include "backends/kernels/blas_order_products.h"
#include "backends/streaming/stream_modules.h"

namespace codec::nn {

// Multi-head self-attention within non-overlapping windows of
// `window_size` frames, with rotary position embeddings and a residual
// connection (SNAC's LocalMHA; 64-dim heads). Input [B, C, T] with T a
// multiple of window_size. Parameters: norm.*, to_qkv.weight,
// to_out.weight and the rel_pos.inv_freq buffer. The projections take each
// frame's products on their own (RowByRowProducts), so a window gives the
// same bits offline and in a stream.
class LocalAttentionImpl : public torch::nn::Module, public Streamable {
 public:
  LocalAttentionImpl(int64_t dim, int64_t window_size);
  at::Tensor forward(const at::Tensor& x);
  // Runs each window once all of it has arrived.
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  struct Projections {
    std::unique_ptr<RowByRowProducts> to_qkv;
    std::unique_ptr<RowByRowProducts> to_out;
  };
  const Projections& FrameProjections() const;  // Made once, on first use.

  int64_t heads_;
  int64_t window_size_;
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear to_qkv_{nullptr};
  torch::nn::Linear to_out_{nullptr};
  at::Tensor inv_freq_;
  mutable std::once_flag projections_once_;
  mutable Projections projections_;
};
TORCH_MODULE(LocalAttention);

}  // namespace codec::nn

#endif  // BACKENDS_NN_LOCAL_ATTENTION_H_
