#ifndef BACKENDS_IO_TORCH_CHECKPOINT_H_
#define BACKENDS_IO_TORCH_CHECKPOINT_H_

#include <string>

#include "absl/status/statusor.h"
#include "backends/io/checkpoint.h"

namespace codec::io {

// Reads a zip-format torch.save file from memory (see LoadCheckpoint).
absl::StatusOr<Checkpoint> ParseTorchCheckpoint(std::string bytes);

// Only the config a torch.save file carries (metadata.kwargs), or null;
// reads the pickle but no tensor data.
absl::StatusOr<nlohmann::json> ParseTorchCheckpointConfig(std::string bytes);

}  // namespace codec::io

#endif  // BACKENDS_IO_TORCH_CHECKPOINT_H_
