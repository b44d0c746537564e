#ifndef BACKENDS_DAC_DAC_BACKEND_H_
#define BACKENDS_DAC_DAC_BACKEND_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "backends/dac/dac_config.h"
#include "backends/dac/dac_model.h"
#include "backends/runtime/checkpoint_backend.h"

namespace codec::dac {

// DAC (16, 24 and 44.1 kHz) as a CodecBackend, encode and decode. Weights
// are upstream's .pth ({"state_dict", "metadata": {"kwargs"}}); long inputs
// run in chunks (see Chunking).
class DacBackend final : public CheckpointBackend<DacModel> {
 public:
  // Runs on `device` (its weights move there on Load).
  DacBackend(std::string id, DacConfig config, std::string weights_path, Chunking chunking,
             at::Device device = at::kCPU);

  // A backend from preset `preset` ("dac_44khz", ..., or "" for the 44.1 kHz
  // defaults), overridden by `config` and then by the kwargs the checkpoint
  // at `weights_path` carries.
  static absl::StatusOr<std::shared_ptr<CodecBackend>> Create(std::string id,
                                                              const std::string& preset,
                                                              const nlohmann::json& config,
                                                              std::string weights_path,
                                                              at::Device device);

  // Streams (CheckpointBackend's) run layer by layer: each layer keeps its
  // left context and waits for its right context, so every sample is
  // computed once, with a lookahead equal to the receptive field.

 private:
  // Uses the first n_q quantisers (all by default); no bandwidth selection.
  absl::StatusOr<int> QuantizersFor(const EncodeOptions& options) const override;

  const DacConfig config_;
};

}  // namespace codec::dac

#endif  // BACKENDS_DAC_DAC_BACKEND_H_
