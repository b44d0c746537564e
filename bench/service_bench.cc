// service_bench: drives codec_server over loopback with N concurrent
// streaming clients and compares it with the same work done in-process.
//
//   bazel run //bench:service_bench -- --model=encodec
//       --model_repository=tests/fixtures --weights=encodec24_tiny_bw6   # tiny
//   bazel run //bench:service_bench -- --model=snac_24khz --op=decode   # full size
//
// --message_frames=N streams each request in messages of N codec frames,
// unpaced, as a TTS model's codes or a microphone's audio arrive: then the
// aggregate audio seconds per second at N clients against one client is
// what the server's batching of streams buys.
//
// The real codec_server binary is started on 127.0.0.1 with the model
// (full-size random weights of the published shapes when --weights is
// empty). For each client count N, N threads each send requests back to
// back for --duration_seconds over their own channel (their own TCP
// connection); a request is one streamed Encode of --request_seconds of
// real audio, or one streamed Decode of its codes. Requests started before
// the end finish and count. Then the same N threads call the backend
// directly in this process, taking turns in the same ComputeSlots bound as
// the server's model calls. Prints a table per path and the overhead of
// the gRPC path.

#include <ATen/Parallel.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "bench/bench_audio.h"
#include "bench/machine.h"
#include "bench/timing.h"
#include "client/codec_client.h"
#include "server/serving/compute_slots.h"
#include "tests/testing/manifest.h"

ABSL_FLAG(std::string, model, "encodec_24khz", "Preset or family the server loads.");
ABSL_FLAG(std::string, model_repository, "",
          "The server's model repository; empty: --workdir, with random full-size weights.");
ABSL_FLAG(std::string, weights, "",
          "Weights inside the repository; empty: random weights of the preset's published shapes.");
ABSL_FLAG(std::string, op, "encode", "encode (audio -> codes) or decode (codes -> audio).");
ABSL_FLAG(double, request_seconds, 1, "Seconds of audio per request.");
ABSL_FLAG(int, message_frames, 0,
          "Codec frames per streamed message (a one-frame encode step, a 4-frame SNAC decode "
          "step); 0: one second or more per message.");
ABSL_FLAG(std::vector<std::string>, clients, std::vector<std::string>({"1", "4", "16", "64"}),
          "Concurrent client counts.");
ABSL_FLAG(double, duration_seconds, 10, "How long each client count sends requests.");
ABSL_FLAG(int, threads, static_cast<int>(std::thread::hardware_concurrency()),
          "Intra-op threads per model call, in the server and in-process alike.");
ABSL_FLAG(int, max_concurrent_calls, 0,
          "Model calls at a time, in the server and in-process alike; 0: cores / --threads, "
          "the server's default.");
ABSL_FLAG(std::string, audio, "tests/fixtures/audio/jfk.wav", "The recording requests carry.");
ABSL_FLAG(std::string, server, "server/codec_server", "The codec_server binary.");
ABSL_FLAG(std::string, workdir, "/tmp/codec_service_bench",
          "Where random weights and the server's log are written.");

namespace codec::bench {
namespace {

constexpr char kModelId[] = "bench";

int ConcurrentCalls() {
  const int flag = absl::GetFlag(FLAGS_max_concurrent_calls);
  return flag > 0 ? flag : server::CallsPerMachine(absl::GetFlag(FLAGS_threads));
}

// What one client count measured on one path.
struct LoadResult {
  int64_t ok = 0;
  std::map<absl::StatusCode, int64_t> errors;
  std::vector<double> latencies_ms;  // Of the successful requests.
  double elapsed_seconds = 0;
};

// `clients` threads each call `request(client)` back to back for
// `duration` seconds, then wait for their last request.
LoadResult RunLoad(int clients, double duration, const std::function<absl::Status(int)>& request) {
  LoadResult result;
  std::mutex mutex;
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (int client = 0; client < clients; ++client) {
    threads.emplace_back([&, client] {
      while (SecondsSince(start) < duration) {
        const Clock::time_point sent = Clock::now();
        const absl::Status status = request(client);
        const double ms = 1000 * SecondsSince(sent);
        std::lock_guard<std::mutex> lock(mutex);
        if (status.ok()) {
          ++result.ok;
          result.latencies_ms.push_back(ms);
        } else {
          ++result.errors[status.code()];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  result.elapsed_seconds = SecondsSince(start);
  return result;
}

std::string ErrorSummary(const LoadResult& result) {
  if (result.errors.empty()) return "0";
  std::vector<std::string> parts;
  for (const auto& [code, count] : result.errors) {
    parts.push_back(absl::StrCat(count, " ", absl::StatusCodeToString(code)));
  }
  return absl::StrJoin(parts, ", ");
}

void PrintRow(const char* path, int clients, const LoadResult& result) {
  const double rps = result.ok / result.elapsed_seconds;
  const bool any = !result.latencies_ms.empty();
  printf("| %s | %d | %lld | %s | %.2f | %.2f | %.1f | %.1f | %.1f |\n", path, clients,
         static_cast<long long>(result.ok), ErrorSummary(result).c_str(), rps,
         rps * absl::GetFlag(FLAGS_request_seconds),
         any ? Percentile(result.latencies_ms, 0.5) : 0.0,
         any ? Percentile(result.latencies_ms, 0.9) : 0.0,
         any ? Percentile(result.latencies_ms, 0.99) : 0.0);
  fflush(stdout);
}

// codec_server in a child process, listening on a port it picks.
class ServerProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const std::string& repository,
                                                              const std::string& weights) {
    const std::string log = absl::GetFlag(FLAGS_workdir) + "/server.log";
    std::vector<std::string> args = {
        absl::GetFlag(FLAGS_server),
        "--listen=127.0.0.1:0",
        "--model_repository=" + repository,
        absl::StrCat("--models=", kModelId, "=", absl::GetFlag(FLAGS_model), ":", weights),
        absl::StrCat("--threads=", absl::GetFlag(FLAGS_threads)),
        absl::StrCat("--max_concurrent_calls=", ConcurrentCalls())};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    auto server = std::unique_ptr<ServerProcess>(new ServerProcess());
    const int error = posix_spawn(&server->pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0) return absl::InternalError(absl::StrCat("cannot start ", argv[0]));
    // The server logs its port once its startup models are loaded.
    const std::regex listening("listening on port ([0-9]+)");
    const Clock::time_point start = Clock::now();
    while (SecondsSince(start) < 600) {
      std::ifstream in(log);
      const std::string text((std::istreambuf_iterator<char>(in)), {});
      std::smatch match;
      if (std::regex_search(text, match, listening)) {
        server->address_ = "127.0.0.1:" + match[1].str();
        return server;
      }
      if (waitpid(server->pid_, nullptr, WNOHANG) == server->pid_) {
        server->pid_ = 0;
        return absl::InternalError("codec_server exited at startup:\n" + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return absl::DeadlineExceededError("codec_server did not start; see " + log);
  }

  ~ServerProcess() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

  const std::string& address() const { return address_; }

 private:
  ServerProcess() = default;
  pid_t pid_ = 0;
  std::string address_;
};

// One channel per client, each on its own connection, as separate callers
// would have.
std::vector<std::unique_ptr<client::CodecClient>> ConnectClients(const std::string& address,
                                                                 int count) {
  std::vector<std::unique_ptr<client::CodecClient>> clients;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(-1);
    clients.push_back(std::make_unique<client::CodecClient>(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args)));
  }
  return clients;
}

int Run() {
  const std::string op = absl::GetFlag(FLAGS_op);
  if (op != "encode" && op != "decode") {
    fprintf(stderr, "service_bench: --op must be encode or decode\n");
    return 2;
  }
  std::filesystem::create_directories(absl::GetFlag(FLAGS_workdir));
  std::string repository = absl::GetFlag(FLAGS_model_repository);
  std::string weights = absl::GetFlag(FLAGS_weights);
  if (weights.empty() != repository.empty()) {
    fprintf(stderr, "service_bench: give --weights and --model_repository together, or neither\n");
    return 2;
  }
  if (weights.empty()) {
    repository = absl::GetFlag(FLAGS_workdir);
    absl::StatusOr<std::string> written =
        testing::WriteManifestCheckpoint(absl::GetFlag(FLAGS_model), repository);
    if (!written.ok()) {
      fprintf(stderr, "service_bench: %s\n", written.status().ToString().c_str());
      return 1;
    }
    weights = *written;
  }
  repository = std::filesystem::absolute(repository).string();

  // The in-process path, and the request payloads both paths send.
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  absl::StatusOr<std::shared_ptr<CodecBackend>> backend =
      CreateBackend({.model = absl::GetFlag(FLAGS_model), .weights = repository + "/" + weights});
  absl::Status status = backend.ok() ? (*backend)->Load() : backend.status();
  absl::StatusOr<Audio> audio =
      status.ok() ? BenchAudio(absl::GetFlag(FLAGS_audio), (*backend)->description(),
                               absl::GetFlag(FLAGS_request_seconds))
                  : status;
  absl::StatusOr<Codes> codes = audio.ok() ? (*backend)->Encode(*audio, {}) : audio.status();
  if (!codes.ok()) {
    fprintf(stderr, "service_bench: %s\n", codes.status().ToString().c_str());
    return 1;
  }
  DecodeOptions decode_options;
  decode_options.noise = NoiseMode::kSeeded;  // The same work on every call.

  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(repository, weights);
  if (!server.ok()) {
    fprintf(stderr, "service_bench: %s\n", server.status().ToString().c_str());
    return 1;
  }

  std::vector<int> client_counts;
  for (const std::string& n : absl::GetFlag(FLAGS_clients)) client_counts.push_back(std::stoi(n));
  printf(
      "Machine: %s.\nModel %s (%s), %s of %g s of %s per request (%s), %d model call(s) at a "
      "time with %d intra-op thread(s) each, %g s per client count; server %s.\n\n",
      MachineSummary().c_str(), absl::GetFlag(FLAGS_model).c_str(), weights.c_str(), op.c_str(),
      absl::GetFlag(FLAGS_request_seconds), absl::GetFlag(FLAGS_audio).c_str(),
      absl::GetFlag(FLAGS_message_frames) > 0
          ? absl::StrCat(absl::GetFlag(FLAGS_message_frames), "-frame messages").c_str()
          : "large messages",
      ConcurrentCalls(),
      absl::GetFlag(FLAGS_threads), absl::GetFlag(FLAGS_duration_seconds),
      (*server)->address().c_str());
  printf(
      "| path | clients | requests | errors | req/s | audio s/s | p50 ms | p90 ms | p99 ms "
      "|\n|---|---|---|---|---|---|---|---|---|\n");
  const double duration = absl::GetFlag(FLAGS_duration_seconds);
  std::map<int, std::pair<LoadResult, LoadResult>> results;  // gRPC, in-process.
  server::ComputeSlots local_slots(ConcurrentCalls());       // As the server's.
  int failures = 0;
  for (int n : client_counts) {
    std::vector<std::unique_ptr<client::CodecClient>> clients =
        ConnectClients((*server)->address(), n);
    const int64_t message_frames = absl::GetFlag(FLAGS_message_frames);
    const CodecDescription& desc = (*backend)->description();
    LoadResult grpc_result = RunLoad(n, duration, [&](int i) -> absl::Status {
      if (op == "encode") {
        return message_frames > 0 ? clients[i]
                                        ->Encode(kModelId, *audio, {},
                                                 message_frames * desc.hop_length)
                                        .status()
                                  : clients[i]->Encode(kModelId, *audio, {}).status();
      }
      return message_frames > 0
                 ? clients[i]->Decode(kModelId, *codes, decode_options, message_frames).status()
                 : clients[i]->Decode(kModelId, *codes, decode_options).status();
    });
    PrintRow("gRPC", n, grpc_result);
    LoadResult local_result = RunLoad(n, duration, [&](int) -> absl::Status {
      return local_slots.Run({}, [&]() -> absl::Status {
        if (op == "encode") return (*backend)->Encode(*audio, {}).status();
        return (*backend)->Decode(*codes, decode_options).status();
      });
    });
    PrintRow("in-process", n, local_result);
    failures += !grpc_result.errors.empty() || !local_result.errors.empty();
    results[n] = {std::move(grpc_result), std::move(local_result)};
  }

  printf(
      "\n| clients | gRPC req/s / in-process req/s | p50 added by gRPC ms | gRPC audio s/s / at "
      "%d client(s) |\n|---|---|---|---|\n",
      client_counts.front());
  const LoadResult& fewest = results.begin()->second.first;
  for (const auto& [n, pair] : results) {
    const auto& [remote, local] = pair;
    if (remote.latencies_ms.empty() || local.latencies_ms.empty()) continue;
    printf("| %d | %.2f | %.1f | %.2f |\n", n,
           (remote.ok / remote.elapsed_seconds) / (local.ok / local.elapsed_seconds),
           Percentile(remote.latencies_ms, 0.5) - Percentile(local.latencies_ms, 0.5),
           (remote.ok / remote.elapsed_seconds) / (fewest.ok / fewest.elapsed_seconds));
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace codec::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return codec::bench::Run();
}
