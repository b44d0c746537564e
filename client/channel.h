#ifndef CLIENT_CHANNEL_H_
#define CLIENT_CHANNEL_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace codec::client {

// How a client reaches codec_server: plaintext when no file is given, TLS
// trusting `root_certs` (PEM; the system's roots when empty) when any is,
// with a client certificate and key for mutual TLS.
struct ChannelSecurity {
  bool tls = false;
  std::string root_certs_file;
  std::string cert_file;
  std::string key_file;
};

// A channel to `target`; the files' read errors, or INVALID_ARGUMENT for a
// certificate without its key (or the reverse).
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& target,
                                                           const ChannelSecurity& security);

}  // namespace codec::client

#endif  // CLIENT_CHANNEL_H_
