#include "backends/io/checkpoint.h"

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/io/read_file.h"
#include "backends/io/safetensors.h"
#include "backends/io/torch_checkpoint.h"
#include "backends/io/zip_reader.h"

namespace codec::io {
namespace {

bool StartsWith(const std::string& bytes, std::initializer_list<uint8_t> prefix) {
  if (bytes.size() < prefix.size()) return false;
  size_t i = 0;
  for (uint8_t b : prefix) {
    if (static_cast<uint8_t>(bytes[i++]) != b) return false;
  }
  return true;
}

bool IsTorchZip(const std::string& bytes) { return StartsWith(bytes, {'P', 'K', 0x03, 0x04}); }

template <typename T>
absl::StatusOr<T> PrefixPath(const std::string& path, absl::StatusOr<T> result) {
  if (result.ok()) return result;
  return absl::Status(result.status().code(), absl::StrCat(path, ": ", result.status().message()));
}

}  // namespace

absl::StatusOr<nlohmann::json> LoadCheckpointConfig(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  if (!IsTorchZip(bytes)) return nlohmann::json();
  return PrefixPath(path, ParseTorchCheckpointConfig(std::move(bytes)));
}

absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  absl::StatusOr<Checkpoint> checkpoint;
  if (IsTorchZip(bytes)) {
    checkpoint = ParseTorchCheckpoint(std::move(bytes));
  } else if (StartsWith(bytes, {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20})) {
    checkpoint = absl::UnimplementedError(
        "legacy (pre-1.6, non-zip) torch.save format; re-save it with a current torch.save");
  } else if (bytes.size() >= 9 && bytes[8] == '{') {
    checkpoint = ParseSafetensors(bytes);
  } else {
    checkpoint = absl::DataLossError(
        "not a checkpoint: neither a zip-format torch.save file nor safetensors");
  }
  return PrefixPath(path, std::move(checkpoint));
}

}  // namespace codec::io
