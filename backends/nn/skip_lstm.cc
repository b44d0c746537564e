#include "backends/nn/skip_lstm.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <string>

#include "backends/kernels/host_kernels.h"
#include "backends/streaming/interrupt.h"

namespace codec::nn {

SkipLstmImpl::SkipLstmImpl(int64_t channels, int64_t num_layers) {
  lstm_ = register_module(
      "lstm", torch::nn::LSTM(torch::nn::LSTMOptions(channels, channels).num_layers(num_layers)));
}

const SkipLstmImpl::GateProducts& SkipLstmImpl::Gates() const {
  std::call_once(gates_once_, [this] {
    c10::InferenceMode inference;
    const auto parameters = lstm_->named_parameters();
    for (int64_t layer = 0; layer < lstm_->options.num_layers(); ++layer) {
      auto get = [&](const char* name) { return parameters[name + std::to_string(layer)]; };
      gates_.input.push_back(
          std::make_unique<RowByRowProducts>(get("weight_ih_l"), get("bias_ih_l")));
      gates_.hidden.push_back(
          std::make_unique<RowByRowProducts>(get("weight_hh_l"), get("bias_hh_l")));
    }
  });
  return gates_;
}

at::Tensor SkipLstmImpl::Run(const at::Tensor& x, State& state) const {
  if (!UsesExactHostKernels(x)) return FusedRun(x, state);
  const GateProducts& gates = Gates();
  const int64_t batch = x.size(0), frames = x.size(2);
  const int64_t hidden = lstm_->options.hidden_size();
  const at::Tensor time_major = x.permute({2, 0, 1});  // [frames, batch, channels]
  if (state.h.empty()) state = ZeroState(batch);
  at::Tensor layer_input = time_major.contiguous();
  for (size_t layer = 0; layer < gates.input.size(); ++layer) {
    PollInterrupt();
    const at::Tensor input_gates =
        (*gates.input[layer])(layer_input.view({frames * batch, -1})).view({frames, batch, -1});
    at::Tensor output = at::empty({frames, batch, hidden}, x.options());
    at::Tensor& h = state.h[layer];
    at::Tensor& c = state.c[layer];
    for (int64_t t = 0; t < frames; ++t) {
      // libtorch's CPU LSTM cell, operation for operation.
      const at::Tensor sum = (*gates.hidden[layer])(h).add_(input_gates[t]);
      const std::vector<at::Tensor> chunked = sum.unsafe_chunk(4, 1);
      const at::Tensor in_gate = chunked[0].sigmoid_();
      const at::Tensor forget_gate = chunked[1].sigmoid_();
      const at::Tensor cell_gate = chunked[2].tanh_();
      const at::Tensor out_gate = chunked[3].sigmoid_();
      c = (forget_gate * c).add_(in_gate * cell_gate);
      h = out_gate * c.tanh();
      output[t].copy_(h);
    }
    layer_input = output;
  }
  return (layer_input + time_major).permute({1, 2, 0});
}

at::Tensor SkipLstmImpl::FusedRun(const at::Tensor& x, State& state) const {
  const int64_t batch = x.size(0);
  if (state.h.empty()) state = ZeroState(batch);
  const auto parameters = lstm_->named_parameters();
  std::vector<at::Tensor> weights;
  for (int64_t layer = 0; layer < lstm_->options.num_layers(); ++layer) {
    for (const char* name : {"weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l"}) {
      weights.push_back(parameters[name + std::to_string(layer)]);
    }
  }
  const at::Tensor time_major = x.permute({2, 0, 1});  // [frames, batch, channels]
  const auto [output, h, c] =
      at::lstm(time_major, {at::stack(state.h), at::stack(state.c)}, weights,
               /*has_biases=*/true, lstm_->options.num_layers(), /*dropout=*/0.0,
               /*train=*/false, /*bidirectional=*/false, /*batch_first=*/false);
  // Element by element: the state's slots are visited by address
  // (VisitState), so the vectors must not be reallocated.
  for (size_t layer = 0; layer < state.h.size(); ++layer) {
    state.h[layer] = h[layer];
    state.c[layer] = c[layer];
  }
  return (output + time_major).permute({1, 2, 0});
}

SkipLstmImpl::State SkipLstmImpl::ZeroState(int64_t batch) const {
  const int64_t hidden = lstm_->options.hidden_size();
  const at::TensorOptions options = lstm_->parameters().front().options();
  State state;
  for (int64_t layer = 0; layer < lstm_->options.num_layers(); ++layer) {
    state.h.push_back(at::zeros({batch, hidden}, options));
    state.c.push_back(at::zeros({batch, hidden}, options));
  }
  return state;
}

at::Tensor SkipLstmImpl::forward(const at::Tensor& x) {
  State state;
  return Run(x, state);
}

namespace {

class StreamSkipLstm final : public StreamLayer {
 public:
  // Starts from the zero state, so that its slots are there to stack.
  explicit StreamSkipLstm(const SkipLstmImpl& module)
      : module_(module), state_(module.ZeroState(1)) {}

  at::Tensor Push(const at::Tensor& x) override {
    if (TimeLength(x) == 0) return {};
    return module_.Run(x, state_);
  }
  at::Tensor Finish() override { return {}; }
  void VisitState(StreamStateVisitor& visitor) override {
    for (at::Tensor& h : state_.h) visitor.Rows(h, 0);
    for (at::Tensor& c : state_.c) visitor.Rows(c, 0);
  }

 private:
  const SkipLstmImpl& module_;
  SkipLstmImpl::State state_;
};

}  // namespace

StreamLayerPtr SkipLstmImpl::OpenStream(NoiseSource*) const {
  return std::make_unique<StreamSkipLstm>(*this);
}

}  // namespace codec::nn
