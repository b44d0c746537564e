#include "backends/streaming/stream_modules.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include "backends/streaming/stream_conv.h"

namespace codec::nn {

StreamLayerPtr OpenModuleStream(const torch::nn::Module& module, NoiseSource* noise) {
  if (const auto* streamable = dynamic_cast<const Streamable*>(&module)) {
    return streamable->OpenStream(noise);
  }
  if (const auto* conv = dynamic_cast<const torch::nn::Conv1dImpl*>(&module)) {
    return std::make_unique<StreamConv1d>(ConvSpecOf(*conv));
  }
  if (const auto* convtr = dynamic_cast<const torch::nn::ConvTranspose1dImpl*>(&module)) {
    return std::make_unique<StreamConvTranspose1d>(ConvTransposeSpecOf(*convtr));
  }
  if (const auto* elu = dynamic_cast<const torch::nn::ELUImpl*>(&module)) {
    const double alpha = elu->options.alpha();
    return std::make_unique<StreamPointwise>(
        [alpha](const at::Tensor& x) { return at::elu(x, alpha); });
  }
  if (const auto* sequential = dynamic_cast<const torch::nn::SequentialImpl*>(&module)) {
    std::vector<StreamLayerPtr> layers;
    for (const auto& child : sequential->children()) {
      layers.push_back(OpenModuleStream(*child, noise));
    }
    return std::make_unique<StreamSequential>(std::move(layers));
  }
  TORCH_CHECK(false, "no streaming form for module ", module.name());
}

}  // namespace codec::nn
