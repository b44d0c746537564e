#ifndef BACKENDS_FACTORY_CODEC_FACTORY_H_
#define BACKENDS_FACTORY_CODEC_FACTORY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codec_backend.h"

namespace codec {

// What to build: a model name plus where its weights and config are.
struct BackendSpec {
  std::string id;              // Registry name; defaults to `model` (ModelIdOf).
  std::string model;           // A preset ("encodec_24khz") or a family ("encodec").
  std::string weights;         // A checkpoint file, a folder holding one, or empty.
  std::string config;          // A config.json overriding the preset, or empty.
  std::string device = "cpu";  // Where it runs (compute_device.h).
};

// The id a model is registered and served under: spec.id, or the model
// (preset or family) when no id is given.
std::string ModelIdOf(const BackendSpec& spec);

// The presets CreateBackend knows, e.g. "encodec_24khz".
std::vector<std::string> ListPresets();

// Builds an unloaded backend for `spec`.
//
// Config precedence: the preset's, then config.json beside the weights (or
// `spec.config` when given), then a config the checkpoint itself carries
// (read by the families whose checkpoints have one).
// A folder of weights must hold exactly one checkpoint (.th .pth .bin .pt
// .safetensors). Unknown models are NOT_FOUND, listing the known ones.
absl::StatusOr<std::shared_ptr<CodecBackend>> CreateBackend(const BackendSpec& spec);

}  // namespace codec

#endif  // BACKENDS_FACTORY_CODEC_FACTORY_H_
