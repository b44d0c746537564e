#ifndef BACKENDS_ENCODEC_ENCODEC_CONFIG_H_
#define BACKENDS_ENCODEC_ENCODEC_CONFIG_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/core/codec_description.h"

namespace codec::encodec {

// EnCodec hyper-parameters, named as in Hugging Face's EncodecConfig.
struct EncodecConfig {
  std::vector<double> target_bandwidths = {1.5, 3.0, 6.0, 12.0, 24.0};
  int sampling_rate = 24000;
  int audio_channels = 1;
  bool normalize = false;
  std::optional<double> chunk_length_s;  // Segment length; none = whole input.
  std::optional<double> overlap;         // Share of a segment that overlaps the next.
  int hidden_size = 128;                 // Latent dimension.
  int num_filters = 32;
  int num_residual_layers = 1;
  std::vector<int> upsampling_ratios = {8, 5, 4, 2};
  std::string norm_type = "weight_norm";  // Or "time_group_norm".
  int kernel_size = 7;
  int last_kernel_size = 7;
  int residual_kernel_size = 3;
  int dilation_growth_rate = 2;
  bool use_causal_conv = true;
  std::string pad_mode = "reflect";
  int compress = 2;
  int num_lstm_layers = 2;
  double trim_right_ratio = 1.0;
  int codebook_size = 1024;
  int codebook_dim = 128;
  bool use_conv_shortcut = true;

  int hop_length() const;
  int frame_rate() const;      // ceil(sampling_rate / hop_length), as upstream.
  int num_quantizers() const;  // Stages needed for the largest bandwidth.
  // Quantisers used at `bandwidth_kbps` (one of target_bandwidths).
  int QuantizersForBandwidth(double bandwidth_kbps) const;
  // 0 when the model does not segment its input.
  int64_t segment_length() const;
  int64_t segment_stride() const;

  // INVALID_ARGUMENT naming the field when a value is out of range.
  absl::Status Validate() const;
  CodecDescription Describe() const;
};

// The upstream models: "encodec_24khz" and "encodec_48khz".
absl::StatusOr<EncodecConfig> EncodecPreset(const std::string& name);

// Overrides the fields of `base` present in `json` (HF EncodecConfig
// names; unknown fields are ignored); type errors name the field.
absl::StatusOr<EncodecConfig> EncodecConfigFromJson(const nlohmann::json& json, EncodecConfig base);

}  // namespace codec::encodec

#endif  // BACKENDS_ENCODEC_ENCODEC_CONFIG_H_
