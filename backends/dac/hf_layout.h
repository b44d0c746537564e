#ifndef BACKENDS_DAC_HF_LAYOUT_H_
#define BACKENDS_DAC_HF_LAYOUT_H_

#include <string>

#include "backends/dac/dac_config.h"
#include "backends/io/checkpoint.h"

namespace codec::dac {

// transformers' DacModel (the hub's descript/dac_* folders) names DAC's
// layers by role where upstream numbers them in Sequentials:
//   encoder.block.0                  -> encoder.conv1
//   encoder.block.2.block.1.block.3  -> encoder.block.1.res_unit2.conv2
//   encoder.block.2.block.4          -> encoder.block.1.conv1
//   decoder.model.1.block.1          -> decoder.block.0.conv_t1
//   decoder.model.<n+1>, <n+2>       -> decoder.snake1, decoder.conv2
// The quantiser's names are the same in both.

// Whether `tensors` are named as transformers' DacModel names them.
bool IsHuggingFaceLayout(const io::StateDict& tensors);

// The transformers name of the upstream tensor `name` of a model with
// `config`'s encoder and decoder blocks; `name` itself when it has no other.
std::string HuggingFaceName(const std::string& name, const DacConfig& config);

}  // namespace codec::dac

#endif  // BACKENDS_DAC_HF_LAYOUT_H_
