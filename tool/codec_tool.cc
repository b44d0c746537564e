// codec_tool: offline encode/decode/info with any backend.
//
//   codec_tool encode --model=PRESET [--weights=PATH] [--config=FILE]
//                     [--bandwidth=KBPS | --n_q=N] --input=IN.wav --output=OUT.npz
//   codec_tool decode --model=PRESET [--weights=PATH] [--config=FILE]
//                     [--noise=on|off] [--seed=N] --input=IN.npz --output=OUT.wav|OUT.npy
//   codec_tool info   --model=PRESET [--weights=PATH] [--config=FILE]
//
// Inputs longer than --chunk_seconds encode and decode as streams of such
// steps, which give what the whole-input call gives (CodecStream's contract:
// codes equal up to float near-ties, the same audio) in bounded memory, and
// show their progress on stderr when it is a terminal (--quiet: never).
// Shorter inputs, and seeded decodes (whose noise is upstream's only so), run
// whole.

#include <ATen/Parallel.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "backends/core/status_macros.h"
#include "backends/factory/codec_factory.h"
#include "backends/io/audio_convert.h"
#include "backends/io/codes_npz.h"
#include "backends/io/npy.h"
#include "backends/io/wav.h"
#include "backends/io/zip_writer.h"
#include "backends/kernels/conv_precision.h"
#include "backends/runtime/cpu_block_cache.h"

ABSL_FLAG(std::string, model, "", "Preset (e.g. encodec_24khz) or family (encodec).");
ABSL_FLAG(std::string, weights, "", "Checkpoint file, or a folder holding one and config.json.");
ABSL_FLAG(std::string, config, "", "config.json overriding the preset's hyper-parameters.");
ABSL_FLAG(std::optional<double>, bandwidth, std::nullopt, "encode: target bandwidth in kbps.");
ABSL_FLAG(std::optional<int>, n_q, std::nullopt, "encode: number of quantisers.");
ABSL_FLAG(std::string, noise, "on", "decode: decoder noise (SNAC), on or off.");
ABSL_FLAG(std::optional<uint64_t>, seed, std::nullopt, "decode: seed for reproducible noise.");
ABSL_FLAG(std::string, input, "", "Input file (.wav for encode, .npz for decode).");
ABSL_FLAG(std::string, output, "", "Output file (.npz for encode, .wav or .npy for decode).");
ABSL_FLAG(double, chunk_seconds, 10, "encode/decode: seconds of audio (or its codes) per step.");
ABSL_FLAG(bool, quiet, false, "No progress line (drawn only when stderr is a terminal).");
ABSL_FLAG(int, threads, static_cast<int>(std::thread::hardware_concurrency()),
          "Intra-op threads (float results depend on it; PyTorch uses one per core).");
ABSL_FLAG(std::string, precision, "fp32", "Convolutions in fp32 or bf16, as codec_server's flag.");
ABSL_FLAG(int64_t, cpu_block_cache_mb, 2048,
          "Freed CPU tensor blocks of 1 MiB or more kept for reuse, as codec_server's flag.");

namespace codec {
namespace {

absl::StatusOr<std::shared_ptr<CodecBackend>> LoadedBackend() {
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend,
                   CreateBackend({.model = absl::GetFlag(FLAGS_model),
                                  .weights = absl::GetFlag(FLAGS_weights),
                                  .config = absl::GetFlag(FLAGS_config)}));
  RETURN_IF_ERROR(backend->Load());
  return backend;
}

// One stderr line, redrawn: audio done, times real time, time left. Drawn
// only on a terminal and without --quiet.
class ProgressLine {
 public:
  ProgressLine(const char* what, double total_seconds)
      : what_(what),
        total_seconds_(total_seconds),
        start_(absl::Now()),
        live_(!absl::GetFlag(FLAGS_quiet) && isatty(STDERR_FILENO)) {}

  void Done(double seconds) const {
    if (!live_) return;
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start_);
    const double speed = elapsed > 0 ? seconds / elapsed : 0;
    const double left = speed > 0 ? (total_seconds_ - seconds) / speed : 0;
    std::cerr << absl::StrFormat("\r%s: %.1f of %.1f s of audio, %.1fx real time, %.0f s left   ",
                                 what_, seconds, total_seconds_, speed, left)
              << (seconds >= total_seconds_ ? "\n" : "") << std::flush;
  }

 private:
  const char* const what_;
  const double total_seconds_;
  const absl::Time start_;
  const bool live_;
};

// `input` through `stream`, `chunk` of its `length` units (audio frames or
// finest code frames, `unit_seconds` each) at a time, then Finish; what
// they return, one after the other.
template <typename In, typename Out>
absl::StatusOr<Out> StreamWhole(CodecStream<In, Out>& stream, const In& input, int64_t length,
                                int64_t chunk, double unit_seconds,
                                In (*slice)(const In&, int64_t, int64_t),
                                Out (*concat)(const std::vector<Out>&), const char* what) {
  const ProgressLine progress(what, static_cast<double>(length) * unit_seconds);
  std::vector<Out> parts;
  for (int64_t first = 0; first < length; first += chunk) {
    const int64_t last = std::min(length, first + chunk);
    ASSIGN_OR_RETURN(Out out, stream.Push(slice(input, first, last)));
    parts.push_back(std::move(out));
    progress.Done(static_cast<double>(last) * unit_seconds);
  }
  ASSIGN_OR_RETURN(Out last, stream.Finish());
  parts.push_back(std::move(last));
  return concat(parts);
}

absl::Status RequireFlag(const std::string& value, const char* name) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("--", name, " is required"));
  return absl::OkStatus();
}

// `audio` encoded whole when it fits in one step of --chunk_seconds, else as
// a stream of such steps.
absl::StatusOr<Codes> EncodeWhole(const CodecBackend& backend, const Audio& audio,
                                  const EncodeOptions& options) {
  const int sample_rate = backend.description().sample_rate;
  const int64_t chunk =
      std::max<int64_t>(1, std::llround(absl::GetFlag(FLAGS_chunk_seconds) * sample_rate));
  if (audio.num_frames() <= chunk) return backend.Encode(audio, options);
  ASSIGN_OR_RETURN(std::unique_ptr<EncodeStream> stream, backend.OpenEncodeStream(options));
  return StreamWhole(*stream, audio, audio.num_frames(), chunk, 1.0 / sample_rate, &SliceFrames,
                     &ConcatCodes, "encode");
}

// `codes` decoded whole when they fit in one step of --chunk_seconds (whole
// groups of the coarsest level) or are seeded, else as a stream of steps.
absl::StatusOr<Audio> DecodeWhole(const CodecBackend& backend, const Codes& codes,
                                  const DecodeOptions& options) {
  if (options.noise == NoiseMode::kSeeded || codes.levels.empty()) {
    return backend.Decode(codes, options);
  }
  const CodecDescription& desc = backend.description();
  const int64_t finest = codes.levels.back().frames;
  // Finest frames per code of the coarsest level: steps are whole groups.
  const int64_t group =
      std::max<int64_t>(1, finest / std::max<int64_t>(1, codes.levels.front().frames));
  const double frame_seconds = static_cast<double>(desc.hop_length) / desc.sample_rate;
  const int64_t chunk =
      std::max<int64_t>(1, std::llround(absl::GetFlag(FLAGS_chunk_seconds) / frame_seconds /
                                        static_cast<double>(group))) *
      group;
  if (finest <= chunk) return backend.Decode(codes, options);
  ASSIGN_OR_RETURN(std::unique_ptr<DecodeStream> stream,
                   backend.OpenDecodeStream(options, codes.num_samples));
  return StreamWhole(*stream, codes, finest, chunk, frame_seconds, &SliceCodes, &ConcatAudio,
                     "decode");
}

absl::Status Encode() {
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_input), "input"));
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_output), "output"));
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend, LoadedBackend());
  const CodecDescription& desc = backend->description();
  ASSIGN_OR_RETURN(Audio input, io::ReadWav(absl::GetFlag(FLAGS_input)));
  std::string report;
  ASSIGN_OR_RETURN(Audio audio, io::ConvertAudio(input, desc.sample_rate, desc.channels, &report));
  if (!report.empty()) std::cerr << "codec_tool: input " << report << "\n";
  EncodeOptions options;
  options.bandwidth_kbps = absl::GetFlag(FLAGS_bandwidth);
  options.n_q = absl::GetFlag(FLAGS_n_q);
  ASSIGN_OR_RETURN(Codes codes, EncodeWhole(*backend, audio, options));
  return io::WriteCodesNpz(absl::GetFlag(FLAGS_output), codes, desc);
}

absl::Status Decode() {
  RETURN_IF_ERROR(RequireFlag(absl::GetFlag(FLAGS_input), "input"));
  const std::string output = absl::GetFlag(FLAGS_output);
  RETURN_IF_ERROR(RequireFlag(output, "output"));
  if (!absl::EndsWith(output, ".wav") && !absl::EndsWith(output, ".npy")) {
    return absl::InvalidArgumentError(
        absl::StrCat("--output must end in .wav or .npy, got '", output, "'"));
  }
  ASSIGN_OR_RETURN(DecodeOptions options,
                   ParseDecodeOptions(absl::GetFlag(FLAGS_noise), absl::GetFlag(FLAGS_seed)));
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend, LoadedBackend());
  ASSIGN_OR_RETURN(Codes codes,
                   io::ReadCodesNpz(absl::GetFlag(FLAGS_input), backend->description()));
  ASSIGN_OR_RETURN(Audio audio, DecodeWhole(*backend, codes, options));
  if (absl::EndsWith(output, ".wav")) return io::WriteWavFloat32(output, audio);
  const io::NpyArray array =
      io::NpyFromFloat32({audio.channels, audio.num_frames()}, audio.samples);
  return io::WriteFileBytes(output, io::SerializeNpy(array));
}

absl::Status Info() {
  ASSIGN_OR_RETURN(std::shared_ptr<CodecBackend> backend,
                   CreateBackend({.model = absl::GetFlag(FLAGS_model),
                                  .weights = absl::GetFlag(FLAGS_weights),
                                  .config = absl::GetFlag(FLAGS_config)}));
  const CodecDescription& d = backend->description();
  nlohmann::json json = {
      {"model", backend->id()},
      {"family", d.family},
      {"sample_rate", d.sample_rate},
      {"channels", d.channels},
      {"hop_length", d.hop_length},
      {"codebook_size", d.codebook_size},
      {"codebooks_per_level", d.codebooks_per_level},
      {"frame_rates", d.frame_rates},
      {"level_strides", d.level_strides},
      {"bandwidths_kbps", d.bandwidths_kbps},
      {"has_noise", d.has_noise},
      {"segment_length", d.segment_length},
  };
  std::cout << json.dump(2) << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace codec

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "codec_tool encode|decode|info --model=PRESET [--weights=PATH] [--config=FILE] ...");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "usage: " << absl::ProgramUsageMessage() << "\n";
    return 2;
  }
  if (const absl::Status cache =
          codec::InstallCpuBlockCache(absl::GetFlag(FLAGS_cpu_block_cache_mb));
      !cache.ok()) {
    std::cerr << "--cpu_block_cache_mb: " << cache << "\n";
    return 2;
  }
  at::set_num_threads(std::max(1, absl::GetFlag(FLAGS_threads)));
  if (const absl::Status precision = codec::nn::SetConvPrecision(absl::GetFlag(FLAGS_precision));
      !precision.ok()) {
    std::cerr << "--precision: " << precision << "\n";
    return 2;
  }
  const std::string command = args[1];
  absl::Status status;
  if (command == "encode") {
    status = codec::Encode();
  } else if (command == "decode") {
    status = codec::Decode();
  } else if (command == "info") {
    status = codec::Info();
  } else {
    std::cerr << "codec_tool: unknown command '" << command << "'; use encode, decode or info\n";
    return 2;
  }
  if (!status.ok()) {
    std::cerr << "codec_tool: " << command << " failed: " << status << "\n";
    return 1;
  }
  return 0;
}
