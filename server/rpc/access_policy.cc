#include "server/rpc/access_policy.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "backends/io/read_file.h"

namespace codec::server {
namespace {

// Equal strings, in time that depends only on the lengths.
bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

// Whether `token` is one of `tokens`; every candidate is compared, so the
// time does not tell which one matched.
bool Contains(const std::vector<std::string>& tokens, const std::string& token) {
  bool found = false;
  for (const std::string& candidate : tokens) found |= ConstantTimeEquals(candidate, token);
  return found;
}

// The tokens of the file `flag` names; its errors name the flag.
absl::StatusOr<std::vector<std::string>> ReadTokens(absl::string_view flag,
                                                    const std::string& path) {
  std::vector<std::string> tokens;
  if (path.empty()) return tokens;
  absl::StatusOr<std::string> text = io::ReadFileBytes(path, io::kMostCredentialFileBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("--", flag, ": ", text.status().message()));
  }
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty() && line[0] != '#') tokens.emplace_back(line);
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": token file ", path, " holds no token"));
  }
  return tokens;
}

}  // namespace

AccessPolicy::AccessPolicy(std::vector<std::string> use_tokens,
                           std::vector<std::string> admin_tokens)
    : use_tokens_(std::move(use_tokens)), admin_tokens_(std::move(admin_tokens)) {}

absl::StatusOr<AccessPolicy> AccessPolicy::FromTokenFiles(const std::string& use_tokens_file,
                                                          const std::string& admin_tokens_file) {
  absl::StatusOr<std::vector<std::string>> use = ReadTokens("auth_token_file", use_tokens_file);
  if (!use.ok()) return use.status();
  absl::StatusOr<std::vector<std::string>> admin =
      ReadTokens("admin_token_file", admin_tokens_file);
  if (!admin.ok()) return admin.status();
  return AccessPolicy(*std::move(use), *std::move(admin));
}

grpc::Status AccessPolicy::Check(const grpc::ServerContext& context, Action action) const {
  const bool needs_admin = action == Action::kAdminister && !admin_tokens_.empty();
  if (!authenticates() || (use_tokens_.empty() && !needs_admin)) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  std::string token;
  if (header != metadata.end()) {
    const absl::string_view value(header->second.data(), header->second.size());
    if (absl::StartsWith(value, "Bearer ")) token = std::string(value.substr(7));
  }
  if (token.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "this server needs 'authorization: Bearer <token>'");
  }
  const bool admin = Contains(admin_tokens_, token);
  if (!admin && !Contains(use_tokens_, token)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the bearer token is not known");
  }
  if (needs_admin && !admin) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "Load and Unload need an admin token");
  }
  return grpc::Status::OK;
}

}  // namespace codec::server
