#ifndef SERVER_RPC_LISTENER_CREDENTIALS_H_
#define SERVER_RPC_LISTENER_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace codec::server {

// PEM files of a listener's TLS: its certificate chain and key, and the CA
// that client certificates must chain to (mutual TLS) when given.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string client_ca;
};

// TLS credentials from `files`, or insecure ones when no certificate is
// given. INVALID_ARGUMENT for a key without a certificate (or the reverse),
// or a client CA without either; the files' own read errors otherwise,
// naming the flag (--tls_cert, --tls_key, --tls_client_ca).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ListenerCredentials(const TlsFiles& files);

}  // namespace codec::server

#endif  // SERVER_RPC_LISTENER_CREDENTIALS_H_
