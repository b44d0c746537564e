#include "backends/encodec/hf_layout.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

namespace codec::encodec {
namespace {

// Upstream module path -> Hugging Face module path.
std::string HuggingFacePath(const std::string& upstream) {
  return absl::StrReplaceAll(upstream, {{"quantizer.vq.layers.", "quantizer.layers."},
                                        {"._codebook", ".codebook"},
                                        {"encoder.model.", "encoder.layers."},
                                        {"decoder.model.", "decoder.layers."},
                                        {".conv.conv", ".conv"},
                                        {".convtr.convtr", ".conv"},
                                        {".conv.norm", ".norm"},
                                        {".convtr.norm", ".norm"}});
}

// Splits a tensor name into its module path and leaf ("weight_g", or
// "parametrizations.weight.original0" for parametrized weight norm).
std::pair<std::string, std::string> SplitName(const std::string& name) {
  size_t split = name.find(".parametrizations.");
  if (split == std::string::npos) split = name.rfind('.');
  return {name.substr(0, split), name.substr(split)};
}

}  // namespace

io::StateDict FromHuggingFaceLayout(io::StateDict tensors, const torch::nn::Module& model) {
  bool hf_layout = false;
  for (const auto& [key, tensor] : tensors) {
    hf_layout |=
        absl::StartsWith(key, "encoder.layers.") || absl::StartsWith(key, "quantizer.layers.");
  }
  if (!hf_layout) return tensors;

  std::map<std::string, std::string> upstream_by_hf;
  auto add = [&](const std::string& name) {
    const std::string path = SplitName(name).first;
    upstream_by_hf[HuggingFacePath(path)] = path;
  };
  for (const auto& item : model.named_parameters(/*recurse=*/true)) add(item.key());
  for (const auto& item : model.named_buffers(/*recurse=*/true)) add(item.key());

  io::StateDict renamed;
  for (auto& [key, tensor] : tensors) {
    const auto [path, leaf] = SplitName(key);
    auto it = upstream_by_hf.find(path);
    renamed[it == upstream_by_hf.end() ? key : it->second + leaf] = std::move(tensor);
  }
  return renamed;
}

}  // namespace codec::encodec
