#ifndef BACKENDS_ENCODEC_HF_LAYOUT_H_
#define BACKENDS_ENCODEC_HF_LAYOUT_H_

#include <torch/nn/module.h>

#include "backends/io/checkpoint.h"

namespace codec::encodec {

// Hugging Face's EncodecModel names the upstream tensors differently
// ("encoder.layers.0.conv.weight_g" for "encoder.model.0.conv.conv.weight_g",
// "quantizer.layers.0.codebook.embed" for
// "quantizer.vq.layers.0._codebook.embed"). When `tensors` is in that
// layout, renames it to the upstream names that `model` (an upstream-named
// EncodecModel) uses; otherwise returns it unchanged. Unknown names are
// kept, so strict loading still reports them.
io::StateDict FromHuggingFaceLayout(io::StateDict tensors, const torch::nn::Module& model);

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_HF_LAYOUT_H_
