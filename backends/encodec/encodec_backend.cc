#include "backends/encodec/encodec_backend.h"

#include <ATen/ATen.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/nn/interrupt.h"
#include "backends/nn/tensor_convert.h"

namespace codec::encodec {

EncodecBackend::EncodecBackend(std::string id, EncodecConfig config, std::string weights_path)
    : CheckpointBackend(std::move(id), config.Describe(), std::move(weights_path),
                        [config](io::Checkpoint checkpoint) {
                          return BuildEncodecModel(config, std::move(checkpoint));
                        }),
      config_(std::move(config)) {}

absl::StatusOr<std::shared_ptr<CodecBackend>> EncodecBackend::Create(std::string id,
                                                                     const std::string& preset,
                                                                     const nlohmann::json& config,
                                                                     std::string weights_path) {
  ASSIGN_OR_RETURN(EncodecConfig merged,
                   MergeConfig(preset, &EncodecPreset, &EncodecConfigFromJson, {&config}));
  return std::make_shared<EncodecBackend>(std::move(id), std::move(merged),
                                          std::move(weights_path));
}

absl::StatusOr<int> EncodecBackend::QuantizersFor(const EncodeOptions& options) const {
  if (options.bandwidth_kbps && options.n_q) {
    return absl::InvalidArgumentError("give a bandwidth or a number of quantisers, not both");
  }
  if (options.bandwidth_kbps) {
    for (double supported : config_.target_bandwidths) {
      if (std::abs(supported - *options.bandwidth_kbps) < 1e-9) {
        return config_.QuantizersForBandwidth(supported);
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("bandwidth ", *options.bandwidth_kbps, " kbps is not supported by '", id(),
                     "'; supported: ", absl::StrJoin(config_.target_bandwidths, ", "), " kbps"));
  }
  if (options.n_q) {
    if (*options.n_q < 1 || *options.n_q > config_.num_quantizers()) {
      return absl::InvalidArgumentError(absl::StrCat("n_q ", *options.n_q, " is out of range for '",
                                                     id(), "': 1 to ", config_.num_quantizers()));
    }
    return *options.n_q;
  }
  return config_.num_quantizers();
}

absl::StatusOr<Codes> EncodecBackend::Encode(const Audio& audio,
                                             const EncodeOptions& options) const {
  RETURN_IF_ERROR(ValidateAudioInput(audio, description()));
  ASSIGN_OR_RETURN(int n_q, QuantizersFor(options));
  ASSIGN_OR_RETURN(std::shared_ptr<const EncodecModel> network, model());
  return nn::RunInterruptible(options.stop,
                              [&] { return network->Encode(nn::AudioView(audio), n_q); });
}

absl::Status EncodecBackend::ValidateCodes(const Codes& codes) const {
  if (codes.levels.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("EnCodec codes have one level, got ", codes.levels.size()));
  }
  if (codes.levels[0].num_codebooks > config_.num_quantizers()) {
    return absl::InvalidArgumentError(absl::StrCat("codes have ", codes.levels[0].num_codebooks,
                                                   " codebooks but '", id(), "' has ",
                                                   config_.num_quantizers()));
  }
  RETURN_IF_ERROR(codes.Validate(config_.codebook_size));
  if (!config_.normalize && !codes.scales.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", id(), "' does not normalise its input, but the codes carry ",
                     codes.scales.size(), " scale(s)"));
  }
  for (float scale : codes.scales) {
    if (!std::isfinite(scale) || scale <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("segment scale ", scale, " is not a positive finite number"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Audio> EncodecBackend::Decode(const Codes& codes,
                                             const DecodeOptions& options) const {
  RETURN_IF_ERROR(ValidateCodes(codes));
  ASSIGN_OR_RETURN(std::shared_ptr<const EncodecModel> network, model());
  ASSIGN_OR_RETURN(at::Tensor decoded,
                   nn::RunInterruptible(options.stop, [&] { return network->Decode(codes); }));
  return nn::AudioFromTensor(decoded, config_.sampling_rate);
}

}  // namespace codec::encodec
