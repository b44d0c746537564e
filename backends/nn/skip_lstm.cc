#include "backends/nn/skip_lstm.h"

#include <optional>
#include <tuple>

#include "backends/nn/interrupt.h"

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

namespace {

class StreamSkipLstm final : public StreamLayer {
 public:
  explicit StreamSkipLstm(torch::nn::LSTMImpl* lstm) : lstm_(lstm) {}

  at::Tensor Push(const at::Tensor& x) override {
    if (TimeLength(x) == 0) return {};
    PollInterrupt();
    const at::Tensor time_major = x.permute({2, 0, 1});
    auto [y, state] = state_ ? lstm_->forward(time_major, *state_) : lstm_->forward(time_major);
    state_ = std::move(state);
    return (y + time_major).permute({1, 2, 0});
  }
  at::Tensor Finish() override { return {}; }

 private:
  torch::nn::LSTMImpl* lstm_;  // Only read.
  std::optional<std::tuple<at::Tensor, at::Tensor>> state_;  // (h, c)
};

}  // namespace

StreamLayerPtr SkipLstmImpl::OpenStream(NoiseSource*) const {
  return std::make_unique<StreamSkipLstm>(const_cast<torch::nn::LSTMImpl*>(lstm_.get()));
}

}  // namespace codec::nn
