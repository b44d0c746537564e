#ifndef BACKENDS_NN_SNAKE_H_
#define BACKENDS_NN_SNAKE_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "backends/streaming/stream_modules.h"

namespace codec::nn {

// Snake activation, x + sin^2(alpha x) / (alpha + 1e-9), with one learned
// alpha per channel (DAC, SNAC). Parameter "alpha" of shape [1, C, 1].
class Snake1dImpl : public torch::nn::Module, public Streamable {
 public:
  explicit Snake1dImpl(int64_t channels);
  at::Tensor forward(const at::Tensor& x);
  StreamLayerPtr OpenStream(NoiseSource* noise) const override;

 private:
  at::Tensor alpha_;
};
TORCH_MODULE(Snake1d);

}  // namespace codec::nn

#endif  // BACKENDS_NN_SNAKE_H_
