#include "tests/testing/dac_hf_layout.h"

#include <ATen/ATen.h>

#include <functional>
#include <regex>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "tests/testing/manifest.h"

namespace codec::testing {
namespace {

using Match = std::smatch;
using Rename = std::function<std::string(const Match&)>;

int Number(const Match& m, int group) { return std::stoi(m[group].str()); }

// The part after the layer's path: "weight_g", "bias", "alpha".
std::string Leaf(const Match& m) { return m[m.size() - 1].str(); }

// The residual unit's layers by their index in upstream's Sequential.
std::string UnitLayer(const Match& m, int group) {
  static const char* const kLayers[] = {"snake1", "conv1", "snake2", "conv2"};
  return kLayers[Number(m, group)];
}

// convert_dac_checkpoint.py's MAPPING_ENCODER, MAPPING_DECODER and
// MAPPING_QUANTIZER, with the blocks after the last stride (5 and 6 there,
// for four strides) counted from `config`.
std::vector<std::pair<std::regex, Rename>> Patterns(const dac::DacConfig& config) {
  const std::string enc_snake = std::to_string(config.encoder_rates.size() + 1);
  const std::string enc_conv = std::to_string(config.encoder_rates.size() + 2);
  const std::string dec_snake = std::to_string(config.decoder_rates.size() + 1);
  const std::string dec_conv = std::to_string(config.decoder_rates.size() + 2);
  std::vector<std::pair<std::regex, Rename>> patterns;
  auto add = [&](const std::string& pattern, Rename rename) {
    patterns.emplace_back(std::regex("^" + pattern + "\\.(.+)$"), std::move(rename));
  };
  add(R"(encoder\.block\.0)", [](const Match& m) { return "encoder.conv1." + Leaf(m); });
  add(R"(encoder\.block\.)" + enc_snake,
      [](const Match& m) { return "encoder.snake1." + Leaf(m); });
  add(R"(encoder\.block\.)" + enc_conv, [](const Match& m) { return "encoder.conv2." + Leaf(m); });
  add(R"(encoder\.block\.(\d+)\.block\.(\d+)\.block\.(\d+))", [](const Match& m) {
    return absl::StrCat("encoder.block.", Number(m, 1) - 1, ".res_unit", Number(m, 2) + 1, ".",
                        UnitLayer(m, 3), ".", Leaf(m));
  });
  add(R"(encoder\.block\.(\d+)\.block\.3)", [](const Match& m) {
    return absl::StrCat("encoder.block.", Number(m, 1) - 1, ".snake1.", Leaf(m));
  });
  add(R"(encoder\.block\.(\d+)\.block\.4)", [](const Match& m) {
    return absl::StrCat("encoder.block.", Number(m, 1) - 1, ".conv1.", Leaf(m));
  });
  add(R"(decoder\.model\.0)", [](const Match& m) { return "decoder.conv1." + Leaf(m); });
  add(R"(decoder\.model\.)" + dec_snake,
      [](const Match& m) { return "decoder.snake1." + Leaf(m); });
  add(R"(decoder\.model\.)" + dec_conv, [](const Match& m) { return "decoder.conv2." + Leaf(m); });
  add(R"(decoder\.model\.(\d+)\.block\.0)", [](const Match& m) {
    return absl::StrCat("decoder.block.", Number(m, 1) - 1, ".snake1.", Leaf(m));
  });
  add(R"(decoder\.model\.(\d+)\.block\.1)", [](const Match& m) {
    return absl::StrCat("decoder.block.", Number(m, 1) - 1, ".conv_t1.", Leaf(m));
  });
  add(R"(decoder\.model\.(\d+)\.block\.(\d+)\.block\.(\d+))", [](const Match& m) {
    return absl::StrCat("decoder.block.", Number(m, 1) - 1, ".res_unit", Number(m, 2) - 1, ".",
                        UnitLayer(m, 3), ".", Leaf(m));
  });
  add(R"(quantizer\.quantizers\.\d+)", [](const Match& m) { return m[0].str(); });
  return patterns;
}

}  // namespace

absl::StatusOr<io::StateDict> DacStateDictToHuggingFace(const io::StateDict& upstream,
                                                        const dac::DacConfig& config,
                                                        WeightNormForm form) {
  const auto patterns = Patterns(config);
  io::StateDict renamed;
  for (const auto& [key, tensor] : upstream) {
    std::string name;
    for (const auto& [pattern, rename] : patterns) {
      Match match;
      if (std::regex_match(key, match, pattern)) {
        name = rename(match);
        break;
      }
    }
    if (name.empty()) return absl::NotFoundError(absl::StrCat("no DacModel name for ", key));
    renamed[name] = tensor;
  }
  if (form == WeightNormForm::kPairs) return renamed;

  io::StateDict out;
  for (const auto& [key, tensor] : renamed) {
    if (absl::EndsWith(key, ".weight_v")) continue;  // Handled with its gain.
    if (!absl::EndsWith(key, ".weight_g")) {
      out[key] = tensor;
      continue;
    }
    const std::string base = key.substr(0, key.size() - strlen(".weight_g"));
    const at::Tensor& v = renamed.at(base + ".weight_v");
    if (form == WeightNormForm::kParametrizations) {
      out[base + ".parametrizations.weight.original0"] = tensor;
      out[base + ".parametrizations.weight.original1"] = v;
    } else {
      out[base + ".weight"] = at::_weight_norm(v, tensor, /*dim=*/0);
    }
  }
  return out;
}

nlohmann::json DacHuggingFaceConfig(const dac::DacConfig& config) {
  return {
      {"architectures", {"DacModel"}},
      {"model_type", "dac"},
      {"encoder_hidden_size", config.encoder_dim},
      {"downsampling_ratios", config.encoder_rates},
      {"decoder_hidden_size", config.decoder_dim},
      {"upsampling_ratios", config.decoder_rates},
      {"hidden_size", config.latent_channels()},
      {"hop_length", config.hop_length()},
      {"n_codebooks", config.n_codebooks},
      {"codebook_size", config.codebook_size},
      {"codebook_dim", config.codebook_dim},
      {"quantizer_dropout", 0.0},
      {"commitment_loss_weight", 0.25},
      {"codebook_loss_weight", 1.0},
      {"sampling_rate", config.sample_rate},
      {"torch_dtype", "float32"},
  };
}

absl::Status WriteDacHuggingFaceFolder(const std::string& upstream_path, WeightNormForm form,
                                       const std::string& dir) {
  ASSIGN_OR_RETURN(io::Checkpoint upstream, io::LoadCheckpoint(upstream_path));
  ASSIGN_OR_RETURN(dac::DacConfig config, dac::DacConfigFromJson(upstream.config, {}));
  ASSIGN_OR_RETURN(io::StateDict tensors,
                   DacStateDictToHuggingFace(upstream.tensors, config, form));
  return WriteModelFolder(tensors, DacHuggingFaceConfig(config), dir);
}

}  // namespace codec::testing
