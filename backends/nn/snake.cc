#include "backends/nn/snake.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>

#include "backends/kernels/host_kernels.h"
#include "backends/kernels/snake_kernel.h"
#include "backends/streaming/interrupt.h"

namespace codec::nn {

Snake1dImpl::Snake1dImpl(int64_t channels) {
  alpha_ = register_parameter("alpha", at::ones({1, channels, 1}));
}

namespace {

// Upstream's op-by-op form makes four temporaries and five passes over
// memory; the kernel makes one pass, a channel's row at a time.
at::Tensor Snake(const at::Tensor& x, const at::Tensor& alpha) {
  RECORD_USER_SCOPE("codec::snake");  // For profilers; free without one.
  const at::Tensor inv_alpha = (alpha + 1e-9).reciprocal();
  if (!UsesExactHostKernels(x) || x.scalar_type() != at::kFloat || x.dim() != 3 || !SnakeKernelAvailable()) {
    return x + inv_alpha * at::sin(alpha * x).pow(2);
  }
  const at::Tensor input = x.contiguous();
  const at::Tensor alphas = alpha.reshape({-1}).contiguous();
  const at::Tensor inv_alphas = inv_alpha.reshape({-1}).contiguous();
  at::Tensor y = at::empty_like(input);
  const int64_t channels = input.size(1), length = input.size(2);
  const float* from = input.data_ptr<float>();
  float* into = y.data_ptr<float>();
  const float* a = alphas.data_ptr<float>();
  const float* inv = inv_alphas.data_ptr<float>();
  // Rows in tasks of at least a few tens of thousands of samples.
  const int64_t rows_per_task =
      std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(length, 1));
  at::parallel_for(0, input.size(0) * channels, rows_per_task, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t channel = row % channels;
      SnakeRow(from + row * length, into + row * length, length, a[channel], inv[channel]);
    }
  });
  return y;
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
