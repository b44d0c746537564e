#include "server/listener_credentials.h"

#include <grpcpp/security/server_credentials.h>

#include "backends/core/status_macros.h"
#include "backends/io/read_file.h"

namespace codec::server {

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
  ASSIGN_OR_RETURN(pair.cert_chain, io::ReadFileBytes(files.cert, io::kMostCredentialFileBytes));
  ASSIGN_OR_RETURN(pair.private_key, io::ReadFileBytes(files.key, io::kMostCredentialFileBytes));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.client_ca.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs,
                     io::ReadFileBytes(files.client_ca, io::kMostCredentialFileBytes));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace codec::server
