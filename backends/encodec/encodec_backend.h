#ifndef BACKENDS_ENCODEC_ENCODEC_BACKEND_H_
#define BACKENDS_ENCODEC_ENCODEC_BACKEND_H_

#include <string>

#include "backends/encodec/encodec_config.h"
#include "backends/encodec/encodec_model.h"
#include "backends/runtime/checkpoint_backend.h"

namespace codec::encodec {

// EnCodec (24 kHz mono, 48 kHz stereo and custom configs) as a CodecBackend.
// Weights are read from `weights_path` on Load(): an upstream .th state
// dict or a Hugging Face model.safetensors / pytorch_model.bin.
class EncodecBackend final : public CheckpointBackend<EncodecModel> {
 public:
  // Runs on `device` (its weights move there on Load).
  EncodecBackend(std::string id, EncodecConfig config, std::string weights_path,
                 at::Device device = at::kCPU);

  // 24 kHz (causal, unnormalised): layer by layer, with no lookahead past a
  // frame; normalising models (48 kHz): segment by segment.
  absl::StatusOr<std::unique_ptr<EncodeStream>> OpenEncodeStream(
      const EncodeOptions& options) const override;
  absl::StatusOr<std::unique_ptr<DecodeStream>> OpenDecodeStream(
      const DecodeOptions& options, int64_t num_samples) const override;

 private:
  // Selects quantisers by bandwidth (one of target_bandwidths) or count.
  absl::StatusOr<int> QuantizersFor(const EncodeOptions& options) const override;

  const EncodecConfig config_;
};

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_ENCODEC_BACKEND_H_
