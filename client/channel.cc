#include "client/channel.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "backends/core/status_macros.h"
#include "backends/io/read_file.h"

namespace codec::client {

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& target,
                                                           const ChannelSecurity& security) {
  if (security.cert_file.empty() != security.key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate and its key go together");
  }
  const bool tls = security.tls || !security.root_certs_file.empty() || !security.cert_file.empty();
  if (!tls) return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::SslCredentialsOptions options;
  if (!security.root_certs_file.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs,
                     io::ReadFileBytes(security.root_certs_file, io::kMostCredentialFileBytes));
  }
  if (!security.cert_file.empty()) {
    ASSIGN_OR_RETURN(options.pem_cert_chain,
                     io::ReadFileBytes(security.cert_file, io::kMostCredentialFileBytes));
    ASSIGN_OR_RETURN(options.pem_private_key,
                     io::ReadFileBytes(security.key_file, io::kMostCredentialFileBytes));
  }
  return grpc::CreateChannel(target, grpc::SslCredentials(options));
}

}  // namespace codec::client
