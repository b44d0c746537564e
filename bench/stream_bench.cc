// stream_bench: streaming sessions of every full-size preset (random weights
// of the published shapes) on real audio, against the offline path in the
// same run.
//
//   bazel run //bench:stream_bench -- --presets=snac_24khz,encodec_24khz > table.md
//
// For each preset and direction: the algorithmic latency the model states;
// for chunks of 1, 4 and 25 frames, the compute of each streaming step
// (p50/p99), the streamed speed against real time and against the offline
// call on the same audio; and, over gRPC on loopback (a real CodecService
// and the C++ client), the time to first output of a producer that sends
// --paced_frames frames at a time at real time.

#include <ATen/Parallel.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "bench/bench_audio.h"
#include "bench/bench_model.h"
#include "bench/layer_profile.h"
#include "bench/machine.h"
#include "bench/timing.h"
#include "client/codec_client.h"
#include "server/rpc/codec_service.h"

ABSL_FLAG(std::vector<std::string>, presets, codec::ListPresets(), "Presets to measure.");
ABSL_FLAG(int, threads, 2, "Intra-op threads.");
ABSL_FLAG(double, seconds, 10, "Seconds of audio streamed per row.");
ABSL_FLAG(std::vector<std::string>, chunk_frames, std::vector<std::string>({"1", "4", "25"}),
          "Frames per streaming step.");
ABSL_FLAG(int, paced_frames, 4, "Frames per message of the paced gRPC producer.");
ABSL_FLAG(double, paced_seconds, 3, "Seconds of audio the paced gRPC producer sends.");
ABSL_FLAG(std::string, audio, "tests/fixtures/audio/jfk.wav", "The recording to code.");
ABSL_FLAG(bool, profile, false,
          "After each row, one more stream each way under a profile by kind of layer, to "
          "stderr.");
ABSL_FLAG(std::string, workdir, "/tmp/codec_stream_bench",
          "Where the random-weight checkpoints are written.");

namespace codec::bench {
namespace {

struct StepTimes {
  std::vector<double> ms;  // Per Push, and Finish.
  double total_seconds = 0;
};

// Pushes `piece(first, last)` for every `chunk` of `total` into `stream`,
// then finishes it, timing each Push and the Finish (not the slicing).
template <typename Stream, typename Piece>
absl::StatusOr<StepTimes> TimeSteps(Stream& stream, int64_t total, int64_t chunk, Piece piece) {
  StepTimes times;
  const Clock::time_point start = Clock::now();
  for (int64_t first = 0; first < total; first += chunk) {
    const auto input = piece(first, std::min(total, first + chunk));
    const Clock::time_point step = Clock::now();
    RETURN_IF_ERROR(stream.Push(input).status());
    times.ms.push_back(1000 * SecondsSince(step));
  }
  const Clock::time_point step = Clock::now();
  RETURN_IF_ERROR(stream.Finish().status());
  times.ms.push_back(1000 * SecondsSince(step));
  times.total_seconds = SecondsSince(start);
  return times;
}

// Streams `audio` into a fresh encode session, `chunk` samples a step.
absl::StatusOr<StepTimes> StreamEncode(const CodecBackend& backend, const Audio& audio,
                                       int64_t chunk) {
  ASSIGN_OR_RETURN(std::unique_ptr<EncodeStream> stream, backend.OpenEncodeStream({}));
  return TimeSteps(*stream, audio.num_frames(), chunk,
                   [&](int64_t first, int64_t last) { return SliceFrames(audio, first, last); });
}

// Streams `codes` into a fresh decode session, `chunk` finest frames a step.
absl::StatusOr<StepTimes> StreamDecode(const CodecBackend& backend, const Codes& codes,
                                       int64_t chunk, const DecodeOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<DecodeStream> stream,
                   backend.OpenDecodeStream(options, codes.num_samples));
  return TimeSteps(*stream, codes.levels.back().frames, chunk,
                   [&](int64_t first, int64_t last) { return SliceCodes(codes, first, last); });
}

// Time from the first message to the first output of a stream paced at real
// time through a loopback server.
struct Paced {
  double encode_ms = 0;
  double decode_ms = 0;
};

absl::StatusOr<Paced> PacedOverGrpc(CodecBackend& backend, const std::string& preset,
                                    const std::string& weights, const Audio& audio,
                                    const Codes& codes, const DecodeOptions& options) {
  server::ModelRegistry registry(absl::GetFlag(FLAGS_workdir), CreateBackend, 0,
                                 server::ServingOptions{.devices = server::DevicePool::Cpu(1)});
  RETURN_IF_ERROR(registry.Load({.id = preset, .model = preset, .weights = weights}));
  server::CodecServiceImpl service(registry, server::StreamLimits{});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  client::CodecClient client(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                                 grpc::InsecureChannelCredentials()));
  const CodecDescription& desc = registry.Acquire(preset)->provider().description();
  const int64_t group = desc.level_strides.front();
  const int64_t frames_per_message =
      std::max<int64_t>(1, absl::GetFlag(FLAGS_paced_frames) / group) * group;
  const double message_seconds =
      static_cast<double>(frames_per_message * desc.hop_length) / desc.sample_rate;
  const int64_t total_frames = std::min<int64_t>(
      codes.levels.back().frames,
      static_cast<int64_t>(absl::GetFlag(FLAGS_paced_seconds) * desc.sample_rate /
                           desc.hop_length) / group * group);
  Paced paced;
  // Sends message i at start + i * message_seconds; notes the first output.
  auto run = [&](auto call) -> absl::StatusOr<double> {
    const absl::Time start = absl::Now();
    std::optional<absl::Time> first_output;
    int64_t sent = 0;
    auto wait_turn = [&] {
      absl::SleepFor(start + absl::Seconds(message_seconds * sent) - absl::Now());
      ++sent;
    };
    auto arrived = [&] {
      if (!first_output) first_output = absl::Now();
    };
    RETURN_IF_ERROR(call(wait_turn, arrived));
    if (!first_output) return absl::InternalError("no output");
    return absl::ToDoubleMilliseconds(*first_output - start);
  };
  ASSIGN_OR_RETURN(paced.encode_ms, run([&](auto wait_turn, auto arrived) {
    int64_t first = 0;
    const int64_t samples = total_frames * desc.hop_length;
    return client
        .EncodeStream(
            preset, desc.sample_rate, desc.channels, {},
            [&]() -> std::optional<Audio> {
              if (first >= samples) return std::nullopt;
              wait_turn();
              const int64_t last = std::min(samples, first + frames_per_message * desc.hop_length);
              Audio piece = SliceFrames(audio, first, last);
              first = last;
              return piece;
            },
            [&](const Codes&, int64_t) { arrived(); })
        .status();
  }));
  // The decode sends the codes of the clip the encode sent, as an encode
  // gives them: whole attention windows, and the encoded length by which a
  // segmented model places its segments.
  ASSIGN_OR_RETURN(const Codes clip,
                   backend.Encode(SliceFrames(audio, 0, total_frames * desc.hop_length), {}));
  const int64_t clip_frames = clip.levels.back().frames;
  ASSIGN_OR_RETURN(paced.decode_ms, run([&](auto wait_turn, auto arrived) {
    int64_t first = 0;
    return client.DecodeStream(
        preset, options, clip.num_samples,
        [&]() -> std::optional<Codes> {
          if (first >= clip_frames) return std::nullopt;
          wait_turn();
          const int64_t last = std::min(clip_frames, first + frames_per_message);
          Codes piece = SliceCodes(clip, first, last);
          first = last;
          return piece;
        },
        [&](const Audio&, int64_t) { arrived(); });
  }));
  server->Shutdown();
  return paced;
}

absl::Status RunPreset(const std::string& preset) {
  ASSIGN_OR_RETURN(BenchModel model, LoadBenchModel(preset, absl::GetFlag(FLAGS_workdir)));
  const std::shared_ptr<CodecBackend>& backend = model.backend;
  const std::string& weights = model.weights;
  const CodecDescription& desc = backend->description();
  const double seconds = absl::GetFlag(FLAGS_seconds);
  ASSIGN_OR_RETURN(Audio audio, BenchAudio(absl::GetFlag(FLAGS_audio), desc, seconds));
  DecodeOptions options;
  options.noise = NoiseMode::kOff;
  ASSIGN_OR_RETURN(const OfflineTimes offline, TimeOffline(*backend, audio));
  const Codes& codes = offline.codes;
  const double offline_encode = offline.encode_seconds;
  const double offline_decode = offline.decode_seconds;
  const double encode_latency_ms = 1000.0 * desc.encode_lookahead_samples / desc.sample_rate;
  const double decode_latency_ms =
      1000.0 * desc.decode_lookahead_frames * desc.hop_length / desc.sample_rate;
  const int64_t group = desc.level_strides.front();
  for (const std::string& chunk_flag : absl::GetFlag(FLAGS_chunk_frames)) {
    int64_t chunk = std::stoll(chunk_flag);
    chunk = std::max<int64_t>(1, chunk / group) * group;  // Whole groups of multi-rate codes.
    const double chunk_ms = 1000.0 * chunk * desc.hop_length / desc.sample_rate;
    ASSIGN_OR_RETURN(StepTimes encode, StreamEncode(*backend, audio, chunk * desc.hop_length));
    ASSIGN_OR_RETURN(StepTimes decode, StreamDecode(*backend, codes, chunk, options));
    for (const auto& [direction, times, offline, latency] :
         {std::tuple("encode", encode, offline_encode, encode_latency_ms),
          std::tuple("decode", decode, offline_decode, decode_latency_ms)}) {
      printf("| %s | %s | %.0f | %lld (%.0f ms) | %.1f | %.1f | %.2f | %.2f | %.2f |\n",
             preset.c_str(), direction, latency, static_cast<long long>(chunk), chunk_ms,
             Percentile(times.ms, 0.5), Percentile(times.ms, 0.99), seconds / times.total_seconds,
             seconds / offline, times.total_seconds / offline);
      fflush(stdout);
    }
    if (absl::GetFlag(FLAGS_profile)) {
      const std::string label = absl::StrCat(preset, " | ", chunk, "-frame steps | ");
      RETURN_IF_ERROR(PrintLayerProfile(absl::StrCat(label, "encode"), [&] {
        return StreamEncode(*backend, audio, chunk * desc.hop_length).status();
      }));
      RETURN_IF_ERROR(PrintLayerProfile(absl::StrCat(label, "decode"), [&] {
        return StreamDecode(*backend, codes, chunk, options).status();
      }));
    }
  }
  ASSIGN_OR_RETURN(Paced paced, PacedOverGrpc(*backend, preset, weights, audio, codes, options));
  printf("| %s | paced gRPC, %d-frame messages | time to first codes %.0f ms | time to first "
         "audio %.0f ms |\n",
         preset.c_str(), absl::GetFlag(FLAGS_paced_frames), paced.encode_ms, paced.decode_ms);
  fflush(stdout);
  return absl::OkStatus();
}

}  // namespace
}  // namespace codec::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  printf("%s, %d intra-op threads, %.0f s of %s\n\n", codec::bench::MachineSummary().c_str(),
         absl::GetFlag(FLAGS_threads), absl::GetFlag(FLAGS_seconds),
         absl::GetFlag(FLAGS_audio).c_str());
  printf("| preset | direction | lookahead ms | chunk frames | step p50 ms | step p99 ms | "
         "streamed x real time | offline x real time | streamed / offline time |\n");
  printf("|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (const std::string& preset : absl::GetFlag(FLAGS_presets)) {
    if (absl::Status status = codec::bench::RunPreset(preset); !status.ok()) {
      fprintf(stderr, "stream_bench: %s: %s\n", preset.c_str(), status.ToString().c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
