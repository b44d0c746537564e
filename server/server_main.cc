// codec_server: hosts codec models over gRPC (codec.v1 CodecService and
// ModelService, grpc.health.v1.Health, server reflection).
//
//   codec_server --listen=0.0.0.0:50051 --model_repository=/models
//       --models=tts=snac_24khz:snac_24khz,dia=dac_44khz:dac44/weights.pth@cpu

#include <ATen/Parallel.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <torch/version.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "backends/compute_device.h"
#include "backends/cpu_block_cache.h"
#include "backends/nn/conv_precision.h"
#include "backends/nn/stream_slots.h"
#include "server/access_policy.h"
#include "server/codec_service.h"
#include "server/listener_credentials.h"
#include "server/metrics_endpoint.h"
#include "server/model_service.h"
#include "server/registry_collector.h"
#include "server/server_log.h"
#include "server/server_metrics.h"

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
          "CPU convolutions in fp32, or bf16 (on CPUs with AVX-512 BF16: convolutions about "
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

absl::Status LoadStartupModels(ModelRegistry& registry) {
  for (const std::string& entry : absl::GetFlag(FLAGS_models)) {
    std::pair<std::string, std::string> id_rest = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    std::string devices;
    if (const size_t at = id_rest.second.rfind('@'); at != std::string::npos) {
      devices = absl::StrReplaceAll(id_rest.second.substr(at + 1), {{"+", ","}});
      id_rest.second.resize(at);
    }
    std::pair<std::string, std::string> preset_weights =
        absl::StrSplit(id_rest.second, absl::MaxSplits(':', 1));
    BackendSpec spec{
        .id = id_rest.first, .model = preset_weights.first, .weights = preset_weights.second};
    const absl::Status status = registry.Load(spec, devices);
    LogEvent(absl::StrFormat("startup Load %s: %s", entry, status.ToString()));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

// A server on `address` with `services` (plus health and reflection), or
// nullptr after saying why it cannot listen.
std::unique_ptr<grpc::Server> Listen(const char* what, const std::string& address,
                                     const std::shared_ptr<grpc::ServerCredentials>& credentials,
                                     std::initializer_list<grpc::Service*> services) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, credentials, &port);
  const int max_bytes = absl::GetFlag(FLAGS_max_message_mb) << 20;
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  if (const int rpc_threads = absl::GetFlag(FLAGS_max_rpc_threads); rpc_threads > 0) {
    grpc::ResourceQuota quota(absl::StrCat("codec_server ", what, "listener"));
    quota.SetMaxThreads(rpc_threads);
    builder.SetResourceQuota(quota);
  }
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    LogEvent(absl::StrFormat("cannot listen on %s", address));
    return nullptr;
  }
  LogEvent(absl::StrFormat("%slistening on port %d", what, port));
  return server;
}

int Run() {
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  at::set_num_threads(threads);  // Per model call.
  // SIGTERM / SIGINT are taken by a waiting thread, not async handlers.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<LogFormat> log_format = ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!log_format.ok()) {
    LogEvent(absl::StrCat("--log_format: ", log_format.status().ToString()));
    return 1;
  }
  SetLogFormat(*log_format);
  AllowTf32(absl::GetFlag(FLAGS_allow_tf32));
  if (const int slots = absl::GetFlag(FLAGS_stream_slots); slots < 0 || slots > 65536) {
    LogEvent(absl::StrCat("--stream_slots is ", slots, "; it must be 0 (the default) to 65536"));
    return 1;
  } else {
    nn::SetStreamSlots(slots);
  }
  if (const absl::Status precision = nn::SetConvPrecision(absl::GetFlag(FLAGS_precision));
      !precision.ok()) {
    LogEvent(absl::StrCat("--precision: ", precision.ToString()));
    return 1;
  }
  int concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  if (concurrent_calls <= 0) concurrent_calls = CallsPerMachine(threads);
  absl::StatusOr<std::unique_ptr<DevicePool>> devices =
      DevicePool::Create(absl::GetFlag(FLAGS_devices), concurrent_calls);
  if (!devices.ok()) {
    LogEvent(absl::StrFormat("--devices: %s", devices.status().ToString()));
    return 1;
  }
  LogEvent(absl::StrFormat(
      "devices %s; %d CPU pass(es) at a time, %d intra-op thread(s) each; batches of up to %d "
      "steps",
      (*devices)->Names(), concurrent_calls, threads, absl::GetFlag(FLAGS_max_batch)));
  ServerMetrics metrics(TORCH_VERSION);
  ModelRegistry registry(
      absl::GetFlag(FLAGS_model_repository), CreateBackend, absl::GetFlag(FLAGS_max_models),
      ServingOptions{
          .devices = *std::move(devices),
          .executor = {.max_batch = std::max(1, absl::GetFlag(FLAGS_max_batch)),
                       .batch_window = absl::Milliseconds(absl::GetFlag(FLAGS_batch_window_ms)),
                       .max_queued = absl::GetFlag(FLAGS_max_queued_steps)},
          .metrics = &metrics});
  const auto registry_metrics = std::make_shared<RegistryCollector>(registry);
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  if (const std::string address = absl::GetFlag(FLAGS_metrics_listen); !address.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(address, {metrics.registry(), registry_metrics});
    if (!endpoint.ok()) {
      LogEvent(std::string(endpoint.status().message()));
      return 1;
    }
    metrics_endpoint = *std::move(endpoint);
    LogEvent(absl::StrFormat("metrics on port %d", metrics_endpoint->port()));
  }
  if (!LoadStartupModels(registry).ok()) return 1;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ListenerCredentials({.cert = absl::GetFlag(FLAGS_tls_cert),
                           .key = absl::GetFlag(FLAGS_tls_key),
                           .client_ca = absl::GetFlag(FLAGS_tls_client_ca)});
  absl::StatusOr<AccessPolicy> access = AccessPolicy::FromTokenFiles(
      absl::GetFlag(FLAGS_auth_token_file), absl::GetFlag(FLAGS_admin_token_file));
  for (const absl::Status& status : {credentials.status(), access.status()}) {
    if (!status.ok()) {
      LogEvent(status.ToString());
      return 1;
    }
  }
  LogEvent(absl::StrFormat(
      "%s, %s",
      absl::GetFlag(FLAGS_tls_cert).empty()
          ? "WARNING: plaintext listeners (no --tls_cert), for loopback development only"
      : absl::GetFlag(FLAGS_tls_client_ca).empty() ? "TLS"
                                                   : "mutual TLS",
      access->authenticates() ? "bearer tokens required" : "no authentication"));
  const std::string admin_listen = absl::GetFlag(FLAGS_admin_listen);
  CodecServiceImpl codec_service(
      registry,
      StreamLimits{.max_stream_seconds = absl::GetFlag(FLAGS_max_stream_seconds),
                   .max_stream_memory_bytes = absl::GetFlag(FLAGS_max_stream_memory_mb) << 20,
                   .idle_timeout = absl::Seconds(absl::GetFlag(FLAGS_stream_idle_timeout_seconds))},
      *access, &metrics);
  ModelServiceImpl model_service(
      registry, *access,
      admin_listen.empty() ? Administration::kServed : Administration::kElsewhere, &metrics);
  ModelServiceImpl admin_service(registry, *access, Administration::kServed, &metrics);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  std::unique_ptr<grpc::Server> server =
      Listen("", absl::GetFlag(FLAGS_listen), *credentials, {&codec_service, &model_service});
  if (!server) return 1;
  for (const char* service : {"codec.v1.CodecService", "codec.v1.ModelService"}) {
    server->GetHealthCheckService()->SetServingStatus(service, true);
  }
  std::unique_ptr<grpc::Server> admin_server;
  if (!admin_listen.empty()) {
    admin_server = Listen("admin ", admin_listen, *credentials, {&admin_service});
    if (!admin_server) return 1;
    admin_server->GetHealthCheckService()->SetServingStatus("codec.v1.ModelService", true);
  }

  std::thread waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    LogEvent(absl::StrFormat("signal %d, draining", signal));
    const auto deadline =
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(
            static_cast<int64_t>(absl::GetFlag(FLAGS_shutdown_grace_seconds) * 1000));
    for (grpc::Server* each : {server.get(), admin_server.get()}) {
      if (each == nullptr) continue;
      each->GetHealthCheckService()->SetServingStatus(false);
      each->Shutdown(deadline);
    }
  });
  server->Wait();
  if (admin_server) admin_server->Wait();
  waiter.join();
  LogEvent("stopped");
  return 0;
}

}  // namespace
}  // namespace codec::server

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  if (const absl::Status cache =
          codec::InstallCpuBlockCache(absl::GetFlag(FLAGS_cpu_block_cache_mb));
      !cache.ok()) {
    codec::server::LogEvent(absl::StrCat("--cpu_block_cache_mb: ", cache.ToString()));
    return 1;
  }
  return codec::server::Run();
}
