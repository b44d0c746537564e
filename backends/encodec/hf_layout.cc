#include "backends/encodec/hf_layout.h"

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"

namespace codec::encodec {

bool IsHuggingFaceLayout(const io::StateDict& tensors) {
  for (const auto& [key, tensor] : tensors) {
    if (absl::StartsWith(key, "encoder.layers.") || absl::StartsWith(key, "quantizer.layers.")) {
      return true;
    }
  }
  return false;
}

std::string HuggingFaceName(const std::string& name) {
  return absl::StrReplaceAll(name, {{"quantizer.vq.layers.", "quantizer.layers."},
                                    {"._codebook", ".codebook"},
                                    {"encoder.model.", "encoder.layers."},
                                    {"decoder.model.", "decoder.layers."},
                                    {".conv.conv", ".conv"},
                                    {".convtr.convtr", ".conv"},
                                    {".conv.norm", ".norm"},
                                    {".convtr.norm", ".norm"}});
}

}  // namespace codec::encodec
