#ifndef TESTS_TESTING_MIMI_HF_LAYOUT_H_
#define TESTS_TESTING_MIMI_HF_LAYOUT_H_

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "backends/io/checkpoint.h"
#include "backends/mimi/mimi_config.h"

namespace codec::testing {

// A Mimi checkpoint as the Hugging Face hub's kyutai/mimi folder holds it,
// made from a published-layout one the way transformers'
// convert_mimi_checkpoint_to_pytorch.py makes it: its ordered table of
// substring renames, then each in_proj_weight split into q, k and v with q
// and k rows permuted from interleaved pairs to halves ("sliced rotary").
// Written out here independently of the backend's own mapping, so a test
// can catch a wrong one.
io::StateDict MimiStateDictToHuggingFace(const io::StateDict& published,
                                         const mimi::MimiConfig& config);

// transformers' MimiConfig (config.json) for `config`.
nlohmann::json MimiHuggingFaceConfig(const mimi::MimiConfig& config);

}  // namespace codec::testing

#endif  // TESTS_TESTING_MIMI_HF_LAYOUT_H_
