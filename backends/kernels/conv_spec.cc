#include "backends/kernels/conv_spec.h"

#include <c10/util/Exception.h>
#include <torch/version.h>

namespace codec::nn {
namespace {

// The explicit padding of a conv's options, or nullptr: libtorch 1.x keeps
// the padding in a c10::variant, 2.x in a std::variant.
template <typename Padding>
const torch::ExpandingArray<1>* ExplicitPadding(const Padding& padding) {
#if TORCH_VERSION_MAJOR >= 2
  return std::get_if<torch::ExpandingArray<1>>(&padding);
#else
  return c10::get_if<torch::ExpandingArray<1>>(&padding);
#endif
}

}  // namespace

StreamConvSpec ConvSpecOf(const torch::nn::Conv1dImpl& conv) {
  const auto& options = conv.options;
  const torch::ExpandingArray<1>* padding = ExplicitPadding(options.padding());
  TORCH_CHECK(padding != nullptr, "streamed convs need explicit padding");
  StreamConvSpec spec;
  spec.weight = conv.weight;
  spec.bias = conv.bias;
  spec.stride = options.stride()->at(0);
  spec.dilation = options.dilation()->at(0);
  spec.groups = options.groups();
  spec.left = spec.right = (*padding)->at(0);
  return spec;
}

StreamConvTransposeSpec ConvTransposeSpecOf(const torch::nn::ConvTranspose1dImpl& conv) {
  const auto& options = conv.options;
  const torch::ExpandingArray<1>* padding = ExplicitPadding(options.padding());
  TORCH_CHECK(padding != nullptr && options.groups() == 1 && options.dilation()->at(0) == 1,
              "streamed transposed convs need explicit padding, one group, no dilation");
  StreamConvTransposeSpec spec;
  spec.weight = conv.weight;
  spec.bias = conv.bias;
  spec.stride = options.stride()->at(0);
  spec.crop_left = (*padding)->at(0);
  spec.crop_right = (*padding)->at(0) - options.output_padding()->at(0);
  return spec;
}

}  // namespace codec::nn
