#include "tests/testing/manifest.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "backends/core/status_macros.h"
#include "backends/io/safetensors.h"
#include "backends/io/zip_writer.h"

namespace codec::testing {

namespace {

// The preset whose published checkpoint `preset` loads: a variant that only
// computes differently shares its base's manifest.
std::string CheckpointPreset(const std::string& preset) {
  return preset == "mimi_24khz_moshi" ? "mimi_24khz" : preset;
}

}  // namespace

absl::StatusOr<io::StateDict> StateDictFromManifest(const std::string& preset) {
  const std::string path =
      absl::StrCat("tests/fixtures/manifests/", CheckpointPreset(preset), ".tsv");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no manifest ", path));
  io::StateDict dict;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (fields.size() != 3) return absl::DataLossError(absl::StrCat("bad manifest line: ", line));
    std::vector<int64_t> shape;
    if (!fields[1].empty()) {
      for (absl::string_view dim : absl::StrSplit(fields[1], 'x')) {
        int64_t value = 0;
        if (!absl::SimpleAtoi(dim, &value)) {
          return absl::DataLossError(absl::StrCat("bad shape in manifest line: ", line));
        }
        shape.push_back(value);
      }
    }
    const at::ScalarType dtype = fields[2] == "int64" ? at::kLong : at::kFloat;
    dict[fields[0]] =
        dtype == at::kLong ? at::zeros(shape, dtype) : at::randn(shape, dtype).abs() * 0.1 + 0.01;
  }
  return dict;
}

absl::Status WriteSafetensorsFile(const io::StateDict& tensors, const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, io::SerializeSafetensors(tensors));
  return io::WriteFileBytes(path, bytes);
}

absl::Status WriteModelFolder(const io::StateDict& tensors, const nlohmann::json& config,
                              const std::string& dir) {
  std::filesystem::create_directories(dir);
  RETURN_IF_ERROR(WriteSafetensorsFile(tensors, dir + "/model.safetensors"));
  if (config.is_null()) return absl::OkStatus();
  return io::WriteFileBytes(dir + "/config.json", config.dump(2));
}

absl::StatusOr<std::string> WriteManifestCheckpoint(const std::string& preset,
                                                    const std::string& dir) {
  ASSIGN_OR_RETURN(io::StateDict tensors, StateDictFromManifest(preset));
  std::filesystem::create_directories(std::filesystem::path(dir) / preset);
  const std::string relative = preset + "/model.safetensors";
  RETURN_IF_ERROR(WriteSafetensorsFile(tensors, (std::filesystem::path(dir) / relative).string()));
  return relative;
}

}  // namespace codec::testing
