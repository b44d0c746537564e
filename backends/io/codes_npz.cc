#include "backends/io/codes_npz.h"

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/io/npz.h"

namespace codec::io {
namespace {

absl::StatusOr<int64_t> ReadScalar(const NpzFile& npz, const std::string& key,
                                   const std::string& path) {
  auto it = npz.find(key);
  if (it == npz.end()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no '", key, "' array"));
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> values, AsInt64(it->second));
  if (values.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": '", key, "' is not a scalar"));
  }
  return values[0];
}

absl::StatusOr<CodeLevel> ReadLevel(const NpyArray& array, const std::string& key,
                                    const std::string& path) {
  if (array.shape.empty() || array.shape.size() > 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": '", key, "' must be [n_q, frames] or [frames]"));
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> values, AsInt64(array));
  CodeLevel level;
  level.num_codebooks = array.shape.size() == 2 ? static_cast<int>(array.shape[0]) : 1;
  level.frames = array.shape.back();
  level.values.reserve(values.size());
  for (int64_t v : values) {
    if (v < 0 || v > UINT32_MAX) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": '", key, "' holds the invalid code ", v));
    }
    level.values.push_back(static_cast<uint32_t>(v));
  }
  return level;
}

NpyArray Int64Scalar(int64_t value) { return NpyFromInt64({}, {value}); }

}  // namespace

absl::Status WriteCodesNpz(const std::string& path, const Codes& codes,
                           const CodecDescription& description) {
  NpzFile npz;
  const bool multi_level = codes.levels.size() > 1;
  for (size_t l = 0; l < codes.levels.size(); ++l) {
    const CodeLevel& level = codes.levels[l];
    std::vector<int64_t> shape = {level.num_codebooks, level.frames};
    if (multi_level) shape = {level.frames};
    npz[multi_level ? absl::StrCat("codes_", l) : "codes"] =
        NpyFromInt64(shape, std::vector<int64_t>(level.values.begin(), level.values.end()));
  }
  if (!codes.scales.empty()) {
    npz["scales"] = NpyFromFloat32({static_cast<int64_t>(codes.scales.size())}, codes.scales);
  }
  npz["sample_rate"] = Int64Scalar(description.sample_rate);
  npz["num_samples"] = Int64Scalar(codes.num_samples);
  npz["channels"] = Int64Scalar(description.channels);
  return WriteNpz(path, npz);
}

absl::StatusOr<Codes> CodesFromNpz(const NpzFile& npz, const std::string& path) {
  Codes codes;
  if (auto it = npz.find("codes"); it != npz.end()) {
    ASSIGN_OR_RETURN(CodeLevel level, ReadLevel(it->second, "codes", path));
    codes.levels.push_back(std::move(level));
  }
  for (int l = 0;; ++l) {
    const std::string key = absl::StrCat("codes_", l);
    auto it = npz.find(key);
    if (it == npz.end()) break;
    ASSIGN_OR_RETURN(CodeLevel level, ReadLevel(it->second, key, path));
    codes.levels.push_back(std::move(level));
  }
  if (codes.levels.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no 'codes' or 'codes_0' array"));
  }
  if (auto it = npz.find("scales"); it != npz.end()) {
    ASSIGN_OR_RETURN(codes.scales, AsFloat32(it->second));
  }
  if (npz.count("num_samples")) {
    ASSIGN_OR_RETURN(codes.num_samples, ReadScalar(npz, "num_samples", path));
  }
  return codes;
}

absl::StatusOr<Codes> ReadCodesNpz(const std::string& path, const CodecDescription& description) {
  ASSIGN_OR_RETURN(NpzFile npz, ReadNpz(path));
  ASSIGN_OR_RETURN(Codes codes, CodesFromNpz(npz, path));
  if (codes.num_samples <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no positive 'num_samples' scalar"));
  }
  ASSIGN_OR_RETURN(int64_t sample_rate, ReadScalar(npz, "sample_rate", path));
  if (sample_rate != description.sample_rate) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": codes were made at ", sample_rate,
                                                   " Hz, but the model runs at ",
                                                   description.sample_rate, " Hz"));
  }
  if (auto it = npz.find("channels"); it != npz.end()) {
    ASSIGN_OR_RETURN(int64_t channels, ReadScalar(npz, "channels", path));
    if (channels != description.channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": codes are for ", channels, " channel(s), the model has ", description.channels));
    }
  }
  return codes;
}

}  // namespace codec::io
