// codec_client: calls a codec_server.
//
//   codec_client encode    --server=H:P --model=ID [--bandwidth=K | --n_q=N]
//                          --input=IN.wav --output=OUT.npz
//   codec_client decode    --server=H:P --model=ID [--noise=on|off] [--seed=N]
//                          --input=IN.npz --output=OUT.wav
//   codec_client roundtrip --server=H:P --model=ID --input=IN.wav --output=OUT.wav
//                          [--codes=OUT.npz]
//   codec_client load      --server=H:P --model=ID --preset=P [--weights=PATH] [--device=D]
//   codec_client unload|info --server=H:P --model=ID
//   codec_client list|devices --server=H:P
//   codec_client health    --server=H:P [--service=NAME]   (exit 0 only when SERVING)

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "backends/core/status_macros.h"
#include "backends/io/audio_convert.h"
#include "backends/io/codes_npz.h"
#include "backends/io/read_file.h"
#include "backends/io/wav.h"
#include "client/channel.h"
#include "client/codec_client.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "codec_server address.");
ABSL_FLAG(std::string, model, "", "Model id on the server.");
ABSL_FLAG(std::string, service, "",
          "health: the service to check, e.g. codec.v1.CodecService; empty: the server.");
ABSL_FLAG(std::string, preset, "", "load: preset or family.");
ABSL_FLAG(std::string, weights, "", "load: weights path inside the server's model repository.");
ABSL_FLAG(std::string, device, "",
          "load: device(s) of the server, e.g. cuda:0, cpu:0,cpu:1 or all; empty: the server's "
          "choice.");
ABSL_FLAG(std::optional<double>, bandwidth, std::nullopt, "encode: bandwidth in kbps.");
ABSL_FLAG(std::optional<int>, n_q, std::nullopt, "encode: number of quantisers.");
ABSL_FLAG(std::string, noise, "on", "decode: decoder noise (SNAC), on or off.");
ABSL_FLAG(std::optional<uint64_t>, seed, std::nullopt, "decode: seed for reproducible noise.");
ABSL_FLAG(std::string, input, "", "Input file.");
ABSL_FLAG(std::string, output, "", "Output file.");
ABSL_FLAG(std::string, codes, "", "roundtrip: also write the codes here (.npz).");
ABSL_FLAG(double, timeout_seconds, 0, "Deadline of each call; 0: none.");
ABSL_FLAG(bool, tls, false,
          "Use TLS (implied by --tls_ca / --tls_cert), trusting the system's roots.");
ABSL_FLAG(std::string, tls_ca, "", "PEM roots that the server's certificate must chain to.");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate, for servers that require one.");
ABSL_FLAG(std::string, tls_key, "", "PEM key of --tls_cert.");
ABSL_FLAG(std::string, token_file, "",
          "File holding a bearer token sent with every call (authorization: Bearer).");
ABSL_FLAG(bool, realtime, false,
          "encode/decode: stream the input paced at real time (as a microphone or a TTS model "
          "would) and report time to first output and per-chunk latency.");
ABSL_FLAG(int, chunk_frames, 4, "realtime: frames of audio or codes per message.");
ABSL_FLAG(std::optional<int64_t>, lookahead_frames, std::nullopt,
          "decode: frames past a frame the stream waits for before sending its audio; below the "
          "model's decode lookahead, audio leaves earlier and is not exact (default: exact).");

namespace codec::client {
namespace {

// --noise, --seed and --lookahead_frames.
absl::StatusOr<DecodeOptions> DecodeOptionsFromFlags() {
  ASSIGN_OR_RETURN(DecodeOptions options,
                   ParseDecodeOptions(absl::GetFlag(FLAGS_noise), absl::GetFlag(FLAGS_seed)));
  options.lookahead_frames = absl::GetFlag(FLAGS_lookahead_frames);
  if (options.lookahead_frames.value_or(0) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--lookahead_frames must be 0 or more, got ", *options.lookahead_frames));
  }
  return options;
}

// A one-line progress bar on stderr, drawn only for terminals.
Progress ProgressBar(const char* what) {
  if (!isatty(STDERR_FILENO)) return nullptr;
  return [what](double done) {
    const int filled = static_cast<int>(done * 30);
    std::cerr << "\r" << what << " [" << std::string(filled, '#') << std::string(30 - filled, ' ')
              << "] " << static_cast<int>(done * 100) << "%" << (done >= 1 ? "\n" : "")
              << std::flush;
  };
}

absl::StatusOr<CodecDescription> Describe(CodecClient& client, const std::string& model) {
  ASSIGN_OR_RETURN(v1::ModelInfo info, client.Get(model));
  const v1::ModelDescription& d = info.description();
  CodecDescription out;
  out.family = d.family();
  out.sample_rate = static_cast<int>(d.sample_rate());
  out.channels = static_cast<int>(d.channels());
  out.hop_length = static_cast<int>(d.hop_length());
  return out;
}

absl::StatusOr<Audio> ReadForModel(const CodecDescription& desc) {
  ASSIGN_OR_RETURN(Audio input, io::ReadWav(absl::GetFlag(FLAGS_input)));
  std::string report;
  ASSIGN_OR_RETURN(Audio audio, io::ConvertAudio(input, desc.sample_rate, desc.channels, &report));
  if (!report.empty()) std::cerr << "codec_client: input " << report << "\n";
  return audio;
}

absl::StatusOr<Codes> EncodeInput(CodecClient& client, const CodecDescription& desc,
                                  const Audio& audio) {
  EncodeOptions options;
  options.bandwidth_kbps = absl::GetFlag(FLAGS_bandwidth);
  options.n_q = absl::GetFlag(FLAGS_n_q);
  return client.Encode(absl::GetFlag(FLAGS_model), audio, options, desc.sample_rate / 4,
                       ProgressBar("encode"));
}

absl::StatusOr<Audio> DecodeCodes(CodecClient& client, const Codes& codes) {
  ASSIGN_OR_RETURN(DecodeOptions options, DecodeOptionsFromFlags());
  return client.Decode(absl::GetFlag(FLAGS_model), codes, options, 150, ProgressBar("decode"));
}

// When each chunk was sent and each output arrived, for a paced stream; on
// a terminal, the latency so far as one live line on stderr.
class PacedStream {
 public:
  // `frames` input frames, sent `chunk` at a time, each taking `chunk_seconds`;
  // `what` names the stream in its lines.
  PacedStream(const char* what, int64_t frames, int64_t chunk, double chunk_seconds)
      : what_(what),
        live_(isatty(STDERR_FILENO)),
        frames_(frames),
        chunk_(chunk),
        chunk_seconds_(chunk_seconds),
        start_(absl::Now()) {}

  // The next chunk's [first, last) frames once its time has come, or nullopt.
  std::optional<std::pair<int64_t, int64_t>> Next() {
    if (sent_ >= frames_) return std::nullopt;
    absl::SleepFor(start_ + absl::Seconds(chunk_seconds_ * sent_times_.size()) - absl::Now());
    sent_times_.push_back(absl::Now());
    const int64_t first = sent_;
    sent_ = std::min(frames_, sent_ + chunk_);
    return std::make_pair(first, sent_);
  }

  // Output that needed input frames up to `last_input_frame` arrived now.
  void Arrived(int64_t last_input_frame) {
    const absl::Time now = absl::Now();
    if (first_output_ == absl::InfiniteFuture()) first_output_ = now;
    const size_t chunk = static_cast<size_t>(std::max<int64_t>(0, last_input_frame) / chunk_);
    if (chunk < sent_times_.size()) {
      latencies_ms_.push_back(absl::ToDoubleMilliseconds(now - sent_times_[chunk]));
      if (live_) ShowLive();
    }
  }

  void Report() {
    if (live_) std::cerr << "\n";
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
    auto at = [&](double q) {
      return latencies_ms_.empty() ? 0.0 : latencies_ms_[static_cast<size_t>(q * (latencies_ms_.size() - 1))];
    };
    std::cout << what_ << ": first output after "
              << absl::ToDoubleMilliseconds(first_output_ - start_) << " ms; " << latencies_ms_.size()
              << " outputs, latency from the input they needed p50 " << at(0.5) << " ms, p90 "
              << at(0.9) << " ms, max " << at(1.0) << " ms\n";
  }

 private:
  // "\r<what>: <input sent> s sent, <outputs> outputs, latency <last> ms (max <max> ms)".
  void ShowLive() {
    max_ms_ = std::max(max_ms_, latencies_ms_.back());
    std::cerr << "\r" << what_ << ": "
              << absl::StrFormat("%.1f s sent, %d outputs, latency %.0f ms (max %.0f ms)   ",
                                 chunk_seconds_ * sent_times_.size(), latencies_ms_.size(),
                                 latencies_ms_.back(), max_ms_)
              << std::flush;
  }

  const char* const what_;
  const bool live_;
  double max_ms_ = 0;
  const int64_t frames_, chunk_;
  const double chunk_seconds_;
  const absl::Time start_;
  int64_t sent_ = 0;
  std::vector<absl::Time> sent_times_;
  absl::Time first_output_ = absl::InfiniteFuture();
  std::vector<double> latencies_ms_;
};

// Encodes `audio` paced at real time in chunks of --chunk_frames frames.
absl::StatusOr<Codes> EncodeRealtime(CodecClient& client, const CodecDescription& desc,
                                     const Audio& audio) {
  EncodeOptions options;
  options.bandwidth_kbps = absl::GetFlag(FLAGS_bandwidth);
  options.n_q = absl::GetFlag(FLAGS_n_q);
  const int64_t chunk = int64_t{absl::GetFlag(FLAGS_chunk_frames)} * desc.hop_length;
  PacedStream pace("encode", audio.num_frames(), chunk,
                   static_cast<double>(chunk) / desc.sample_rate);
  std::vector<Codes> parts;
  ASSIGN_OR_RETURN(
      v1::EncodeSummary summary,
      client.EncodeStream(
          absl::GetFlag(FLAGS_model), desc.sample_rate, desc.channels, options,
          [&]() -> std::optional<Audio> {
            auto range = pace.Next();
            if (!range) return std::nullopt;
            return SliceFrames(audio, range->first, range->second);
          },
          [&](const Codes& codes, int64_t start_frame) {
            const int64_t end = start_frame + codes.levels.back().frames;
            pace.Arrived(std::min(audio.num_frames(), end * desc.hop_length) - 1);
            parts.push_back(codes);
          }));
  pace.Report();
  Codes codes = ConcatCodes(parts);
  codes.num_samples = static_cast<int64_t>(summary.num_samples());
  return codes;
}

// Decodes `codes` paced at real time, --chunk_frames frames (whole groups) a message.
absl::StatusOr<Audio> DecodeRealtime(CodecClient& client, const CodecDescription& desc,
                                     const Codes& codes) {
  ASSIGN_OR_RETURN(DecodeOptions options, DecodeOptionsFromFlags());
  const int64_t finest = codes.levels.back().frames;
  const int64_t group = finest / codes.levels.front().frames;
  const int64_t chunk = std::max<int64_t>(1, absl::GetFlag(FLAGS_chunk_frames) / group) * group;
  PacedStream pace("decode", finest, chunk,
                   static_cast<double>(chunk * desc.hop_length) / desc.sample_rate);
  std::vector<Audio> parts;
  RETURN_IF_ERROR(client.DecodeStream(
      absl::GetFlag(FLAGS_model), options, codes.num_samples,
      [&]() -> std::optional<Codes> {
        auto range = pace.Next();
        if (!range) return std::nullopt;
        return SliceCodes(codes, range->first, range->second);
      },
      [&](const Audio& audio, int64_t start_sample) {
        pace.Arrived((start_sample + audio.num_frames() - 1) / desc.hop_length);
        parts.push_back(audio);
      }));
  pace.Report();
  return ConcatAudio(parts);
}

// Signal-to-noise ratio of `decoded` against `reference`, over their common length.
double SnrDb(const Audio& reference, const Audio& decoded) {
  const int64_t frames = std::min(reference.num_frames(), decoded.num_frames());
  double signal = 0, noise = 0;
  for (int c = 0; c < reference.channels; ++c) {
    for (int64_t t = 0; t < frames; ++t) {
      const double r = reference.samples[c * reference.num_frames() + t];
      const double d = decoded.samples[c * decoded.num_frames() + t];
      signal += r * r;
      noise += (r - d) * (r - d);
    }
  }
  return 10 * std::log10(signal / std::max(noise, 1e-20));
}

absl::Status Run(const std::string& command) {
  const double timeout = absl::GetFlag(FLAGS_timeout_seconds);
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   OpenChannel(absl::GetFlag(FLAGS_server),
                               {.tls = absl::GetFlag(FLAGS_tls),
                                .root_certs_file = absl::GetFlag(FLAGS_tls_ca),
                                .cert_file = absl::GetFlag(FLAGS_tls_cert),
                                .key_file = absl::GetFlag(FLAGS_tls_key)}));
  std::string token;
  if (const std::string token_file = absl::GetFlag(FLAGS_token_file); !token_file.empty()) {
    ASSIGN_OR_RETURN(token, io::ReadFileBytes(token_file, io::kMostCredentialFileBytes));
    token = std::string(absl::StripAsciiWhitespace(token));
  }
  CodecClient client(std::move(channel),
                     timeout > 0 ? absl::Seconds(timeout) : absl::InfiniteDuration(),
                     std::move(token));
  const std::string model = absl::GetFlag(FLAGS_model);
  if (command == "list") {
    ASSIGN_OR_RETURN(std::vector<v1::ModelInfo> models, client.List());
    for (const v1::ModelInfo& info : models) {
      std::cout << info.model_id() << "\t" << v1::ModelState_Name(info.state()) << "\t"
                << info.description().family() << "\t" << info.description().sample_rate()
                << " Hz\n";
    }
    return absl::OkStatus();
  }
  if (command == "devices") {
    ASSIGN_OR_RETURN(std::vector<v1::DeviceInfo> devices, client.Devices());
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    for (const v1::DeviceInfo& device : devices) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(device, &json, options);
      std::cout << json;
    }
    return absl::OkStatus();
  }
  if (command == "health") {
    const std::string service = absl::GetFlag(FLAGS_service);
    ASSIGN_OR_RETURN(const grpc::health::v1::HealthCheckResponse::ServingStatus serving,
                     client.Health(service));
    const std::string name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(serving);
    std::cout << name << "\n";
    if (serving != grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::UnavailableError(absl::StrCat("'", service, "' is ", name));
    }
    return absl::OkStatus();
  }
  if (model.empty()) return absl::InvalidArgumentError("--model is required");
  if (command == "info" || command == "load") {
    v1::ModelInfo info;
    if (command == "load") {
      ASSIGN_OR_RETURN(info,
                       client.Load(model, absl::GetFlag(FLAGS_preset), absl::GetFlag(FLAGS_weights),
                                   absl::GetFlag(FLAGS_device)));
    } else {
      ASSIGN_OR_RETURN(info, client.Get(model));
    }
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(info, &json, options);
    std::cout << json;
    return absl::OkStatus();
  }
  if (command == "unload") return client.Unload(model);
  ASSIGN_OR_RETURN(CodecDescription desc, Describe(client, model));
  const bool realtime = absl::GetFlag(FLAGS_realtime);
  if (command == "encode") {
    ASSIGN_OR_RETURN(Audio audio, ReadForModel(desc));
    ASSIGN_OR_RETURN(Codes codes, realtime ? EncodeRealtime(client, desc, audio)
                                           : EncodeInput(client, desc, audio));
    return io::WriteCodesNpz(absl::GetFlag(FLAGS_output), codes, desc);
  }
  if (command == "decode") {
    ASSIGN_OR_RETURN(Codes codes, io::ReadCodesNpz(absl::GetFlag(FLAGS_input), desc));
    ASSIGN_OR_RETURN(Audio audio, realtime ? DecodeRealtime(client, desc, codes)
                                           : DecodeCodes(client, codes));
    return io::WriteWavFloat32(absl::GetFlag(FLAGS_output), audio);
  }
  if (command == "roundtrip") {
    ASSIGN_OR_RETURN(Audio audio, ReadForModel(desc));
    ASSIGN_OR_RETURN(Codes codes, EncodeInput(client, desc, audio));
    if (!absl::GetFlag(FLAGS_codes).empty()) {
      RETURN_IF_ERROR(io::WriteCodesNpz(absl::GetFlag(FLAGS_codes), codes, desc));
    }
    ASSIGN_OR_RETURN(Audio decoded, DecodeCodes(client, codes));
    RETURN_IF_ERROR(io::WriteWavFloat32(absl::GetFlag(FLAGS_output), decoded));
    std::cout << "duration " << static_cast<double>(audio.num_frames()) / desc.sample_rate << " s, "
              << codes.Flatten().size() << " tokens, SNR " << SnrDb(audio, decoded) << " dB\n";
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
}

}  // namespace
}  // namespace codec::client

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr
        << "usage: codec_client encode|decode|roundtrip|load|unload|list|info|devices|health "
           "--server=H:P "
           "--model=ID ...\n";
    return 2;
  }
  const absl::Status status = codec::client::Run(args[1]);
  if (!status.ok()) {
    std::cerr << "codec_client: " << args[1] << " failed: " << status << "\n";
    return 1;
  }
  return 0;
}
