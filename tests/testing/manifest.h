#ifndef TESTS_TESTING_MANIFEST_H_
#define TESTS_TESTING_MANIFEST_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "backends/io/checkpoint.h"

namespace codec::testing {

// A state dict with the names, shapes and dtypes listed in
// tests/fixtures/manifests/<preset>.tsv (the published checkpoint's), filled
// with small random values (weight-norm gains with ones).
absl::StatusOr<io::StateDict> StateDictFromManifest(const std::string& preset);

// Writes `tensors` to `path` as a .safetensors checkpoint.
absl::Status WriteSafetensorsFile(const io::StateDict& tensors, const std::string& path);

// Writes a model folder as a hub repository holds one: <dir>/model.safetensors
// and, unless `config` is null, <dir>/config.json.
absl::Status WriteModelFolder(const io::StateDict& tensors, const nlohmann::json& config,
                              const std::string& dir);

// Writes StateDictFromManifest(preset) as <dir>/<preset>/model.safetensors:
// a full-size checkpoint of random weights. Returns "<preset>/model.safetensors"
// (relative to `dir`, as a model repository names it).
absl::StatusOr<std::string> WriteManifestCheckpoint(const std::string& preset,
                                                    const std::string& dir);

}  // namespace codec::testing

#endif  // TESTS_TESTING_MANIFEST_H_
