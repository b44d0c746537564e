#ifndef SERVER_RPC_GRPC_STATUS_H_
#define SERVER_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace codec::server {

// The one conversion between the two status types, each way: the same code
// (gRPC's codes are absl's) and message.
grpc::Status ToGrpc(const absl::Status& status);
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace codec::server

#endif  // SERVER_RPC_GRPC_STATUS_H_
