#include "backends/dac/dac_backend.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/kernels/tensor_convert.h"
#include "backends/streaming/interrupt.h"
#include "backends/streaming/network_streams.h"

namespace codec::dac {

DacBackend::DacBackend(std::string id, DacConfig config, std::string weights_path,
                       Chunking chunking, at::Device device)
    : CheckpointBackend(std::move(id), DescribeDac(config), std::move(weights_path), device,
                        [config, chunking](io::Checkpoint checkpoint) {
                          return BuildDacModel(config, chunking, std::move(checkpoint));
                        }),
      config_(std::move(config)) {}

absl::StatusOr<std::shared_ptr<CodecBackend>> DacBackend::Create(std::string id,
                                                                 const std::string& preset,
                                                                 const nlohmann::json& config,
                                                                 std::string weights_path,
                                                                 at::Device device) {
  nlohmann::json carried;
  if (!weights_path.empty()) {
    ASSIGN_OR_RETURN(carried, io::LoadCheckpointConfig(weights_path));
  }
  ASSIGN_OR_RETURN(DacConfig merged,
                   MergeConfig(preset, &DacPreset, &DacConfigFromJson, {&config, &carried}));
  const Chunking chunking = Chunking::Default(merged);
  return std::make_shared<DacBackend>(std::move(id), std::move(merged), std::move(weights_path),
                                      chunking, device);
}

absl::StatusOr<int> DacBackend::QuantizersFor(const EncodeOptions& options) const {
  if (options.bandwidth_kbps) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", id(), "' selects quantisers by count (n_q), not by bandwidth"));
  }
  return QuantizerCountInRange(options.n_q.value_or(config_.n_codebooks), config_.n_codebooks);
}

}  // namespace codec::dac
