#include "backends/nn/skip_lstm.h"

namespace codec::nn {

SkipLstmImpl::SkipLstmImpl(int64_t channels, int64_t num_layers) {
  lstm_ = register_module(
      "lstm", torch::nn::LSTM(torch::nn::LSTMOptions(channels, channels).num_layers(num_layers)));
}

at::Tensor SkipLstmImpl::forward(const at::Tensor& x) {
  const at::Tensor time_major = x.permute({2, 0, 1});
  const at::Tensor y = std::get<0>(lstm_->forward(time_major));
  return (y + time_major).permute({1, 2, 0});
}

}  // namespace codec::nn
