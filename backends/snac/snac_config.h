#ifndef BACKENDS_SNAC_SNAC_CONFIG_H_
#define BACKENDS_SNAC_SNAC_CONFIG_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codec_description.h"

namespace codec::snac {

// SNAC hyper-parameters, named as in the upstream config.json.
struct SnacConfig {
  int sampling_rate = 24000;
  int encoder_dim = 48;
  std::vector<int> encoder_rates = {2, 4, 8, 8};
  std::optional<int> latent_dim;  // Default encoder_dim * 2^len(encoder_rates).
  int decoder_dim = 1024;
  std::vector<int> decoder_rates = {8, 8, 4, 2};
  std::optional<int> attn_window_size;  // Local attention when set.
  int codebook_size = 4096;
  int codebook_dim = 8;
  std::vector<int> vq_strides = {4, 2, 1};
  bool noise = true;
  bool depthwise = true;

  int hop_length() const;
  int latent_channels() const;
  // Inputs are right-padded to a multiple of this many samples.
  int64_t pad_multiple() const;

  absl::Status Validate() const;
  CodecDescription Describe() const;
};

// The published models: "snac_24khz", "snac_32khz", "snac_44khz".
absl::StatusOr<SnacConfig> SnacPreset(const std::string& name);

// Overrides the fields of `base` present in `json`; errors name the field.
absl::StatusOr<SnacConfig> SnacConfigFromJson(const nlohmann::json& json, SnacConfig base);

}  // namespace codec::snac

#endif  // BACKENDS_SNAC_SNAC_CONFIG_H_
