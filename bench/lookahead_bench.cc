// lookahead_bench: what a decode's lookahead bound (DecodeOptions::
// lookahead_frames) costs and buys, on a real recording, for
//  - full-size presets (random weights of the published shapes): the cost in
//    compute. Their weights (all positive) saturate the output, so the audio
//    says nothing about quality;
//  - fixtures ("fixture:snac24_tiny"): small codecs of the published layer
//    geometry, with the reference code's initialisation: the quality cost.
//
//   bazel run //bench:lookahead_bench -- \
//     --models=snac_24khz,fixture:snac24_tiny --audio=$PWD/../shared/audio/jfk.wav
//
// The recording is encoded offline; its codes are then decoded as a stream
// one frame group a push, exact and under each bound. Per row: the audio's
// distance from the exact stream's (SI-SDR, max abs error), how many frames
// of codes the first audio waits for and what that is in milliseconds of
// codes, the first push's compute, and the steady per-push compute against
// the exact stream's in the same run.

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "bench/bench_audio.h"
#include "bench/bench_model.h"
#include "bench/machine.h"
#include "bench/timing.h"
#include "tests/testing/audio_metrics.h"

ABSL_FLAG(std::vector<std::string>, models,
          std::vector<std::string>({"snac_24khz", "dac_24khz", "fixture:snac24_tiny",
                                    "fixture:snac44_tiny_attn", "fixture:dac16_tiny",
                                    "fixture:dac44_tiny"}),
          "Presets at full size, and fixtures (fixture:NAME, from tests/fixtures).");
ABSL_FLAG(std::vector<std::string>, bounds, std::vector<std::string>({"0", "1", "2", "4", "half"}),
          "Lookahead bounds in frames below each model's full lookahead ('half': half of it).");
ABSL_FLAG(int, threads, 2, "Intra-op threads.");
ABSL_FLAG(double, seconds, 6, "Seconds of the recording decoded per row.");
ABSL_FLAG(std::string, audio, "tests/fixtures/audio/jfk.wav", "The recording to code.");
ABSL_FLAG(std::string, workdir, "/tmp/codec_lookahead_bench",
          "Where the random full-size weights are written.");

namespace codec::bench {
namespace {

// One decode stream of `codes`, a frame group a push.
struct StreamRun {
  Audio audio;
  int64_t frames_before_first_audio = 0;  // Finest frames pushed when audio first left.
  double first_push_ms = 0;               // That push's compute.
  std::vector<double> push_ms;
};

absl::StatusOr<StreamRun> RunStream(const CodecBackend& backend, const Codes& codes,
                                    std::optional<int64_t> bound) {
  const CodecDescription& desc = backend.description();
  DecodeOptions options{.noise = NoiseMode::kOff, .lookahead_frames = bound};
  ASSIGN_OR_RETURN(std::unique_ptr<DecodeStream> stream,
                   backend.OpenDecodeStream(options, codes.num_samples));
  const int64_t group = desc.level_strides.front();
  const int64_t frames = codes.levels.back().frames;
  StreamRun run;
  std::vector<Audio> parts;
  for (int64_t first = 0; first < frames; first += group) {
    const Codes chunk = SliceCodes(codes, first, std::min(frames, first + group));
    const Clock::time_point start = Clock::now();
    ASSIGN_OR_RETURN(Audio audio, stream->Push(chunk));
    const double ms = 1000 * SecondsSince(start);
    run.push_ms.push_back(ms);
    if (run.frames_before_first_audio == 0 && audio.num_frames() > 0) {
      run.frames_before_first_audio = std::min(frames, first + group);
      run.first_push_ms = ms;
    }
    parts.push_back(std::move(audio));
  }
  ASSIGN_OR_RETURN(Audio rest, stream->Finish());
  if (run.frames_before_first_audio == 0) run.frames_before_first_audio = frames;
  parts.push_back(std::move(rest));
  run.audio = ConcatAudio(parts);
  return run;
}

// The bounds of --bounds below `lookahead`, ascending and distinct.
absl::StatusOr<std::vector<int64_t>> BoundsBelow(int64_t lookahead) {
  std::vector<int64_t> bounds;
  for (const std::string& text : absl::GetFlag(FLAGS_bounds)) {
    int64_t bound = lookahead / 2;
    if (text != "half" && !absl::SimpleAtoi(text, &bound)) {
      return absl::InvalidArgumentError(absl::StrCat("--bounds: '", text, "' is not a number"));
    }
    if (bound < lookahead) bounds.push_back(bound);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return bounds;
}

void PrintRow(const std::string& preset, const CodecDescription& desc, const std::string& bound,
              const StreamRun& run, const StreamRun& exact) {
  const double frame_ms = 1000.0 * desc.hop_length / desc.sample_rate;
  const double sdr = testing::SiSdrDb(run.audio, exact.audio);
  printf("| %s | %s | %s | %.2g | %lld | %.0f | %.1f | %.1f | %.2f |\n", preset.c_str(),
         bound.c_str(), std::isinf(sdr) ? "exact" : absl::StrFormat("%.1f", sdr).c_str(),
         testing::MaxAbsDiff(run.audio, exact.audio),
         static_cast<long long>(run.frames_before_first_audio),
         run.frames_before_first_audio * frame_ms, run.first_push_ms, Percentile(run.push_ms, 0.5),
         Percentile(run.push_ms, 0.5) / Percentile(exact.push_ms, 0.5));
}

// A full-size preset with random weights, or fixture:NAME's codec.
absl::StatusOr<std::shared_ptr<CodecBackend>> LoadModel(const std::string& name) {
  constexpr absl::string_view kFixture = "fixture:";
  if (!absl::StartsWith(name, kFixture)) {
    ASSIGN_OR_RETURN(BenchModel model, LoadBenchModel(name, absl::GetFlag(FLAGS_workdir)));
    return model.backend;
  }
  const std::string dir = absl::StrCat("tests/fixtures/", name.substr(kFixture.size()));
  std::ifstream meta_file(dir + "/meta.json");
  const nlohmann::json meta = nlohmann::json::parse(meta_file, nullptr, false);
  if (!meta.is_object() || !meta.contains("codec") || !meta["codec"].is_string()) {
    return absl::NotFoundError(absl::StrCat(dir, "/meta.json: no fixture there"));
  }
  ASSIGN_OR_RETURN(
      std::shared_ptr<CodecBackend> backend,
      CreateBackend({.id = name, .model = meta["codec"].get<std::string>(), .weights = dir}));
  RETURN_IF_ERROR(backend->Load());
  return backend;
}

absl::Status RunPreset(const std::string& preset) {
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> model, LoadModel(preset));
  const CodecBackend& backend = *model;
  const CodecDescription& desc = backend.description();
  ASSIGN_OR_RETURN(Audio audio,
                   BenchAudio(absl::GetFlag(FLAGS_audio), desc, absl::GetFlag(FLAGS_seconds)));
  ASSIGN_OR_RETURN(Codes codes, backend.Encode(audio, {}));
  RETURN_IF_ERROR(RunStream(backend, codes, std::nullopt).status());  // Warm-up.
  ASSIGN_OR_RETURN(StreamRun exact, RunStream(backend, codes, std::nullopt));
  const int64_t lookahead = desc.decode_lookahead_frames;
  PrintRow(preset, desc, absl::StrCat("exact (", lookahead, ")"), exact, exact);
  ASSIGN_OR_RETURN(std::vector<int64_t> bounds, BoundsBelow(lookahead));
  for (int64_t bound : bounds) {
    ASSIGN_OR_RETURN(StreamRun run, RunStream(backend, codes, bound));
    if (run.audio.samples.size() != exact.audio.samples.size()) {
      return absl::InternalError(absl::StrCat("bound ", bound, ": ", run.audio.num_frames(),
                                              " samples, the exact stream ",
                                              exact.audio.num_frames()));
    }
    PrintRow(preset, desc, absl::StrCat(bound), run, exact);
  }
  fflush(stdout);
  return absl::OkStatus();
}

}  // namespace
}  // namespace codec::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  at::set_num_threads(absl::GetFlag(FLAGS_threads));
  printf("%s, %d intra-op threads, %.0f s of %s, one frame group a push, noise off\n\n",
         codec::bench::MachineSummary().c_str(), absl::GetFlag(FLAGS_threads),
         absl::GetFlag(FLAGS_seconds), absl::GetFlag(FLAGS_audio).c_str());
  printf(
      "| model | lookahead frames | SI-SDR vs exact dB | max abs error | first audio after "
      "frames | = ms of codes | first push ms | push p50 ms | push p50 / exact |\n");
  printf("|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (const std::string& preset : absl::GetFlag(FLAGS_models)) {
    if (absl::Status status = codec::bench::RunPreset(preset); !status.ok()) {
      fprintf(stderr, "lookahead_bench: %s: %s\n", preset.c_str(), status.ToString().c_str());
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}
