#ifndef BACKENDS_MIMI_MIMI_BACKEND_H_
#define BACKENDS_MIMI_MIMI_BACKEND_H_

#include <memory>
#include <string>

#include "backends/mimi/mimi_config.h"
#include "backends/mimi/mimi_model.h"
#include "backends/runtime/checkpoint_backend.h"

namespace codec::mimi {

// Mimi (Moshi, Sesame CSM, Kyutai TTS/STT) as a CodecBackend, encode and
// decode, from the published tokenizer's safetensors. Every layer is
// causal: a stream's frame comes out with the frame that carries it.
class MimiBackend final : public CheckpointBackend<MimiModel> {
 public:
  MimiBackend(std::string id, MimiConfig config, std::string weights_path,
              at::Device device = at::kCPU);

 private:
  // The first n_q levels (default_n_q by default, or as many as
  // bandwidth_kbps carries: 1.1 kbps for 8 levels of the published model).
  absl::StatusOr<int> QuantizersFor(const EncodeOptions& options) const override;

  const MimiConfig config_;
};

}  // namespace codec::mimi

#endif  // BACKENDS_MIMI_MIMI_BACKEND_H_
