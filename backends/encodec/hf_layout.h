#ifndef BACKENDS_ENCODEC_HF_LAYOUT_H_
#define BACKENDS_ENCODEC_HF_LAYOUT_H_

#include <string>

#include "backends/io/checkpoint.h"

namespace codec::encodec {

// Hugging Face's EncodecModel names the upstream tensors differently
// ("encoder.layers.0.conv.weight_g" for "encoder.model.0.conv.conv.weight_g",
// "quantizer.layers.0.codebook.embed" for
// "quantizer.vq.layers.0._codebook.embed").

// Whether `tensors` are named as Hugging Face's EncodecModel names them.
bool IsHuggingFaceLayout(const io::StateDict& tensors);

// The Hugging Face name of the upstream tensor `name`.
std::string HuggingFaceName(const std::string& name);

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_HF_LAYOUT_H_
