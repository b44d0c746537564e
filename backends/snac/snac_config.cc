#include "backends/snac/snac_config.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "backends/core/config_bounds.h"
#include "backends/core/status_macros.h"
#include "backends/io/json_fields.h"

namespace codec::snac {
namespace {

constexpr int64_t kMaxLevels = 32;  // One codebook per VQ stride.

constexpr config_bounds::FieldBounds kBounds("SNAC config");

}  // namespace

int SnacConfig::hop_length() const {
  return static_cast<int>(config_bounds::SaturatedProduct(encoder_rates));
}

int SnacConfig::latent_channels() const {
  if (latent_dim) return *latent_dim;
  return static_cast<int>(config_bounds::SaturatedWidth(encoder_dim, encoder_rates.size()));
}

int64_t SnacConfig::pad_multiple() const {
  return static_cast<int64_t>(hop_length()) *
         std::lcm(vq_strides.front(), attn_window_size.value_or(1));
}

absl::Status SnacConfig::Validate() const {
  RETURN_IF_ERROR(kBounds.Positive("sampling_rate", sampling_rate, config_bounds::kMaxSampleRate));
  RETURN_IF_ERROR(kBounds.Positive("encoder_dim", encoder_dim, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("decoder_dim", decoder_dim, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(
      kBounds.Positive("codebook_size", codebook_size, config_bounds::kMaxCodebookSize));
  RETURN_IF_ERROR(kBounds.Positive("codebook_dim", codebook_dim, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.PositiveList("encoder_rates", encoder_rates, config_bounds::kMaxRatios,
                                       config_bounds::kMaxRatio));
  RETURN_IF_ERROR(kBounds.PositiveList("decoder_rates", decoder_rates, config_bounds::kMaxRatios,
                                       config_bounds::kMaxRatio));
  RETURN_IF_ERROR(
      kBounds.PositiveList("vq_strides", vq_strides, kMaxLevels, config_bounds::kMaxRatio));
  if (attn_window_size) {
    RETURN_IF_ERROR(
        kBounds.Positive("attn_window_size", *attn_window_size, config_bounds::kMaxContext));
  }
  RETURN_IF_ERROR(kBounds.Positive("the latent width, latent_dim (encoder_dim << encoder_rates)",
                                   latent_channels(), config_bounds::kMaxChannels));
  // Each decoder block halves the channels.
  RETURN_IF_ERROR(kBounds.Positive("the last decoder block's width, decoder_dim >> decoder_rates",
                                   decoder_dim >> decoder_rates.size(),
                                   config_bounds::kMaxChannels));
  RETURN_IF_ERROR(
      kBounds.Positive("the hop (product of encoder_rates)", hop_length(), config_bounds::kMaxHop));
  return absl::OkStatus();
}

CodecDescription SnacConfig::Describe() const {
  CodecDescription d;
  d.family = "snac";
  d.sample_rate = sampling_rate;
  d.channels = 1;
  d.hop_length = hop_length();
  d.codebook_size = codebook_size;
  for (int stride : vq_strides) {
    d.codebooks_per_level.push_back(1);
    d.level_strides.push_back(stride);
    d.frame_rates.push_back(static_cast<double>(sampling_rate) / (hop_length() * stride));
  }
  d.has_noise = noise;
  return d;
}

absl::StatusOr<SnacConfig> SnacPreset(const std::string& name) {
  SnacConfig config;  // Defaults are snac_24khz.
  if (name == "snac_24khz") return config;
  if (name == "snac_32khz" || name == "snac_44khz") {
    config.sampling_rate = name == "snac_32khz" ? 32000 : 44100;
    config.encoder_dim = 64;
    config.encoder_rates = {2, 3, 8, 8};
    config.decoder_dim = 1536;
    config.decoder_rates = {8, 8, 3, 2};
    config.attn_window_size = 32;
    config.vq_strides = {8, 4, 2, 1};
    return config;
  }
  return absl::NotFoundError(
      absl::StrCat("no SNAC preset '", name, "'; presets: snac_24khz, snac_32khz, snac_44khz"));
}

absl::StatusOr<SnacConfig> SnacConfigFromJson(const nlohmann::json& json, SnacConfig c) {
  if (!json.is_object()) return absl::InvalidArgumentError("SNAC config is not a JSON object");
  const io::JsonFields fields(json, "SNAC");
  RETURN_IF_ERROR(fields.Read("sampling_rate", c.sampling_rate));
  RETURN_IF_ERROR(fields.Read("encoder_dim", c.encoder_dim));
  RETURN_IF_ERROR(fields.Read("encoder_rates", c.encoder_rates));
  RETURN_IF_ERROR(fields.ReadOptional("latent_dim", c.latent_dim));
  RETURN_IF_ERROR(fields.Read("decoder_dim", c.decoder_dim));
  RETURN_IF_ERROR(fields.Read("decoder_rates", c.decoder_rates));
  RETURN_IF_ERROR(fields.ReadOptional("attn_window_size", c.attn_window_size));
  RETURN_IF_ERROR(fields.Read("codebook_size", c.codebook_size));
  RETURN_IF_ERROR(fields.Read("codebook_dim", c.codebook_dim));
  RETURN_IF_ERROR(fields.Read("vq_strides", c.vq_strides));
  RETURN_IF_ERROR(fields.Read("noise", c.noise));
  RETURN_IF_ERROR(fields.Read("depthwise", c.depthwise));
  RETURN_IF_ERROR(c.Validate());
  return c;
}

}  // namespace codec::snac
