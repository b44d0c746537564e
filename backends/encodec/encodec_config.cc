#include "backends/encodec/encodec_config.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/config_bounds.h"
#include "backends/core/status_macros.h"
#include "backends/io/json_fields.h"

namespace codec::encodec {
namespace {

// Far beyond the published models (1 and 2 channels, 1.5 to 24 kbps, 1 s
// segments).
constexpr int64_t kMaxAudioChannels = 16;
constexpr double kMostKbps = 1e6;
constexpr double kLongestSegmentSeconds = 3600;

constexpr config_bounds::FieldBounds kBounds("EnCodec config");

// Validate's checks of the bandwidths and the segments.
absl::Status ValidateRateAndSegments(const EncodecConfig& c) {
  RETURN_IF_ERROR(kBounds.Positive("the number of target_bandwidths",
                                   static_cast<int64_t>(c.target_bandwidths.size()),
                                   config_bounds::kMaxCodebooks));
  for (double kbps : c.target_bandwidths) {
    RETURN_IF_ERROR(kBounds.Range("target_bandwidths", kbps, 0.0, kMostKbps));
  }
  RETURN_IF_ERROR(kBounds.Positive("the quantisers of the largest of target_bandwidths",
                                   c.num_quantizers(), config_bounds::kMaxCodebooks));
  if (c.chunk_length_s) {
    RETURN_IF_ERROR(
        kBounds.Range("chunk_length_s", *c.chunk_length_s, 0.0, kLongestSegmentSeconds));
    RETURN_IF_ERROR(kBounds.Positive(
        "the segment, chunk_length_s * sampling_rate", c.segment_length(),
        config_bounds::kMaxSampleRate * static_cast<int64_t>(kLongestSegmentSeconds)));
  }
  if (c.overlap) RETURN_IF_ERROR(kBounds.Range("overlap", *c.overlap, 0.0, 1.0));
  return absl::OkStatus();
}

}  // namespace

int EncodecConfig::hop_length() const {
  return static_cast<int>(config_bounds::SaturatedProduct(upsampling_ratios));
}

int EncodecConfig::frame_rate() const {
  return static_cast<int>(std::ceil(static_cast<double>(sampling_rate) / hop_length()));
}

int EncodecConfig::num_quantizers() const {
  return static_cast<int>(std::floor(1000 * target_bandwidths.back() / (frame_rate() * 10)));
}

int EncodecConfig::QuantizersForBandwidth(double bandwidth_kbps) const {
  const double bits_per_quantizer = std::log2(codebook_size) * frame_rate();
  return std::max(1, static_cast<int>(std::floor(bandwidth_kbps * 1000 / bits_per_quantizer)));
}

int64_t EncodecConfig::segment_length() const {
  return chunk_length_s ? static_cast<int64_t>(*chunk_length_s * sampling_rate) : 0;
}

int64_t EncodecConfig::segment_stride() const {
  return std::max<int64_t>(1,
                           static_cast<int64_t>((1.0 - overlap.value_or(0.0)) * segment_length()));
}

absl::Status EncodecConfig::Validate() const {
  RETURN_IF_ERROR(kBounds.Positive("sampling_rate", sampling_rate, config_bounds::kMaxSampleRate));
  RETURN_IF_ERROR(kBounds.Positive("audio_channels", audio_channels, kMaxAudioChannels));
  RETURN_IF_ERROR(kBounds.Positive("hidden_size", hidden_size, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("num_filters", num_filters, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(
      kBounds.Positive("num_residual_layers", num_residual_layers, config_bounds::kMaxLayers));
  RETURN_IF_ERROR(kBounds.PositiveList("upsampling_ratios", upsampling_ratios,
                                       config_bounds::kMaxRatios, config_bounds::kMaxRatio));
  RETURN_IF_ERROR(kBounds.Positive("the hop (product of upsampling_ratios)", hop_length(),
                                   config_bounds::kMaxHop));
  RETURN_IF_ERROR(
      kBounds.Positive("the widest layer, num_filters << upsampling_ratios",
                       config_bounds::SaturatedWidth(num_filters, upsampling_ratios.size()),
                       config_bounds::kMaxChannels));
  RETURN_IF_ERROR(kBounds.Positive("kernel_size", kernel_size, config_bounds::kMaxKernel));
  RETURN_IF_ERROR(
      kBounds.Positive("last_kernel_size", last_kernel_size, config_bounds::kMaxKernel));
  RETURN_IF_ERROR(
      kBounds.Positive("residual_kernel_size", residual_kernel_size, config_bounds::kMaxKernel));
  RETURN_IF_ERROR(
      kBounds.Positive("dilation_growth_rate", dilation_growth_rate, config_bounds::kMaxRatio));
  RETURN_IF_ERROR(
      kBounds.Positive("the largest dilation, dilation_growth_rate ^ (num_residual_layers - 1)",
                       config_bounds::SaturatedPower(dilation_growth_rate, num_residual_layers - 1),
                       config_bounds::kMaxHop));
  RETURN_IF_ERROR(kBounds.Positive("compress", compress, config_bounds::kMaxChannels));
  RETURN_IF_ERROR(
      kBounds.Range<int64_t>("num_lstm_layers", num_lstm_layers, 0, config_bounds::kMaxLayers));
  RETURN_IF_ERROR(kBounds.Range("trim_right_ratio", trim_right_ratio, 0.0, 1.0));
  RETURN_IF_ERROR(
      kBounds.Positive("codebook_size", codebook_size, config_bounds::kMaxCodebookSize));
  if (codebook_dim != hidden_size) {
    return absl::UnimplementedError(absl::StrCat(
        "EnCodec codebook_dim (", codebook_dim, ") different from hidden_size (", hidden_size,
        ") is not supported: upstream models quantise the latent directly"));
  }
  if (norm_type != "weight_norm" && norm_type != "time_group_norm") {
    return absl::InvalidArgumentError(absl::StrCat("EnCodec norm_type '", norm_type,
                                                   "' is not one of weight_norm, time_group_norm"));
  }
  if (pad_mode != "reflect" && pad_mode != "constant") {
    return absl::InvalidArgumentError(
        absl::StrCat("EnCodec pad_mode '", pad_mode, "' is not one of reflect, constant"));
  }
  return ValidateRateAndSegments(*this);
}

CodecDescription EncodecConfig::Describe() const {
  CodecDescription d;
  d.family = "encodec";
  d.sample_rate = sampling_rate;
  d.channels = audio_channels;
  d.hop_length = hop_length();
  d.codebook_size = codebook_size;
  d.codebooks_per_level = {num_quantizers()};
  d.frame_rates = {static_cast<double>(sampling_rate) / hop_length()};
  d.level_strides = {1};
  d.bandwidths_kbps = target_bandwidths;
  d.segment_length = segment_length();
  d.has_scales = normalize;
  return d;
}

absl::StatusOr<EncodecConfig> EncodecPreset(const std::string& name) {
  EncodecConfig config;  // Defaults are encodec_24khz.
  if (name == "encodec_24khz") return config;
  if (name == "encodec_48khz") {
    config.target_bandwidths = {3.0, 6.0, 12.0, 24.0};
    config.sampling_rate = 48000;
    config.audio_channels = 2;
    config.normalize = true;
    config.chunk_length_s = 1.0;
    config.overlap = 0.01;
    config.norm_type = "time_group_norm";
    config.use_causal_conv = false;
    return config;
  }
  return absl::NotFoundError(
      absl::StrCat("no EnCodec preset '", name, "'; presets: encodec_24khz, encodec_48khz"));
}

absl::StatusOr<EncodecConfig> EncodecConfigFromJson(const nlohmann::json& json, EncodecConfig c) {
  if (!json.is_object()) return absl::InvalidArgumentError("EnCodec config is not a JSON object");
  const io::JsonFields fields(json, "EnCodec");
  RETURN_IF_ERROR(fields.Read("target_bandwidths", c.target_bandwidths));
  RETURN_IF_ERROR(fields.Read("sampling_rate", c.sampling_rate));
  RETURN_IF_ERROR(fields.Read("audio_channels", c.audio_channels));
  RETURN_IF_ERROR(fields.Read("normalize", c.normalize));
  RETURN_IF_ERROR(fields.ReadOptional("chunk_length_s", c.chunk_length_s));
  RETURN_IF_ERROR(fields.ReadOptional("overlap", c.overlap));
  RETURN_IF_ERROR(fields.Read("hidden_size", c.hidden_size));
  RETURN_IF_ERROR(fields.Read("num_filters", c.num_filters));
  RETURN_IF_ERROR(fields.Read("num_residual_layers", c.num_residual_layers));
  RETURN_IF_ERROR(fields.Read("upsampling_ratios", c.upsampling_ratios));
  RETURN_IF_ERROR(fields.Read("norm_type", c.norm_type));
  RETURN_IF_ERROR(fields.Read("kernel_size", c.kernel_size));
  RETURN_IF_ERROR(fields.Read("last_kernel_size", c.last_kernel_size));
  RETURN_IF_ERROR(fields.Read("residual_kernel_size", c.residual_kernel_size));
  RETURN_IF_ERROR(fields.Read("dilation_growth_rate", c.dilation_growth_rate));
  RETURN_IF_ERROR(fields.Read("use_causal_conv", c.use_causal_conv));
  RETURN_IF_ERROR(fields.Read("pad_mode", c.pad_mode));
  RETURN_IF_ERROR(fields.Read("compress", c.compress));
  RETURN_IF_ERROR(fields.Read("num_lstm_layers", c.num_lstm_layers));
  RETURN_IF_ERROR(fields.Read("trim_right_ratio", c.trim_right_ratio));
  RETURN_IF_ERROR(fields.Read("codebook_size", c.codebook_size));
  // HF leaves codebook_dim null to mean hidden_size.
  c.codebook_dim = c.hidden_size;
  RETURN_IF_ERROR(fields.Read("codebook_dim", c.codebook_dim));
  RETURN_IF_ERROR(fields.Read("use_conv_shortcut", c.use_conv_shortcut));
  RETURN_IF_ERROR(c.Validate());
  return c;
}

}  // namespace codec::encodec
