#include "backends/dac/dac_config.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "backends/core/config_bounds.h"
#include "backends/core/status_macros.h"
#include "backends/io/json_fields.h"

namespace codec::dac {

namespace {

constexpr config_bounds::FieldBounds kBounds("DAC config");

}  // namespace

int DacConfig::hop_length() const {
  return static_cast<int>(config_bounds::SaturatedProduct(encoder_rates));
}

int DacConfig::latent_channels() const {
  if (latent_dim) return *latent_dim;
  return static_cast<int>(config_bounds::SaturatedWidth(encoder_dim, encoder_rates.size()));
}

absl::Status DacConfig::Validate() const {
  RETURN_IF_ERROR(kBounds.Positive("encoder_dim (encoder_hidden_size)", encoder_dim,
                                   config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("decoder_dim (decoder_hidden_size)", decoder_dim,
                                   config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("codebook_dim", codebook_dim, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("n_codebooks", n_codebooks, config_bounds::kMaxCodebooks));
  RETURN_IF_ERROR(
      kBounds.Positive("codebook_size", codebook_size, config_bounds::kMaxCodebookSize));
  RETURN_IF_ERROR(
      kBounds.Positive("sample_rate (sampling_rate)", sample_rate, config_bounds::kMaxSampleRate));
  RETURN_IF_ERROR(kBounds.PositiveList("encoder_rates (downsampling_ratios)", encoder_rates,
                                       config_bounds::kMaxRatios, config_bounds::kMaxRatio));
  RETURN_IF_ERROR(kBounds.PositiveList("decoder_rates (upsampling_ratios)", decoder_rates,
                                       config_bounds::kMaxRatios, config_bounds::kMaxRatio));
  RETURN_IF_ERROR(kBounds.Positive("the latent width, latent_dim (hidden_size)", latent_channels(),
                                   config_bounds::kMaxChannels));
  RETURN_IF_ERROR(
      kBounds.Positive("the hop (product of encoder_rates)", hop_length(), config_bounds::kMaxHop));
  return absl::OkStatus();
}

CodecDescription DacConfig::Describe() const {
  CodecDescription d;
  d.family = "dac";
  d.sample_rate = sample_rate;
  d.channels = 1;
  d.hop_length = hop_length();
  d.codebook_size = codebook_size;
  d.codebooks_per_level = {n_codebooks};
  d.frame_rates = {static_cast<double>(sample_rate) / hop_length()};
  d.level_strides = {1};
  return d;
}

absl::StatusOr<DacConfig> DacPreset(const std::string& name) {
  DacConfig config;  // Defaults are dac_44khz.
  if (name == "dac_44khz") return config;
  if (name == "dac_16khz" || name == "dac_24khz") {
    config.encoder_rates = {2, 4, 5, 8};
    config.decoder_rates = {8, 5, 4, 2};
    config.n_codebooks = name == "dac_16khz" ? 12 : 32;
    config.sample_rate = name == "dac_16khz" ? 16000 : 24000;
    return config;
  }
  return absl::NotFoundError(
      absl::StrCat("no DAC preset '", name, "'; presets: dac_16khz, dac_24khz, dac_44khz"));
}

namespace {

// transformers' DacConfig names (the hub's config.json), where they differ
// from upstream's kwargs.
absl::Status ReadHuggingFaceFields(const nlohmann::json& json, const io::JsonFields& fields,
                                   DacConfig& c) {
  if (json.contains("downsampling_ratios")) {
    RETURN_IF_ERROR(fields.Read("downsampling_ratios", c.encoder_rates));
    // transformers derives the decoder's from them when not given.
    c.decoder_rates.assign(c.encoder_rates.rbegin(), c.encoder_rates.rend());
  }
  RETURN_IF_ERROR(fields.Read("upsampling_ratios", c.decoder_rates));
  RETURN_IF_ERROR(fields.Read("encoder_hidden_size", c.encoder_dim));
  RETURN_IF_ERROR(fields.Read("decoder_hidden_size", c.decoder_dim));
  RETURN_IF_ERROR(fields.ReadOptional("hidden_size", c.latent_dim));
  return fields.Read("sampling_rate", c.sample_rate);
}

}  // namespace

absl::StatusOr<DacConfig> DacConfigFromJson(const nlohmann::json& json, DacConfig c) {
  if (!json.is_object()) return absl::InvalidArgumentError("DAC config is not a JSON object");
  auto model_type = json.find("model_type");
  if (model_type != json.end() && *model_type != "dac") {
    return absl::InvalidArgumentError(
        absl::StrCat("the config is for model_type ", model_type->dump(), ", not DAC's \"dac\""));
  }
  const io::JsonFields fields(json, "DAC");
  RETURN_IF_ERROR(fields.Read("encoder_dim", c.encoder_dim));
  RETURN_IF_ERROR(fields.Read("encoder_rates", c.encoder_rates));
  RETURN_IF_ERROR(fields.ReadOptional("latent_dim", c.latent_dim));
  RETURN_IF_ERROR(fields.Read("decoder_dim", c.decoder_dim));
  RETURN_IF_ERROR(fields.Read("decoder_rates", c.decoder_rates));
  RETURN_IF_ERROR(fields.Read("n_codebooks", c.n_codebooks));
  RETURN_IF_ERROR(fields.Read("codebook_size", c.codebook_size));
  RETURN_IF_ERROR(fields.Read("codebook_dim", c.codebook_dim));
  RETURN_IF_ERROR(fields.Read("sample_rate", c.sample_rate));
  RETURN_IF_ERROR(ReadHuggingFaceFields(json, fields, c));
  RETURN_IF_ERROR(c.Validate());
  // transformers writes the hop it derives from the ratios (checked above,
  // so their product is exact); another is a config of other weights.
  std::optional<int> hop_length;
  RETURN_IF_ERROR(fields.ReadOptional("hop_length", hop_length));
  if (hop_length && *hop_length != c.hop_length()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DAC config field 'hop_length' is ", *hop_length, ", but the downsampling ratios [",
        absl::StrJoin(c.encoder_rates, ", "), "] give ", c.hop_length()));
  }
  return c;
}

}  // namespace codec::dac
