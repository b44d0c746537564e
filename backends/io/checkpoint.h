#ifndef BACKENDS_IO_CHECKPOINT_H_
#define BACKENDS_IO_CHECKPOINT_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace codec::io {

// Tensors by their state_dict name.
using StateDict = std::map<std::string, at::Tensor>;

// What a weights file holds: its tensors and, when the file carries its own
// hyper-parameters (DAC's metadata.kwargs), those as JSON (null otherwise).
struct Checkpoint {
  StateDict tensors;
  nlohmann::json config;
};

// Reads a checkpoint, choosing the format from the file's content: a
// zip-format torch.save file (.th, .pth, .bin, .pt) or .safetensors.
// A torch.save file holding {"state_dict", "metadata"} (DAC's layout) yields
// the inner state dict and metadata.kwargs as config.
// Errors: NOT_FOUND (no file), DATA_LOSS (truncated/corrupt), UNIMPLEMENTED
// (a recognised but unsupported variant, e.g. legacy pre-1.6 torch.save).
absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path);

// The config a checkpoint file carries (see Checkpoint::config), without
// materialising its tensors; null when it carries none.
absl::StatusOr<nlohmann::json> LoadCheckpointConfig(const std::string& path);

}  // namespace codec::io

#endif  // BACKENDS_IO_CHECKPOINT_H_
