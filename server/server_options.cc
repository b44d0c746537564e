#include "server/server_options.h"

#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "backends/core/config_bounds.h"
#include "backends/core/status_macros.h"
#include "server/rpc/listener_credentials.h"
#include "server/serving/compute_slots.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "Address to serve on.");
ABSL_FLAG(std::string, model_repository, "", "Folder that Load weights paths are relative to.");
ABSL_FLAG(std::vector<std::string>, models, {},
          "Models to load at start: id=preset[:weights][@devices],... (weights inside the "
          "repository; devices as LoadRequest.device, '+' between several).");
ABSL_FLAG(double, max_stream_seconds, 0,
          "Longest audio one stream may carry (a policy; streams hold bounded state, so 0, "
          "no limit, is the default).");
ABSL_FLAG(int, max_message_mb, 64, "Largest gRPC message accepted.");
ABSL_FLAG(int, max_models, 16, "Most models loaded at once; a Load beyond is RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_stream_memory_mb, 4096,
          "Memory all streams together may hold (each its session's state and the message in "
          "hand); a stream that would go over is RESOURCE_EXHAUSTED. 0: no bound.");
ABSL_FLAG(int64_t, cpu_block_cache_mb, 2048,
          "Freed CPU tensor blocks of 1 MiB or more kept for the next model call (the first "
          "touch of fresh memory costs more than many layers' work). 0: libtorch's allocator "
          "alone.");
ABSL_FLAG(double, stream_idle_timeout_seconds, 300,
          "A stream whose client sends or reads nothing for this long is cancelled (its log "
          "line says why). 0: never.");
ABSL_FLAG(int, threads, static_cast<int>(std::thread::hardware_concurrency()),
          "Intra-op threads per model call.");
ABSL_FLAG(int, max_concurrent_calls, 0,
          "Most forward passes running at once on the CPU (shared among CPU partitions); more "
          "wait for a turn. 0: cores / --threads (at least 1), so that passes never "
          "oversubscribe the CPU.");
ABSL_FLAG(std::string, devices, "cpu",
          "Devices models run on: cpu, CPU partitions cpu:0,cpu:1 (each its own device), GPUs "
          "cuda:0,cuda:1, or all (every GPU, else the CPU).");
ABSL_FLAG(bool, allow_tf32, false,
          "Let GPU matrix products and convolutions round through TF32: faster, but no longer "
          "within the reference's tolerance.");
ABSL_FLAG(std::string, precision, "fp32",
          "CPU convolutions (and Mimi's transformer projections) in fp32, or bf16 (on CPUs "
          "with AVX-512 BF16: convolutions about "
          "twice as fast, decodes within 30 dB SI-SDR of fp32's, codes that differ; "
          "docs/BENCHMARKS.md).");
ABSL_FLAG(int, max_batch, 16,
          "Most stream steps of one model replica run as one batched forward pass; 1: no "
          "batching.");
ABSL_FLAG(int, stream_slots, 0,
          "Most open streams per model replica and direction, each holding its state in a "
          "slot of the replica's stacked state; a stream beyond is RESOURCE_EXHAUSTED. 0: 64 "
          "on a CPU, 256 on a GPU.");
ABSL_FLAG(double, batch_window_ms, 2,
          "How long a step waits for other streams' steps to join its batch (not at all once "
          "every stream of the replica has one waiting).");
ABSL_FLAG(int, max_queued_steps, 1024,
          "Most stream steps waiting per model replica; more are RESOURCE_EXHAUSTED. 0: no "
          "bound.");
ABSL_FLAG(int, max_rpc_threads, 256,
          "Most threads serving RPCs (each open stream holds one); calls beyond it get "
          "RESOURCE_EXHAUSTED. 0: no limit.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the listeners; with --tls_key, they serve TLS only.");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA that client certificates must chain to: mutual TLS, clients without a valid "
          "certificate are refused.");
ABSL_FLAG(std::string, auth_token_file, "",
          "Bearer tokens (one per line) of clients that may stream and list models; calls "
          "without a known token are UNAUTHENTICATED. Empty: no authentication.");
ABSL_FLAG(std::string, admin_token_file, "",
          "Bearer tokens (one per line) that may also Load and Unload; others get "
          "PERMISSION_DENIED.");
ABSL_FLAG(std::string, admin_listen, "",
          "Serve ModelService's Load and Unload only on this second address (with health); the "
          "main address then refuses them. Empty: one listener serves everything.");
ABSL_FLAG(double, shutdown_grace_seconds, 30, "How long SIGTERM waits for streams to finish.");
ABSL_FLAG(std::string, log_format, "text",
          "text: one 'codec_server: ...' line per event; json: one JSON object per line (time, "
          "message and, for requests, request id, peer, rpc, model, sizes, durations, status).");
ABSL_FLAG(std::string, metrics_listen, "",
          "Serve Prometheus metrics over HTTP at /metrics on this address (e.g. 0.0.0.0:9090; "
          "port 0: any free port, logged). Empty: no metrics endpoint.");

namespace codec::server {
namespace {

constexpr config_bounds::FieldBounds kFlags("codec_server");

// `status` with the flag it is about named first.
absl::Status NameFlag(absl::string_view flag, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat("--", flag, ": ", status.message()));
}

template <typename T>
absl::StatusOr<T> NameFlagOr(absl::string_view flag, absl::StatusOr<T> value) {
  if (!value.ok()) return NameFlag(flag, value.status());
  return value;
}

absl::StatusOr<std::vector<StartupModel>> ParseStartupModels(
    const std::vector<std::string>& entries) {
  std::vector<StartupModel> models;
  for (const std::string& entry : entries) {
    std::pair<std::string, std::string> id_rest = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    StartupModel model{.entry = entry};
    if (const size_t at = id_rest.second.rfind('@'); at != std::string::npos) {
      model.devices = absl::StrReplaceAll(id_rest.second.substr(at + 1), {{"+", ","}});
      id_rest.second.resize(at);
    }
    std::pair<std::string, std::string> preset_weights =
        absl::StrSplit(id_rest.second, absl::MaxSplits(':', 1));
    if (id_rest.first.empty() || preset_weights.first.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--models: '", entry, "' is not id=preset[:weights][@devices]"));
    }
    model.spec = BackendSpec{
        .id = id_rest.first, .model = preset_weights.first, .weights = preset_weights.second};
    models.push_back(std::move(model));
  }
  return models;
}

absl::Status ReadModels(ServerOptions& o) {
  o.model_repository = absl::GetFlag(FLAGS_model_repository);
  std::error_code error;
  if (!o.model_repository.empty() && !std::filesystem::is_directory(o.model_repository, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--model_repository: '", o.model_repository, "' is not a folder"));
  }
  ASSIGN_OR_RETURN(o.models, ParseStartupModels(absl::GetFlag(FLAGS_models)));
  o.max_models = absl::GetFlag(FLAGS_max_models);
  return kFlags.Range("--max_models", o.max_models, 0, 1 << 16);
}

absl::Status ReadCompute(ServerOptions& o) {
  o.threads = absl::GetFlag(FLAGS_threads);
  RETURN_IF_ERROR(kFlags.Range("--threads", o.threads, 1, 1 << 12));
  o.concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  RETURN_IF_ERROR(kFlags.Range("--max_concurrent_calls", o.concurrent_calls, 0, 1 << 12));
  if (o.concurrent_calls == 0) o.concurrent_calls = CallsPerMachine(o.threads);
  o.devices = absl::GetFlag(FLAGS_devices);
  o.allow_tf32 = absl::GetFlag(FLAGS_allow_tf32);
  ASSIGN_OR_RETURN(o.precision,
                   NameFlagOr("precision", nn::ParseConvPrecision(absl::GetFlag(FLAGS_precision))));
  o.stream_slots = absl::GetFlag(FLAGS_stream_slots);
  RETURN_IF_ERROR(kFlags.Range("--stream_slots", o.stream_slots, 0, 1 << 16));
  o.executor.max_batch = absl::GetFlag(FLAGS_max_batch);
  RETURN_IF_ERROR(kFlags.Range("--max_batch", o.executor.max_batch, 1, 1 << 16));
  const double window_ms = absl::GetFlag(FLAGS_batch_window_ms);
  RETURN_IF_ERROR(kFlags.Range("--batch_window_ms", window_ms, 0.0, 60e3));
  o.executor.batch_window = absl::Milliseconds(window_ms);
  o.executor.max_queued = absl::GetFlag(FLAGS_max_queued_steps);
  return kFlags.Range("--max_queued_steps", o.executor.max_queued, 0, 1 << 24);
}

absl::Status ReadLimits(ServerOptions& o) {
  o.limits.max_stream_seconds = absl::GetFlag(FLAGS_max_stream_seconds);
  RETURN_IF_ERROR(kFlags.Range("--max_stream_seconds", o.limits.max_stream_seconds, 0.0, 1e9));
  const int64_t memory_mb = absl::GetFlag(FLAGS_max_stream_memory_mb);
  RETURN_IF_ERROR(kFlags.Range<int64_t>("--max_stream_memory_mb", memory_mb, 0, int64_t{1} << 30));
  o.limits.max_stream_memory_bytes = memory_mb << 20;
  const double idle_seconds = absl::GetFlag(FLAGS_stream_idle_timeout_seconds);
  RETURN_IF_ERROR(kFlags.Range("--stream_idle_timeout_seconds", idle_seconds, 0.0, 1e7));
  o.limits.idle_timeout = absl::Seconds(idle_seconds);
  const int message_mb = absl::GetFlag(FLAGS_max_message_mb);
  // gRPC takes the size as an int of bytes.
  RETURN_IF_ERROR(kFlags.Range("--max_message_mb", message_mb, 1, 2047));
  o.max_message_bytes = message_mb << 20;
  o.max_rpc_threads = absl::GetFlag(FLAGS_max_rpc_threads);
  RETURN_IF_ERROR(kFlags.Range("--max_rpc_threads", o.max_rpc_threads, 0, 1 << 16));
  const double grace_seconds = absl::GetFlag(FLAGS_shutdown_grace_seconds);
  RETURN_IF_ERROR(kFlags.Range("--shutdown_grace_seconds", grace_seconds, 0.0, 86400.0));
  o.shutdown_grace = absl::Seconds(grace_seconds);
  return absl::OkStatus();
}

absl::Status ReadSecurity(ServerOptions& o) {
  // Both read each file once and name its flag in their errors.
  const TlsFiles tls{.cert = absl::GetFlag(FLAGS_tls_cert),
                     .key = absl::GetFlag(FLAGS_tls_key),
                     .client_ca = absl::GetFlag(FLAGS_tls_client_ca)};
  ASSIGN_OR_RETURN(o.credentials, ListenerCredentials(tls));
  ASSIGN_OR_RETURN(o.access, AccessPolicy::FromTokenFiles(absl::GetFlag(FLAGS_auth_token_file),
                                                          absl::GetFlag(FLAGS_admin_token_file)));
  o.transport = tls.cert.empty() ? "plaintext" : tls.client_ca.empty() ? "TLS" : "mutual TLS";
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerOptions> ServerOptionsFromFlags() {
  ServerOptions o;
  ASSIGN_OR_RETURN(o.log_format,
                   NameFlagOr("log_format", ParseLogFormat(absl::GetFlag(FLAGS_log_format))));
  o.listen = absl::GetFlag(FLAGS_listen);
  o.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.cpu_block_cache_mb = absl::GetFlag(FLAGS_cpu_block_cache_mb);
  RETURN_IF_ERROR(
      kFlags.Range<int64_t>("--cpu_block_cache_mb", o.cpu_block_cache_mb, 0, int64_t{1} << 30));
  RETURN_IF_ERROR(ReadModels(o));
  RETURN_IF_ERROR(ReadCompute(o));
  RETURN_IF_ERROR(ReadLimits(o));
  RETURN_IF_ERROR(ReadSecurity(o));
  return o;
}

}  // namespace codec::server
