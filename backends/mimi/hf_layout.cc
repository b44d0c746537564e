#include "backends/mimi/hf_layout.h"

#include <ATen/ATen.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "backends/core/status_macros.h"

namespace codec::mimi {
namespace {

constexpr absl::string_view kSemantic = "quantizer.semantic_residual_vector_quantizer.";
constexpr absl::string_view kAcoustic = "quantizer.acoustic_residual_vector_quantizer.";

// The decoder's transposed convs, by their index in its layer list: after
// the first conv, each ratio is an ELU, the transposed conv and its
// residual blocks.
bool IsDecoderTransposedConv(int index, const MimiConfig& config) {
  const int per_ratio = 2 + config.n_residual_layers;
  return index >= 2 && (index - 2) % per_ratio == 0 &&
         (index - 2) / per_ratio < static_cast<int>(config.ratios.size());
}

// "encoder.layers.<i>...conv.<p>" -> "encoder.model.<i>...conv.conv.<p>",
// a decoder's transposed conv "convtr.convtr.<p>".
std::string SeanetName(const std::string& name, const MimiConfig& config) {
  const bool decoder = absl::StartsWith(name, "decoder.layers.");
  std::vector<std::string> part = absl::StrSplit(name, '.');
  part[1] = "model";
  int index = 0;
  const bool top_conv = part.size() == 5 && part[3] == "conv" && absl::SimpleAtoi(part[2], &index);
  if (decoder && top_conv && IsDecoderTransposedConv(index, config)) {
    return absl::StrCat(part[0], ".model.", part[2], ".convtr.convtr.", part[4]);
  }
  if (part.size() >= 2 && part[part.size() - 2] == "conv") part[part.size() - 2] = "conv.conv";
  return absl::StrJoin(part, ".");
}

std::string TransformerName(const std::string& name) {
  const std::string prefix =
      absl::StartsWith(name, "encoder_") ? "encoder_transformer." : "decoder_transformer.";
  std::string rest = name.substr(prefix.size());
  rest = absl::StrReplaceAll(rest, {{"self_attn.o_proj", "self_attn.out_proj"},
                                    {"input_layernorm", "norm1"},
                                    {"post_attention_layernorm", "norm2"},
                                    {"mlp.fc1", "linear1"},
                                    {"mlp.fc2", "linear2"},
                                    {"self_attn_layer_scale", "layer_scale_1"},
                                    {"mlp_layer_scale", "layer_scale_2"}});
  return prefix + "transformer." + rest;
}

std::string QuantizerName(const std::string& name) {
  const bool semantic = absl::StartsWith(name, kSemantic);
  std::string rest = name.substr(semantic ? kSemantic.size() : kAcoustic.size());
  const std::string half = semantic ? "quantizer.rvq_first." : "quantizer.rvq_rest.";
  if (!absl::StartsWith(rest, "layers.")) return half + rest;  // input_proj, output_proj
  rest = absl::StrReplaceAll(rest, {{".codebook.initialized", "._codebook._initialized"},
                                    {".codebook.embed_sum", "._codebook.embedding_sum"},
                                    {".codebook.cluster_usage", "._codebook.cluster_usage"}});
  return half + "vq." + rest;
}

// Rows of a q or k projection from halves back to interleaved pairs: row
// h hd + j hd/2 + i holds what moshi keeps in row h hd + 2 i + j.
at::Tensor InterleavedRows(const at::Tensor& weight, int64_t heads) {
  const int64_t head_dim = weight.size(0) / heads;
  return weight.view({heads, 2, head_dim / 2, weight.size(1)})
      .transpose(1, 2)
      .reshape({weight.size(0), weight.size(1)});
}

// Stacks each layer's q, k and v projections into its in_proj_weight.
absl::Status FuseProjections(io::StateDict& dict, const std::set<std::string>& layers,
                             const MimiConfig& config) {
  const int64_t d = config.transformer.d_model;
  for (const std::string& layer : layers) {
    std::vector<at::Tensor> parts;
    for (const char* which : {"q_proj", "k_proj", "v_proj"}) {
      const std::string name = absl::StrCat(layer, ".self_attn.", which, ".weight");
      auto it = dict.find(name);
      if (it == dict.end() || it->second.dim() != 2 || it->second.size(0) != d ||
          it->second.size(1) != d) {
        return absl::InvalidArgumentError(
            absl::StrCat("Hugging Face Mimi checkpoint: ", name, " must be a [", d, ", ", d,
                         "] projection beside its layer's q_proj, k_proj and v_proj"));
      }
      parts.push_back(it->second);
      dict.erase(it);
    }
    parts[0] = InterleavedRows(parts[0], config.transformer.num_heads);
    parts[1] = InterleavedRows(parts[1], config.transformer.num_heads);
    dict[TransformerName(layer) + ".self_attn.in_proj_weight"] = at::cat(parts, 0);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsHuggingFaceLayout(const io::StateDict& tensors) {
  for (const auto& [name, tensor] : tensors) {
    if (absl::StartsWith(name, kSemantic) || absl::StartsWith(name, "encoder.layers.") ||
        absl::StrContains(name, ".self_attn.q_proj.")) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<io::StateDict> PublishedFromHuggingFace(const io::StateDict& tensors,
                                                       const MimiConfig& config) {
  io::StateDict dict;
  std::set<std::string> attention_layers;
  for (const auto& [name, tensor] : tensors) {
    if (absl::StrContains(name, ".self_attn.q_proj.") ||
        absl::StrContains(name, ".self_attn.k_proj.") ||
        absl::StrContains(name, ".self_attn.v_proj.")) {
      attention_layers.insert(name.substr(0, name.find(".self_attn.")));
      dict[name] = tensor;  // Fused below.
    } else if (absl::StartsWith(name, "encoder.layers.") ||
               absl::StartsWith(name, "decoder.layers.")) {
      dict[SeanetName(name, config)] = tensor;
    } else if (absl::StartsWith(name, "encoder_transformer.layers.") ||
               absl::StartsWith(name, "decoder_transformer.layers.")) {
      dict[TransformerName(name)] = tensor;
    } else if (absl::StartsWith(name, kSemantic) || absl::StartsWith(name, kAcoustic)) {
      dict[QuantizerName(name)] = tensor;
    } else if (name == "downsample.conv.weight") {
      dict["downsample.conv.conv.conv.weight"] = tensor;
    } else if (name == "upsample.conv.weight") {
      dict["upsample.convtr.convtr.convtr.weight"] = tensor;
    } else {
      dict[name] = tensor;
    }
  }
  RETURN_IF_ERROR(FuseProjections(dict, attention_layers, config));
  return dict;
}

}  // namespace codec::mimi
