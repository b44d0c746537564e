#ifndef BACKENDS_SNAC_SNAC_BACKEND_H_
#define BACKENDS_SNAC_SNAC_BACKEND_H_

#include <memory>
#include <mutex>
#include <string>

#include "backends/runtime/checkpoint_backend.h"
#include "backends/snac/snac_config.h"
#include "backends/snac/snac_model.h"

namespace codec::snac {

// SNAC (24, 32 and 44 kHz, multi-scale codes) as a CodecBackend. Weights
// are upstream's pytorch_model.bin (parametrized weight norm).
//
// Decoding adds random noise by default, as upstream; DecodeOptions turn it
// off (deterministic) or seed it (reproducible).
class SnacBackend final : public CheckpointBackend<SnacModel> {
 public:
  // Runs on `device` (its weights move there on Load).
  SnacBackend(std::string id, SnacConfig config, std::string weights_path,
              at::Device device = at::kCPU);

  // Streams (CheckpointBackend's) run layer by layer with a lookahead equal
  // to the receptive field; codes in whole groups of max(vq_strides) frames;
  // local attention on its absolute windows. Seeded noise repeats for the
  // same seed, codes and chunking.

 private:
  // Always encodes every level; n_q, if given, must equal the level count.
  absl::StatusOr<int> QuantizersFor(const EncodeOptions& options) const override;
  // Level i must hold frames / vq_strides[i] codes of one codebook each.
  absl::Status ValidateCodes(const Codes& codes) const override;
  nn::NoiseSource NoiseFor(const DecodeOptions& options) const override;

  const SnacConfig config_;
  // Unseeded decodes share one generator (made on first use): random noise
  // needs no sequence of its own, and rows of one generator draw in one
  // call when they step together. A draw locks its generator.
  mutable std::once_flag random_noise_made_;
  mutable at::Generator random_noise_;
};

}  // namespace codec::snac

#endif  // BACKENDS_SNAC_SNAC_BACKEND_H_
