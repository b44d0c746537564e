#ifndef BACKENDS_NN_SKIP_LSTM_H_
#define BACKENDS_NN_SKIP_LSTM_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <mutex>
#include <vector>

#include "backends/nn/blas_order_products.h"
#include "backends/nn/stream_modules.h"

namespace codec::nn {

// A unidirectional multi-layer LSTM over [batch, channels, time] with a
// residual connection, y = lstm(x) + x (SEANet's SLSTM). Parameters live
// under "lstm.*" with PyTorch's names (weight_ih_l0, ...).
class SkipLstmImpl : public torch::nn::Module, public Streamable {
 public:
  SkipLstmImpl(int64_t channels, int64_t num_layers);
  at::Tensor forward(const at::Tensor& x);
  // Carries the LSTM's (h, c) from chunk to chunk. A step of a few frames
  // takes its gate products one row at a time (BlasOrderProducts, rounded as
  // the LSTM's own one-frame products are), then the LSTM's cell.
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

  // Per layer, the input and hidden gate products with their biases; empty
  // where there is no exact one-row shortcut. Made once, on first use.
  struct RowProducts {
    std::vector<std::unique_ptr<BlasOrderProducts>> input;
    std::vector<std::unique_ptr<BlasOrderProducts>> hidden;
  };
  const RowProducts& GateProducts() const;

 private:
  torch::nn::LSTM lstm_{nullptr};
  mutable std::once_flag products_once_;
  mutable RowProducts products_;
};
TORCH_MODULE(SkipLstm);

}  // namespace codec::nn

#endif  // BACKENDS_NN_SKIP_LSTM_H_
