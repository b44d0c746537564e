#include "tests/testing/mimi_hf_layout.h"

#include <ATen/ATen.h>

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace codec::testing {
namespace {

// The conversion script's renames, in its order; each applies to a name
// still containing its left side after the ones before it.
constexpr std::pair<const char*, const char*> kRenames[] = {
    {"conv.conv.conv", "conv"},
    {"convtr.convtr.convtr", "conv"},
    {"conv.conv", "conv"},
    {"convtr.convtr", "conv"},
    {"quantizer.rvq_first.vq", "quantizer.semantic_residual_vector_quantizer"},
    {"quantizer.rvq_first", "quantizer.semantic_residual_vector_quantizer"},
    {"quantizer.rvq_rest.vq", "quantizer.acoustic_residual_vector_quantizer"},
    {"quantizer.rvq_rest", "quantizer.acoustic_residual_vector_quantizer"},
    {"_codebook", "codebook"},
    {"_initialized", "initialized"},
    {"embedding_sum", "embed_sum"},
    {"encoder.model", "encoder.layers"},
    {"decoder.model", "decoder.layers"},
    {"encoder_transformer.transformer", "encoder_transformer"},
    {"decoder_transformer.transformer", "decoder_transformer"},
    {"linear1", "mlp.fc1"},
    {"linear2", "mlp.fc2"},
    {"self_attn.out_proj", "self_attn.o_proj"},
    {"norm1", "input_layernorm"},
    {"norm2", "post_attention_layernorm"},
    {"layer_scale_1", "self_attn_layer_scale"},
    {"layer_scale_2", "mlp_layer_scale"},
};

std::string Renamed(std::string name) {
  for (const auto& [from, to] : kRenames) {
    const size_t at = name.find(from);
    if (at != std::string::npos) name.replace(at, std::string(from).size(), to);
  }
  return name;
}

// The script's permute(w, n_heads, dim1): w.view(n_heads, dim1 / n_heads / 2,
// 2, dim2).transpose(1, 2).reshape(dim1, dim2).
at::Tensor SlicedRotaryRows(const at::Tensor& w, int64_t heads) {
  return w.view({heads, w.size(0) / heads / 2, 2, w.size(1)})
      .transpose(1, 2)
      .reshape({w.size(0), w.size(1)});
}

}  // namespace

io::StateDict MimiStateDictToHuggingFace(const io::StateDict& published,
                                         const mimi::MimiConfig& config) {
  io::StateDict converted;
  for (const auto& [name, tensor] : published) {
    const std::string renamed = Renamed(name);
    if (!absl::StrContains(renamed, "in_proj_weight")) {
      converted[renamed] = tensor;
      continue;
    }
    const int64_t d = tensor.size(0) / 3;
    const std::string layer = renamed.substr(0, renamed.find("in_proj_weight"));
    converted[layer + "q_proj.weight"] =
        SlicedRotaryRows(tensor.narrow(0, 0, d), config.transformer.num_heads).contiguous();
    converted[layer + "k_proj.weight"] =
        SlicedRotaryRows(tensor.narrow(0, d, d), config.transformer.num_heads).contiguous();
    converted[layer + "v_proj.weight"] = tensor.narrow(0, 2 * d, d).contiguous();
  }
  return converted;
}

nlohmann::json MimiHuggingFaceConfig(const mimi::MimiConfig& c) {
  return {{"model_type", "mimi"},
          {"sampling_rate", c.sample_rate},
          {"frame_rate", c.frame_rate},
          {"audio_channels", c.channels},
          {"hidden_size", c.dimension},
          {"num_filters", c.n_filters},
          {"num_residual_layers", c.n_residual_layers},
          {"upsampling_ratios", c.ratios},
          {"kernel_size", c.kernel_size},
          {"last_kernel_size", c.last_kernel_size},
          {"residual_kernel_size", c.residual_kernel_size},
          {"dilation_growth_rate", c.dilation_base},
          {"use_causal_conv", true},
          {"pad_mode", "constant"},
          {"compress", c.compress},
          {"trim_right_ratio", 1.0},
          {"codebook_size", c.bins},
          {"codebook_dim", c.quantizer_dimension},
          {"num_quantizers", c.quantizer_n_q},
          {"use_conv_shortcut", !c.true_skip},
          {"vector_quantization_hidden_dimension", c.quantizer_dimension},
          {"num_semantic_quantizers", 1},
          {"upsample_groups", c.dimension},
          {"num_hidden_layers", c.transformer.num_layers},
          {"intermediate_size", c.transformer.dim_feedforward},
          {"hidden_act", "gelu"},
          {"num_attention_heads", c.transformer.num_heads},
          {"num_key_value_heads", c.transformer.num_heads},
          {"head_dim", c.transformer.d_model / c.transformer.num_heads},
          {"max_position_embeddings", 8000},
          {"norm_eps", 1e-5},
          {"rope_theta", c.transformer.max_period},
          {"sliding_window", c.transformer.context},
          {"attention_dropout", 0.0},
          {"layer_scale_initial_scale", c.transformer.layer_scale},
          {"attention_bias", false}};
}

}  // namespace codec::testing
