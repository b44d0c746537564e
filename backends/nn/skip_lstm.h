#ifndef BACKENDS_NN_SKIP_LSTM_H_
#define BACKENDS_NN_SKIP_LSTM_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <mutex>
#include <vector>

#include "backends/kernels/blas_order_products.h"
#include "backends/streaming/stream_modules.h"

namespace codec::nn {

// A unidirectional multi-layer LSTM over [batch, channels, time] with a
// residual connection, y = lstm(x) + x (SEANet's SLSTM). Parameters live
// under "lstm.*" with PyTorch's names (weight_ih_l0, ...).
//
// It computes what libtorch's CPU LSTM computes (each layer's input products
// for all frames, then frame by frame the hidden products, their sum and
// the cell), except that every gate product is taken row by row
// (RowByRowProducts): libtorch takes all frames' input products in one
// matrix product, which OpenBLAS rounds by the number of frames, so a
// stream's chunks would not give the whole input's bits. Off the exact host
// kernels (a GPU) it runs libtorch's fused LSTM over all frames at once.
class SkipLstmImpl : public torch::nn::Module, public Streamable {
 public:
  SkipLstmImpl(int64_t channels, int64_t num_layers);
  at::Tensor forward(const at::Tensor& x);
  // Carries the LSTM's (h, c) from chunk to chunk.
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

  // Per layer, the cell's state [batch, hidden]; empty before the first
  // frame (which then starts from zeros).
  struct State {
    std::vector<at::Tensor> h;
    std::vector<at::Tensor> c;
  };
  // x [batch, channels, frames] from `state` (then after them) -> y.
  at::Tensor Run(const at::Tensor& x, State& state) const;
  // The zero state of `batch` rows, as Run starts from.
  State ZeroState(int64_t batch) const;

 private:
  // Per layer, the input and hidden gate products with their biases.
  struct GateProducts {
    std::vector<std::unique_ptr<RowByRowProducts>> input;
    std::vector<std::unique_ptr<RowByRowProducts>> hidden;
  };
  const GateProducts& Gates() const;  // Made once, on first use.
  // Run through libtorch's fused LSTM.
  at::Tensor FusedRun(const at::Tensor& x, State& state) const;

  torch::nn::LSTM lstm_{nullptr};
  mutable std::once_flag gates_once_;
  mutable GateProducts gates_;
};
TORCH_MODULE(SkipLstm);

}  // namespace codec::nn

#endif  // BACKENDS_NN_SKIP_LSTM_H_
