#include "server/rpc/listener_credentials.h"

#include <grpcpp/security/server_credentials.h>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "backends/io/read_file.h"

namespace codec::server {
namespace {

// The PEM file `flag` names; its errors name the flag.
absl::StatusOr<std::string> ReadPem(absl::string_view flag, const std::string& path) {
  absl::StatusOr<std::string> pem = io::ReadFileBytes(path, io::kMostCredentialFileBytes);
  if (pem.ok()) return pem;
  return absl::Status(pem.status().code(), absl::StrCat("--", flag, ": ", pem.status().message()));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(
    const TlsFiles& files) {
  if (files.cert.empty() != files.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  if (files.cert.empty()) {
    if (!files.client_ca.empty()) {
      return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem("tls_cert", files.cert));
  ASSIGN_OR_RETURN(pair.private_key, ReadPem("tls_key", files.key));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.client_ca.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem("tls_client_ca", files.client_ca));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace codec::server
