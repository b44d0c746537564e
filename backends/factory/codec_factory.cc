#include "backends/factory/codec_factory.h"

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/dac/dac_backend.h"
#include "backends/encodec/encodec_backend.h"
#include "backends/io/read_file.h"
#include "backends/mimi/mimi_backend.h"
#include "backends/runtime/compute_device.h"
#include "backends/snac/snac_backend.h"

namespace codec {
namespace {

namespace fs = std::filesystem;

using Creator = std::function<absl::StatusOr<std::shared_ptr<CodecBackend>>(
    std::string id, const std::string& preset, const nlohmann::json& config, std::string weights,
    at::Device device)>;

// The backend of a family whose config is `preset`'s (the family's
// defaults when empty) overridden by the request's JSON (EnCodec: Hugging
// Face's EncodecConfig; Mimi: upstream's mimi_config; SNAC: upstream's
// config.json). DAC's also takes the kwargs its checkpoint carries:
// DacBackend::Create.
template <typename Backend, typename Config, absl::StatusOr<Config> (*kPreset)(const std::string&),
          absl::StatusOr<Config> (*kFromJson)(const nlohmann::json&, Config)>
absl::StatusOr<std::shared_ptr<CodecBackend>> CreateFromPreset(std::string id,
                                                               const std::string& preset,
                                                               const nlohmann::json& config,
                                                               std::string weights,
                                                               at::Device device) {
  ASSIGN_OR_RETURN(Config merged, MergeConfig(preset, kPreset, kFromJson, {&config}));
  return std::make_shared<Backend>(std::move(id), std::move(merged), std::move(weights), device);
}

struct Family {
  std::vector<std::string> presets;
  Creator create;
};

const std::map<std::string, Family>& Families() {
  static const auto* kFamilies = new std::map<std::string, Family>{
      {"dac", {{"dac_16khz", "dac_24khz", "dac_44khz"}, &dac::DacBackend::Create}},
      {"encodec",
       {{"encodec_24khz", "encodec_48khz"},
        &CreateFromPreset<encodec::EncodecBackend, encodec::EncodecConfig, &encodec::EncodecPreset,
                          &encodec::EncodecConfigFromJson>}},
      {"mimi",
       {{"mimi_24khz", "mimi_24khz_moshi"},
        &CreateFromPreset<mimi::MimiBackend, mimi::MimiConfig, &mimi::MimiPreset,
                          &mimi::MimiConfigFromJson>}},
      {"snac",
       {{"snac_24khz", "snac_32khz", "snac_44khz"},
        &CreateFromPreset<snac::SnacBackend, snac::SnacConfig, &snac::SnacPreset,
                          &snac::SnacConfigFromJson>}},
  };
  return *kFamilies;
}

bool IsCheckpointFile(const fs::path& path) {
  static const char* kExtensions[] = {".th", ".pth", ".bin", ".pt", ".safetensors"};
  for (const char* ext : kExtensions) {
    if (path.extension() == ext) return true;
  }
  return false;
}

// The checkpoint file `weights` names, or the single one in that folder.
absl::StatusOr<std::string> ResolveCheckpoint(const std::string& weights) {
  std::error_code error;
  if (!fs::is_directory(weights, error)) {
    if (!fs::exists(weights, error)) {
      return absl::NotFoundError(absl::StrCat("weights '", weights, "' do not exist"));
    }
    return weights;
  }
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(weights, error)) {
    if (entry.is_regular_file() && IsCheckpointFile(entry.path())) {
      found.push_back(entry.path().string());
    }
  }
  if (found.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights folder '", weights,
                     "' must hold exactly one checkpoint (.th .pth .bin .pt "
                     ".safetensors), found ",
                     found.size(), found.empty() ? "" : ": ", absl::StrJoin(found, ", ")));
  }
  return found[0];
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, io::ReadFileBytes(path));
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat("config '", path, "' is not valid JSON"));
  }
  return json;
}

// The family and preset that `model` names.
absl::StatusOr<std::pair<const Family*, std::string>> FindModel(const std::string& model) {
  for (const auto& [name, family] : Families()) {
    if (model == name) return std::make_pair(&family, std::string());
    for (const std::string& preset : family.presets) {
      if (model == preset) return std::make_pair(&family, preset);
    }
  }
  std::vector<std::string> known;
  for (const auto& [name, family] : Families()) known.push_back(name);
  const std::vector<std::string> presets = ListPresets();
  known.insert(known.end(), presets.begin(), presets.end());
  return absl::NotFoundError(
      absl::StrCat("unknown model '", model, "'; known: ", absl::StrJoin(known, ", ")));
}

}  // namespace

std::string ModelIdOf(const BackendSpec& spec) { return spec.id.empty() ? spec.model : spec.id; }

std::vector<std::string> ListPresets() {
  std::vector<std::string> presets;
  for (const auto& [name, family] : Families()) {
    presets.insert(presets.end(), family.presets.begin(), family.presets.end());
  }
  return presets;
}

absl::StatusOr<std::shared_ptr<CodecBackend>> CreateBackend(const BackendSpec& spec) {
  ASSIGN_OR_RETURN(auto model, FindModel(spec.model));
  RETURN_IF_ERROR(CheckDevice(spec.device));
  if (spec.device != "cpu") ApplyTf32Choice();
  std::string checkpoint;
  std::string config_path = spec.config;
  if (!spec.weights.empty()) {
    ASSIGN_OR_RETURN(checkpoint, ResolveCheckpoint(spec.weights));
    const fs::path beside = fs::path(checkpoint).parent_path() / "config.json";
    std::error_code error;
    if (config_path.empty() && fs::exists(beside, error)) config_path = beside.string();
  }
  nlohmann::json config;
  if (!config_path.empty()) {
    ASSIGN_OR_RETURN(config, ReadJsonFile(config_path));
  }
  return model.first->create(ModelIdOf(spec), model.second, config, checkpoint,
                             at::Device(spec.device));
}

}  // namespace codec
