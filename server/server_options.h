#ifndef SERVER_SERVER_OPTIONS_H_
#define SERVER_SERVER_OPTIONS_H_

#include <grpcpp/security/server_credentials.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/factory/codec_factory.h"
#include "backends/kernels/conv_precision.h"
#include "server/observability/server_log.h"
#include "server/rpc/access_policy.h"
#include "server/rpc/codec_service.h"
#include "server/serving/step_executor.h"

namespace codec::server {

// A model codec_server loads at startup: one entry of --models,
// "id=preset[:weights][@devices]".
struct StartupModel {
  std::string entry;  // As the flag wrote it, for the log.
  BackendSpec spec;
  std::string devices;  // As LoadRequest.device ("" for the default).
};

// Everything codec_server's flags say, each value range-checked and each
// file a flag names read (TLS, tokens, the model repository), so that a
// mistyped flag stops the server before any model loads.
struct ServerOptions {
  std::string listen;
  std::string admin_listen;    // Empty: no admin listener.
  std::string metrics_listen;  // Empty: no metrics endpoint.
  std::string model_repository;
  std::vector<StartupModel> models;
  int max_models = 0;

  int threads = 1;           // Intra-op threads per model call.
  int concurrent_calls = 1;  // CPU passes at a time (0 resolved).
  std::string devices;
  bool allow_tf32 = false;
  nn::ConvPrecision precision = nn::ConvPrecision::kFloat32;
  int stream_slots = 0;
  StepExecutor::Options executor;

  StreamLimits limits;
  int max_message_bytes = 0;
  int max_rpc_threads = 0;  // 0: no limit.
  absl::Duration shutdown_grace;
  LogFormat log_format = LogFormat::kText;
  int64_t cpu_block_cache_mb = 0;

  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::string transport;  // "plaintext", "TLS" or "mutual TLS", for the log.
  AccessPolicy access;
};

// The options of the process's flags (absl::ParseCommandLine first).
// INVALID_ARGUMENT (or the file's read error) prefixed with the flag that
// is wrong ("--tls_key: ...").
absl::StatusOr<ServerOptions> ServerOptionsFromFlags();

}  // namespace codec::server

#endif  // SERVER_SERVER_OPTIONS_H_
