#include "server/serving/model_repository.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "server/observability/server_log.h"

namespace codec::server {
namespace {

namespace fs = std::filesystem;

// Whether real path `path` is `root` or below it.
bool IsInside(const std::string& path, const std::string& root) {
  return path == root || absl::StartsWith(path, absl::StrCat(root, "/"));
}

}  // namespace

ModelRepository::ModelRepository(std::string root) : root_(std::move(root)) {
  std::error_code error;
  if (!root_.empty() && fs::is_directory(root_, error)) {
    real_root_ = fs::canonical(root_, error).string();
  }
}

absl::StatusOr<std::string> ModelRepository::Resolve(const std::string& relative) const {
  if (relative.empty()) return std::string();
  const fs::path normal = fs::path(relative).lexically_normal();
  if (real_root_.empty() || normal.is_absolute() || absl::StartsWith(normal.string(), "..")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights '", relative, "' must be a relative path inside the model repository"));
  }
  std::error_code error;
  const fs::path real = fs::canonical(fs::path(real_root_) / normal, error);
  if (error) {
    return absl::NotFoundError(
        absl::StrCat("weights '", relative, "' are not in the model repository"));
  }
  auto refuse = [&](const fs::path& outside) {
    LogEvent(absl::StrFormat("weights '%s' refused: %s lies outside the repository %s",
                             absl::CHexEscape(relative), outside.string(), real_root_));
    return absl::PermissionDeniedError(
        absl::StrCat("weights '", relative, "' lead outside the model repository"));
  };
  if (!IsInside(real.string(), real_root_)) return refuse(real);
  if (fs::is_directory(real, error)) {
    for (fs::directory_iterator it(real, error), end; !error && it != end; it.increment(error)) {
      std::error_code entry_error;
      const fs::path entry = fs::canonical(it->path(), entry_error);
      if (!entry_error && !IsInside(entry.string(), real_root_)) return refuse(entry);
    }
  }
  return real.string();
}

absl::Status ModelRepository::Redact(const absl::Status& status) const {
  if (status.ok() || root_.empty()) return status;
  std::string message(status.message());
  for (const std::string& root : {real_root_, root_}) {
    if (!root.empty()) absl::StrReplaceAll({{absl::StrCat(root, "/"), ""}}, &message);
  }
  return absl::Status(status.code(), message);
}

}  // namespace codec::server
