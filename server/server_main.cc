// codec_server: hosts codec models over gRPC (codec.v1 CodecService and
// ModelService, grpc.health.v1.Health, server reflection).
//
//   codec_server --listen=0.0.0.0:50051 --model_repository=/models
//       --models=tts=snac_24khz:snac_24khz,dia=dac_44khz:dac44/weights.pth@cpu
//
// Every flag and every file a flag names is checked first
// (server_options.h); then the process is set up, the startup models load,
// and the listeners serve until SIGTERM or SIGINT.

#include <ATen/Parallel.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <torch/version.h>

#include <csignal>
#include <thread>

#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "backends/core/status_macros.h"
#include "backends/runtime/compute_device.h"
#include "backends/runtime/cpu_block_cache.h"
#include "backends/streaming/stream_slots.h"
#include "server/observability/metrics_endpoint.h"
#include "server/observability/registry_collector.h"
#include "server/observability/server_log.h"
#include "server/observability/server_metrics.h"
#include "server/rpc/codec_service.h"
#include "server/rpc/model_service.h"
#include "server/server_options.h"

namespace codec::server {
namespace {

// The process-wide settings the options make: threads, TF32, stream slots,
// the conv precision (which the CPU may refuse).
absl::Status ConfigureProcess(const ServerOptions& options) {
  at::set_num_threads(options.threads);  // Per model call.
  SetLogFormat(options.log_format);
  AllowTf32(options.allow_tf32);
  nn::SetStreamSlots(options.stream_slots);
  if (absl::Status precision = nn::SetConvPrecision(options.precision); !precision.ok()) {
    return absl::Status(precision.code(), absl::StrCat("--precision: ", precision.message()));
  }
  return absl::OkStatus();
}

absl::Status LoadStartupModels(ModelRegistry& registry, const std::vector<StartupModel>& models) {
  for (const StartupModel& model : models) {
    const absl::Status status = registry.Load(model.spec, model.devices);
    LogEvent(absl::StrFormat("startup Load %s: %s", model.entry, status.ToString()));
    RETURN_IF_ERROR(status);
  }
  return absl::OkStatus();
}

// A server on `address` with `services` (plus health and reflection), or
// nullptr after saying why it cannot listen.
std::unique_ptr<grpc::Server> Listen(const char* what, const std::string& address,
                                     const ServerOptions& options,
                                     std::initializer_list<grpc::Service*> services) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, options.credentials, &port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  if (options.max_rpc_threads > 0) {
    grpc::ResourceQuota quota(absl::StrCat("codec_server ", what, "listener"));
    quota.SetMaxThreads(options.max_rpc_threads);
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

// The main listener and, with --admin_listen, the admin one.
struct Listeners {
  std::unique_ptr<grpc::Server> main;
  std::unique_ptr<grpc::Server> admin;
};

// Waits for `signals`, then lets the listeners drain for the grace period.
void DrainOnSignal(const sigset_t& signals, const Listeners& listeners, absl::Duration grace) {
  int signal = 0;
  sigwait(&signals, &signal);
  LogEvent(absl::StrFormat("signal %d, draining", signal));
  const auto deadline = absl::ToChronoTime(absl::Now() + grace);
  for (grpc::Server* each : {listeners.main.get(), listeners.admin.get()}) {
    if (each == nullptr) continue;
    each->GetHealthCheckService()->SetServingStatus(false);
    each->Shutdown(deadline);
  }
}

// Serves `registry` on the options' listeners until a signal has drained
// them.
int Serve(const ServerOptions& options, ModelRegistry& registry, ServerMetrics& metrics,
          const sigset_t& signals) {
  CodecServiceImpl codec_service(registry, options.limits, options.access, &metrics);
  ModelServiceImpl model_service(
      registry, options.access,
      options.admin_listen.empty() ? Administration::kServed : Administration::kElsewhere,
      &metrics);
  ModelServiceImpl admin_service(registry, options.access, Administration::kServed, &metrics);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  Listeners listeners;
  listeners.main = Listen("", options.listen, options, {&codec_service, &model_service});
  if (!listeners.main) return 1;
  for (const char* service : {"codec.v1.CodecService", "codec.v1.ModelService"}) {
    listeners.main->GetHealthCheckService()->SetServingStatus(service, true);
  }
  if (!options.admin_listen.empty()) {
    listeners.admin = Listen("admin ", options.admin_listen, options, {&admin_service});
    if (!listeners.admin) return 1;
    listeners.admin->GetHealthCheckService()->SetServingStatus("codec.v1.ModelService", true);
  }
  std::thread waiter([&] { DrainOnSignal(signals, listeners, options.shutdown_grace); });
  listeners.main->Wait();
  if (listeners.admin) listeners.admin->Wait();
  waiter.join();
  LogEvent("stopped");
  return 0;
}

// REQUIRES: `signals` blocked in every thread (BlockStopSignals first).
int Run(const ServerOptions& options, const sigset_t& signals) {
  if (const absl::Status configured = ConfigureProcess(options); !configured.ok()) {
    LogEvent(configured.ToString());
    return 1;
  }
  absl::StatusOr<std::unique_ptr<DevicePool>> devices =
      DevicePool::Create(options.devices, options.concurrent_calls);
  if (!devices.ok()) {
    LogEvent(absl::StrCat("--devices: ", devices.status().ToString()));
    return 1;
  }
  LogEvent(absl::StrFormat(
      "devices %s; %d CPU pass(es) at a time, %d intra-op thread(s) each; batches of up to %d "
      "steps",
      (*devices)->Names(), options.concurrent_calls, options.threads, options.executor.max_batch));
  ServerMetrics metrics(TORCH_VERSION);
  ModelRegistry registry(
      options.model_repository, CreateBackend, options.max_models,
      ServingOptions{
          .devices = *std::move(devices), .executor = options.executor, .metrics = &metrics});
  // The endpoint holds its collectables weakly: they live as long as it.
  const auto registry_metrics = std::make_shared<RegistryCollector>(registry);
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  if (!options.metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(options.metrics_listen, {metrics.registry(), registry_metrics});
    if (!endpoint.ok()) {
      LogEvent(std::string(endpoint.status().message()));
      return 1;
    }
    metrics_endpoint = *std::move(endpoint);
    LogEvent(absl::StrFormat("metrics on port %d", metrics_endpoint->port()));
  }
  if (!LoadStartupModels(registry, options.models).ok()) return 1;
  LogEvent(absl::StrFormat(
      "%s, %s",
      options.transport == "plaintext"
          ? "WARNING: plaintext listeners (no --tls_cert), for loopback development only"
          : options.transport,
      options.access.authenticates() ? "bearer tokens required" : "no authentication"));
  return Serve(options, registry, metrics, signals);
}

}  // namespace
}  // namespace codec::server

int main(int argc, char** argv) {
  // SIGTERM and SIGINT are taken by a waiting thread, not async handlers:
  // blocked before any thread starts (reading the TLS flags starts gRPC's),
  // so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<codec::server::ServerOptions> options = codec::server::ServerOptionsFromFlags();
  if (!options.ok()) {
    codec::server::LogEvent(options.status().ToString());
    return 1;
  }
  if (const absl::Status cache = codec::InstallCpuBlockCache(options->cpu_block_cache_mb);
      !cache.ok()) {
    codec::server::LogEvent(absl::StrCat("--cpu_block_cache_mb: ", cache.ToString()));
    return 1;
  }
  return codec::server::Run(*options, signals);
}
