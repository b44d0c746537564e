#ifndef SERVER_RPC_ACCESS_POLICY_H_
#define SERVER_RPC_ACCESS_POLICY_H_

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace codec::server {

// Who may call what, by bearer token (`authorization: Bearer <token>`).
//
// Two sets of tokens: `use` tokens may stream and list models, `admin`
// tokens may also Load and Unload. With no tokens at all every call is
// allowed (development on loopback); with use tokens only, any known token
// may do anything; with admin tokens, Load and Unload need one. A call
// without a known token is UNAUTHENTICATED, a known token asking for more
// than it may is PERMISSION_DENIED. Tokens are compared in constant time.
// Health and reflection are not checked (probes carry no token).
class AccessPolicy {
 public:
  enum class Action { kUse, kAdminister };

  AccessPolicy() = default;
  AccessPolicy(std::vector<std::string> use_tokens, std::vector<std::string> admin_tokens);

  // Reads token files: one token per line, blank lines and lines starting
  // with '#' ignored; an empty path is no tokens. A named file without a
  // token is INVALID_ARGUMENT (it would silently open the server). Errors
  // name the file by its flag (--auth_token_file, --admin_token_file).
  static absl::StatusOr<AccessPolicy> FromTokenFiles(const std::string& use_tokens_file,
                                                     const std::string& admin_tokens_file);

  bool authenticates() const { return !use_tokens_.empty() || !admin_tokens_.empty(); }

  grpc::Status Check(const grpc::ServerContext& context, Action action) const;

 private:
  std::vector<std::string> use_tokens_;
  std::vector<std::string> admin_tokens_;
};

}  // namespace codec::server

#endif  // SERVER_RPC_ACCESS_POLICY_H_
