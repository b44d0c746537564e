// codec_server: hosts codec models over gRPC (codec.v1 CodecService and
// ModelService, grpc.health.v1.Health, server reflection).
//
//   codec_server --listen=0.0.0.0:50051 --model_repository=/models \
//       --models=tts=snac_24khz:snac_24khz,dia=dac_44khz:dac44/weights.pth

#include <ATen/Parallel.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <csignal>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/codec_service.h"
#include "server/model_service.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "Address to serve on.");
ABSL_FLAG(std::string, model_repository, "", "Folder that Load weights paths are relative to.");
ABSL_FLAG(std::vector<std::string>, models, {},
          "Models to load at start: id=preset[:weights],... (weights inside the repository).");
ABSL_FLAG(double, max_stream_seconds, 0,
          "Longest audio one stream may carry (a policy; streams hold bounded state, so 0, "
          "no limit, is the default).");
ABSL_FLAG(int, max_message_mb, 64, "Largest gRPC message accepted.");
ABSL_FLAG(int, threads, static_cast<int>(std::thread::hardware_concurrency()),
          "Intra-op threads per model call.");
ABSL_FLAG(int, max_concurrent_calls, 0,
          "Most model calls running at once; more streams wait for a turn. 0: cores / --threads "
          "(at least 1), so that calls never oversubscribe the CPU.");
ABSL_FLAG(int, max_rpc_threads, 0,
          "Most threads serving RPCs (each open stream holds one); calls beyond it get "
          "RESOURCE_EXHAUSTED. 0: no limit.");
ABSL_FLAG(double, shutdown_grace_seconds, 30, "How long SIGTERM waits for streams to finish.");

namespace codec::server {
namespace {

absl::Status LoadStartupModels(ModelRegistry& registry) {
  for (const std::string& entry : absl::GetFlag(FLAGS_models)) {
    std::pair<std::string, std::string> id_rest = absl::StrSplit(entry, absl::MaxSplits('=', 1));
    std::pair<std::string, std::string> preset_weights =
        absl::StrSplit(id_rest.second, absl::MaxSplits(':', 1));
    BackendSpec spec{
        .id = id_rest.first, .model = preset_weights.first, .weights = preset_weights.second};
    const absl::Status status = registry.Load(spec);
    fprintf(stderr, "codec_server: startup Load %s: %s\n", entry.c_str(),
            status.ToString().c_str());
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
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

  ModelRegistry registry(absl::GetFlag(FLAGS_model_repository));
  if (!LoadStartupModels(registry).ok()) return 1;
  int concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  if (concurrent_calls <= 0) concurrent_calls = CallsPerMachine(threads);
  fprintf(stderr, "codec_server: %d model call(s) at a time, %d intra-op thread(s) each\n",
          concurrent_calls, threads);
  CodecServiceImpl codec_service(
      registry, StreamLimits{.max_stream_seconds = absl::GetFlag(FLAGS_max_stream_seconds),
                             .max_concurrent_calls = concurrent_calls});
  ModelServiceImpl model_service(registry);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  const int max_bytes = absl::GetFlag(FLAGS_max_message_mb) << 20;
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  if (const int rpc_threads = absl::GetFlag(FLAGS_max_rpc_threads); rpc_threads > 0) {
    grpc::ResourceQuota quota("codec_server");
    quota.SetMaxThreads(rpc_threads);
    builder.SetResourceQuota(quota);
  }
  builder.RegisterService(&codec_service);
  builder.RegisterService(&model_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    fprintf(stderr, "codec_server: cannot listen on %s\n", absl::GetFlag(FLAGS_listen).c_str());
    return 1;
  }
  for (const char* service : {"codec.v1.CodecService", "codec.v1.ModelService"}) {
    server->GetHealthCheckService()->SetServingStatus(service, true);
  }
  fprintf(stderr, "codec_server: listening on port %d\n", port);

  std::thread waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    fprintf(stderr, "codec_server: signal %d, draining\n", signal);
    server->GetHealthCheckService()->SetServingStatus(false);
    server->Shutdown(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(
                         static_cast<int64_t>(absl::GetFlag(FLAGS_shutdown_grace_seconds) * 1000)));
  });
  server->Wait();
  waiter.join();
  fprintf(stderr, "codec_server: stopped\n");
  return 0;
}

}  // namespace
}  // namespace codec::server

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return codec::server::Run();
}
