#ifndef SERVER_SERVING_MODEL_REPOSITORY_H_
#define SERVER_SERVING_MODEL_REPOSITORY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace codec::server {

// The folder whose files clients may load as weights, by relative paths.
//
// A path is resolved with every symlink followed, and what it really names
// (and, for a folder, everything directly inside it, which the backends may
// read) must lie inside the repository's real path: a symlink in the
// repository that points elsewhere is refused, so are `..` and absolute
// paths. The check runs when Load names the path; whoever can change the
// repository's links afterwards is trusted (the operator), remote callers
// are not. Statuses never carry the server's own paths: what a caller sees
// names the path it sent, and Redact takes the repository's location out of
// any later error before it leaves the server.
class ModelRepository {
 public:
  // `root` may be empty: then no weights can be loaded.
  explicit ModelRepository(std::string root);

  // The real path of `relative` inside the repository ("" for ""):
  // INVALID_ARGUMENT for an absolute path or one that climbs out, NOT_FOUND
  // when nothing is there, PERMISSION_DENIED when it (or an entry of the
  // folder it names) really lies outside. The refused real path is logged.
  absl::StatusOr<std::string> Resolve(const std::string& relative) const;

  // `status` with the repository's location taken out of its message, so
  // that paths read as the caller named them.
  absl::Status Redact(const absl::Status& status) const;

 private:
  std::string root_;       // As given.
  std::string real_root_;  // Symlinks resolved; empty when root_ is not a folder.
};

}  // namespace codec::server

#endif  // SERVER_SERVING_MODEL_REPOSITORY_H_
