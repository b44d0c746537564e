#ifndef BACKENDS_NN_SKIP_LSTM_H_
#define BACKENDS_NN_SKIP_LSTM_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include "backends/nn/stream_modules.h"

namespace codec::nn {

// A unidirectional multi-layer LSTM over [batch, channels, time] with a
// residual connection, y = lstm(x) + x (SEANet's SLSTM). Parameters live
// under "lstm.*" with PyTorch's names (weight_ih_l0, ...).
class SkipLstmImpl : public torch::nn::Module, public Streamable {
 public:
  SkipLstmImpl(int64_t channels, int64_t num_layers);
  at::Tensor forward(const at::Tensor& x);
  // Carries the LSTM's (h, c) from chunk to chunk.
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  torch::nn::LSTM lstm_{nullptr};
};
TORCH_MODULE(SkipLstm);

}  // namespace codec::nn

#endif  // BACKENDS_NN_SKIP_LSTM_H_
