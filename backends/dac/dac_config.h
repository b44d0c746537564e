#ifndef BACKENDS_DAC_DAC_CONFIG_H_
#define BACKENDS_DAC_DAC_CONFIG_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codec_description.h"

namespace codec::dac {

// DAC hyper-parameters, named as the constructor kwargs that upstream
// checkpoints carry in metadata.kwargs.
struct DacConfig {
  int encoder_dim = 64;
  std::vector<int> encoder_rates = {2, 4, 8, 8};
  std::optional<int> latent_dim;  // Default encoder_dim * 2^len(encoder_rates).
  int decoder_dim = 1536;
  std::vector<int> decoder_rates = {8, 8, 4, 2};
  int n_codebooks = 9;
  int codebook_size = 1024;
  int codebook_dim = 8;
  int sample_rate = 44100;

  int hop_length() const;
  int latent_channels() const;

  absl::Status Validate() const;
  CodecDescription Describe() const;
};

// The published models: "dac_16khz", "dac_24khz", "dac_44khz".
absl::StatusOr<DacConfig> DacPreset(const std::string& name);

// Overrides the fields of `base` present in `json`, named as upstream's
// kwargs or as transformers' DacConfig (encoder_hidden_size,
// downsampling_ratios, hidden_size, sampling_rate, ...); errors name the
// field. A transformers config for another model_type is refused.
absl::StatusOr<DacConfig> DacConfigFromJson(const nlohmann::json& json, DacConfig base);

}  // namespace codec::dac

#endif  // BACKENDS_DAC_DAC_CONFIG_H_
