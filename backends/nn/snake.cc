#include "backends/nn/snake.h"

#include <ATen/ATen.h>

#include "backends/nn/interrupt.h"

namespace codec::nn {

Snake1dImpl::Snake1dImpl(int64_t channels) {
  alpha_ = register_parameter("alpha", at::ones({1, channels, 1}));
}

namespace {

// Same operation order as upstream, for bit-identical results.
at::Tensor Snake(const at::Tensor& x, const at::Tensor& alpha) {
  return x + (alpha + 1e-9).reciprocal() * at::sin(alpha * x).pow(2);
}

}  // namespace

at::Tensor Snake1dImpl::forward(const at::Tensor& x) {
  PollInterrupt();
  return Snake(x, alpha_);
}

StreamLayerPtr Snake1dImpl::OpenStream(NoiseSource*) const {
  return std::make_unique<StreamPointwise>(
      [alpha = alpha_](const at::Tensor& x) { return Snake(x, alpha); });
}

}  // namespace codec::nn
