#ifndef BACKENDS_MIMI_MIMI_CONFIG_H_
#define BACKENDS_MIMI_MIMI_CONFIG_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "backends/encodec/encodec_config.h"

namespace codec::mimi {

// Mimi's projected transformer (upstream's `_transformer_kwargs`): the
// fields a model may set; the rest (causal, conv layout, LayerNorm, RoPE,
// no gating) are what every Mimi uses, and a config asking otherwise is
// refused.
struct MimiTransformerConfig {
  int d_model = 512;
  int num_heads = 8;
  int num_layers = 8;
  int dim_feedforward = 2048;
  int context = 250;  // Past steps a query sees, its own included.
  double max_period = 10000;
  double layer_scale = 0.01;  // Present or not: its value lives in the weights.
  // Steps that share one attention window, set by the group's last step.
  // 1: each query sees the `context` steps up to itself, as upstream's
  // offline encode and decode. 2 (moshi's own streaming, one frame of two
  // steps per call into a ring cache of `context` entries): a frame's first
  // query sees one past step fewer.
  int window_steps = 1;
};

// Mimi hyper-parameters, grouped as upstream's `mimi_config` dict
// (sample_rate, channels, frame_rate, seanet, quantizer, transformer).
struct MimiConfig {
  int sample_rate = 24000;
  int channels = 1;
  double frame_rate = 12.5;
  // SEANet (upstream's `_seanet_kwargs`).
  int dimension = 512;  // The latent width.
  int n_filters = 64;
  int n_residual_layers = 1;
  std::vector<int> ratios = {8, 6, 5, 4};
  int kernel_size = 7;
  int residual_kernel_size = 3;
  int last_kernel_size = 3;
  int dilation_base = 2;
  int compress = 2;
  bool true_skip = true;
  // Split residual VQ: 1 semantic level + n_q - 1 acoustic ones.
  int quantizer_dimension = 256;
  int quantizer_n_q = 32;  // Levels the weights hold.
  int bins = 2048;         // Entries per codebook.
  int default_n_q = 8;     // As upstream's get_mimi.
  MimiTransformerConfig transformer;

  int hop_length() const;          // Samples per code frame.
  int encoder_hop_length() const;  // Samples per SEANet frame (the product of ratios).
  // The frames a code frame downsamples: encoder frame rate / frame_rate.
  int downsample_stride() const;
  // The bit rate of one level: log2(bins) bits per code frame.
  double level_kbps() const;

  // INVALID_ARGUMENT naming the field when a value is out of range.
  absl::Status Validate() const;
  // The SEANet part, in the terms of EnCodec's SEANet, which Mimi's is.
  encodec::EncodecConfig Seanet() const;
};

// The published tokenizer: "mimi_24khz".
absl::StatusOr<MimiConfig> MimiPreset(const std::string& name);

// Overrides the fields of `base` present in `json`: upstream's mimi_config
// layout, or transformers' MimiConfig (recognised by its model_type); type
// errors and unsupported choices name the field.
absl::StatusOr<MimiConfig> MimiConfigFromJson(const nlohmann::json& json, MimiConfig base);

}  // namespace codec::mimi

#endif  // BACKENDS_MIMI_MIMI_CONFIG_H_
