#include "backends/io/npz.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/io/read_file.h"
#include "backends/io/zip_reader.h"
#include "backends/io/zip_writer.h"

namespace codec::io {
namespace {

constexpr absl::string_view kSuffix = ".npy";

}  // namespace

absl::StatusOr<NpzFile> ParseNpz(std::string bytes) {
  ASSIGN_OR_RETURN(const ZipReader zip, ZipReader::Open(std::move(bytes)));
  NpzFile arrays;
  for (const std::string& entry : zip.names()) {
    if (!absl::EndsWith(entry, kSuffix)) continue;
    const std::string name = entry.substr(0, entry.size() - kSuffix.size());
    ASSIGN_OR_RETURN(const std::string array, zip.Read(entry));
    ASSIGN_OR_RETURN(arrays[name], ParseNpy(array, name));
  }
  return arrays;
}

absl::StatusOr<NpzFile> ReadNpz(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path));
  absl::StatusOr<NpzFile> arrays = ParseNpz(std::move(bytes));
  if (!arrays.ok()) {
    return absl::Status(arrays.status().code(),
                        absl::StrCat(path, ": ", arrays.status().message()));
  }
  return arrays;
}

absl::Status WriteNpz(const std::string& path, const NpzFile& arrays) {
  ZipWriter zip;
  for (const auto& [name, array] : arrays)
    zip.Add(absl::StrCat(name, kSuffix), SerializeNpy(array));
  ASSIGN_OR_RETURN(const std::string bytes, std::move(zip).Finish());
  return WriteFileBytes(path, bytes);
}

}  // namespace codec::io
