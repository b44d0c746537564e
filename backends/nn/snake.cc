#include "backends/nn/snake.h"

#include <ATen/ATen.h>

#include "backends/nn/interrupt.h"

namespace codec::nn {

Snake1dImpl::Snake1dImpl(int64_t channels) {
  alpha_ = register_parameter("alpha", at::ones({1, channels, 1}));
}

at::Tensor Snake1dImpl::forward(const at::Tensor& x) {
  PollInterrupt();
  // Same operation order as upstream, for bit-identical results.
  return x + (alpha_ + 1e-9).reciprocal() * at::sin(alpha_ * x).pow(2);
}

}  // namespace codec::nn
