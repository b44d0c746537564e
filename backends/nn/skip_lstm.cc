#include "backends/nn/skip_lstm.h"

#include <optional>
#include <string>
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

const SkipLstmImpl::RowProducts& SkipLstmImpl::GateProducts() const {
  std::call_once(products_once_, [this] {
    c10::InferenceMode inference;
    const auto& options = lstm_->options;
    if (!options.bias() || options.bidirectional() || options.batch_first() ||
        options.proj_size() != 0) {
      return;
    }
    const auto parameters = lstm_->named_parameters();
    RowProducts products;
    for (int64_t layer = 0; layer < options.num_layers(); ++layer) {
      auto get = [&](const char* name) { return parameters[name + std::to_string(layer)]; };
      products.input.push_back(BlasOrderProducts::Make(get("weight_ih_l"), get("bias_ih_l")));
      products.hidden.push_back(BlasOrderProducts::Make(get("weight_hh_l"), get("bias_hh_l")));
      if (!products.input.back() || !products.hidden.back()) return;
    }
    products_ = std::move(products);
  });
  return products_;
}

namespace {

class StreamSkipLstm final : public StreamLayer {
 public:
  explicit StreamSkipLstm(const SkipLstmImpl& module, torch::nn::LSTMImpl* lstm)
      : module_(module), lstm_(lstm) {}

  at::Tensor Push(const at::Tensor& x) override {
    if (TimeLength(x) == 0) return {};
    PollInterrupt();
    const at::Tensor time_major = x.permute({2, 0, 1});
    const SkipLstmImpl::RowProducts& products = module_.GateProducts();
    if (products.input.empty() || x.size(0) * x.size(2) > BlasOrderProducts::kMostRowsOneByOne) {
      auto [y, state] = state_ ? lstm_->forward(time_major, *state_) : lstm_->forward(time_major);
      state_ = std::move(state);
      return (y + time_major).permute({1, 2, 0});
    }
    if (!state_) {
      const int64_t layers = lstm_->options.num_layers(), hidden = lstm_->options.hidden_size();
      const at::Tensor zeros = at::zeros({layers, x.size(0), hidden}, x.options());
      state_ = std::make_tuple(zeros, zeros.clone());
    }
    std::vector<at::Tensor> outputs;
    for (int64_t t = 0; t < time_major.size(0); ++t) outputs.push_back(Step(time_major[t]));
    return (at::stack(outputs) + time_major).permute({1, 2, 0});
  }
  at::Tensor Finish() override { return {}; }

 private:
  // One frame, x: [batch, channels], through every layer: the gate products
  // of the LSTM's one-frame step, then its cell (libtorch's CPU LSTMCell:
  // gates = hidden + input products, sigmoid / tanh in place on the chunks).
  at::Tensor Step(const at::Tensor& x) {
    const SkipLstmImpl::RowProducts& products = module_.GateProducts();
    auto& [h, c] = *state_;
    std::vector<at::Tensor> next_h, next_c;
    at::Tensor layer_input = x.contiguous();
    for (size_t layer = 0; layer < products.input.size(); ++layer) {
      const int64_t batch = layer_input.size(0), gate_size = products.input[layer]->entries();
      at::Tensor gates = at::empty({batch, gate_size}, x.options());
      at::Tensor input_gates = at::empty({batch, gate_size}, x.options());
      const at::Tensor hx = h[layer].contiguous();
      for (int64_t b = 0; b < batch; ++b) {
        products.hidden[layer]->Compute(hx[b].data_ptr<float>(), gates[b].data_ptr<float>());
        products.input[layer]->Compute(layer_input[b].data_ptr<float>(),
                                       input_gates[b].data_ptr<float>());
      }
      gates.add_(input_gates);
      const std::vector<at::Tensor> chunked = gates.unsafe_chunk(4, 1);
      const at::Tensor in_gate = chunked[0].sigmoid_();
      const at::Tensor forget_gate = chunked[1].sigmoid_();
      const at::Tensor cell_gate = chunked[2].tanh_();
      const at::Tensor out_gate = chunked[3].sigmoid_();
      const at::Tensor cy = (forget_gate * c[layer]).add_(in_gate * cell_gate);
      const at::Tensor hy = out_gate * cy.tanh();
      next_h.push_back(hy);
      next_c.push_back(cy);
      layer_input = hy.contiguous();
    }
    h = at::stack(next_h);
    c = at::stack(next_c);
    return layer_input;
  }

  const SkipLstmImpl& module_;
  torch::nn::LSTMImpl* lstm_;  // Only read.
  std::optional<std::tuple<at::Tensor, at::Tensor>> state_;  // (h, c), [layers, batch, hidden]
};

}  // namespace

StreamLayerPtr SkipLstmImpl::OpenStream(NoiseSource*) const {
  return std::make_unique<StreamSkipLstm>(*this, const_cast<torch::nn::LSTMImpl*>(lstm_.get()));
}

}  // namespace codec::nn
