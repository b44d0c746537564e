#include "backends/dac/dac_config.h"

#include <functional>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/io/json_fields.h"

namespace codec::dac {

int DacConfig::hop_length() const {
  return std::accumulate(encoder_rates.begin(), encoder_rates.end(), 1, std::multiplies<int>());
}

int DacConfig::latent_channels() const {
  return latent_dim.value_or(encoder_dim << encoder_rates.size());
}

absl::Status DacConfig::Validate() const {
  if (encoder_dim <= 0 || decoder_dim <= 0 || n_codebooks <= 0 || codebook_size <= 0 ||
      codebook_dim <= 0 || sample_rate <= 0 || latent_channels() <= 0) {
    return absl::InvalidArgumentError(
        "DAC config: dimensions, n_codebooks, codebook_size and sample_rate must be positive");
  }
  if (encoder_rates.empty() || decoder_rates.empty()) {
    return absl::InvalidArgumentError("DAC config needs encoder_rates and decoder_rates");
  }
  for (const std::vector<int>* rates : {&encoder_rates, &decoder_rates}) {
    for (int rate : *rates) {
      if (rate <= 0) return absl::InvalidArgumentError("DAC rates must be positive");
    }
  }
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
  RETURN_IF_ERROR(fields.Read("sampling_rate", c.sample_rate));
  std::optional<int> hop_length;
  RETURN_IF_ERROR(fields.ReadOptional("hop_length", hop_length));
  if (hop_length && *hop_length != c.hop_length()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DAC config field 'hop_length' is ", *hop_length, ", but the downsampling ratios [",
        absl::StrJoin(c.encoder_rates, ", "), "] give ", c.hop_length()));
  }
  return absl::OkStatus();
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
  return c;
}

}  // namespace codec::dac
