#ifndef TESTS_TESTING_DAC_HF_LAYOUT_H_
#define TESTS_TESTING_DAC_HF_LAYOUT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "backends/dac/dac_config.h"
#include "backends/io/checkpoint.h"

namespace codec::testing {

// A DAC checkpoint as the Hugging Face hub's descript/dac_* folders hold it,
// made from an upstream one the way transformers' convert_dac_checkpoint.py
// makes it (its pattern table, written out here independently of the
// backend's own mapping, so a test can catch a wrong one).

// How the converted file stores weight norm.
enum class WeightNormForm {
  kPairs,             // X.weight_g, X.weight_v (torch.nn.utils.weight_norm)
  kParametrizations,  // X.parametrizations.weight.original0 / original1
  kFolded,            // X.weight, as after remove_weight_norm
};

// `upstream` (a state dict of a model with `config`'s blocks) under
// DacModel's names; NOT_FOUND naming a tensor no pattern matches.
absl::StatusOr<io::StateDict> DacStateDictToHuggingFace(const io::StateDict& upstream,
                                                        const dac::DacConfig& config,
                                                        WeightNormForm form);

// DacModel's config.json for `config`.
nlohmann::json DacHuggingFaceConfig(const dac::DacConfig& config);

// Writes <dir>/model.safetensors and <dir>/config.json: the Hugging Face
// folder of the upstream DAC checkpoint at `upstream_path`.
absl::Status WriteDacHuggingFaceFolder(const std::string& upstream_path, WeightNormForm form,
                                       const std::string& dir);

}  // namespace codec::testing

#endif  // TESTS_TESTING_DAC_HF_LAYOUT_H_
