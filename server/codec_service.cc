#include "server/codec_service.h"

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backends/core/status_macros.h"
#include "proto/pcm_format.h"
#include "proto/token_format.h"

namespace codec::server {
namespace {

constexpr int64_t kResponseFrames = 24000;  // PCM frames per DecodeResponse.

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// One line per request: what, on which model, how big, how long, how it ended.
class RequestLog {
 public:
  explicit RequestLog(const char* rpc) : rpc_(rpc), start_(absl::Now()) {}

  void set_model(std::string model) { model_ = std::move(model); }
  void set_samples(int64_t samples) { samples_ = samples; }

  // Logs the request's end and passes `status` through.
  grpc::Status Finish(grpc::Status status) const {
    fprintf(stderr, "codec_server: %s model=%s samples=%lld ms=%.1f status=%d %s\n", rpc_,
            model_.c_str(), static_cast<long long>(samples_),
            absl::ToDoubleMilliseconds(absl::Now() - start_), status.error_code(),
            status.error_message().c_str());
    return status;
  }

 private:
  const char* rpc_;
  const absl::Time start_;
  std::string model_;
  int64_t samples_ = 0;
};

// Stops model work when the client cancels or the deadline passes.
StopCheck StopFor(const grpc::ServerContext* context) {
  return [context]() -> absl::Status {
    // A passed deadline also cancels the call: name the deadline first.
    if (context->deadline() <= std::chrono::system_clock::now()) {
      return absl::DeadlineExceededError("the call's deadline passed");
    }
    if (context->IsCancelled()) return absl::CancelledError("the client cancelled the call");
    return absl::OkStatus();
  };
}

// A stream's first message, which must carry its config, and a lease on the
// model the config names.
template <typename Config>
struct StreamStart {
  Config config;
  ModelLease lease;
};

template <typename Request, typename Response>
absl::StatusOr<StreamStart<std::decay_t<decltype(std::declval<Request>().config())>>> StartStream(
    const char* request_name, ModelRegistry& registry,
    grpc::ServerReaderWriter<Response, Request>* stream, RequestLog& log) {
  Request request;
  if (!stream->Read(&request) || !request.has_config()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the first ", request_name, " must carry the config"));
  }
  log.set_model(request.config().model_id());
  ASSIGN_OR_RETURN(ModelLease lease, registry.Acquire(request.config().model_id()));
  return StreamStart<std::decay_t<decltype(request.config())>>{request.config(), std::move(lease)};
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status CodecServiceImpl::Encode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EncodeResponse, v1::EncodeRequest>* stream) {
  RequestLog log("Encode");
  absl::StatusOr<StreamStart<v1::EncodeConfig>> start =
      StartStream("EncodeRequest", registry_, stream, log);
  if (!start.ok()) return log.Finish(ToGrpc(start.status()));
  const v1::EncodeConfig& config = start->config;
  const CodecDescription& desc = start->lease.provider().description();
  if (config.sample_rate() != static_cast<uint32_t>(desc.sample_rate) ||
      config.channels() != static_cast<uint32_t>(desc.channels)) {
    return log.Finish(Invalid(absl::StrCat(
        "model '", config.model_id(), "' takes ", desc.sample_rate, " Hz, ", desc.channels,
        " channel(s); the config says ", config.sample_rate(), " Hz, ", config.channels())));
  }
  absl::StatusOr<int> width = v1::BytesPerSample(config.format());
  if (!width.ok()) return log.Finish(ToGrpc(width.status()));
  const uint64_t max_bytes =
      static_cast<uint64_t>(limits_.max_stream_seconds * desc.sample_rate) * desc.channels * *width;
  const StopCheck stop = StopFor(context);
  std::string pcm;
  v1::EncodeRequest request;
  while (stream->Read(&request)) {
    if (request.has_config()) return log.Finish(Invalid("the config may only be sent once"));
    if (pcm.size() + request.pcm().size() > max_bytes) {
      return log.Finish(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("stream exceeds the ", limits_.max_stream_seconds, " s limit")));
    }
    pcm += request.pcm();
  }
  // A cancelled stream also ends its reads: do not encode what arrived.
  if (absl::Status stopped = stop(); !stopped.ok()) return log.Finish(ToGrpc(stopped));
  absl::StatusOr<Audio> audio =
      v1::AudioFromPcm(pcm, config.format(), desc.sample_rate, desc.channels);
  if (!audio.ok()) return log.Finish(ToGrpc(audio.status()));
  log.set_samples(audio->num_frames());
  EncodeOptions options{.stop = stop};
  if (config.quantizers_case() == v1::EncodeConfig::kBandwidthKbps) {
    options.bandwidth_kbps = config.bandwidth_kbps();
  } else if (config.quantizers_case() == v1::EncodeConfig::kNQ) {
    options.n_q = static_cast<int>(config.n_q());
  }
  absl::StatusOr<Codes> codes =
      slots_.Run(stop, [&] { return start->lease.provider().Encode(*audio, options); });
  if (!codes.ok()) return log.Finish(ToGrpc(codes.status()));
  v1::EncodeResponse response;
  *response.mutable_tokens() = v1::TokenChunkFromCodes(*codes, 0, codes->levels.back().frames);
  stream->Write(response);
  response.Clear();
  response.mutable_summary()->set_frames(codes->levels.back().frames);
  response.mutable_summary()->set_num_samples(codes->num_samples);
  stream->Write(response);
  return log.Finish(grpc::Status::OK);
}

grpc::Status CodecServiceImpl::Decode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::DecodeResponse, v1::DecodeRequest>* stream) {
  RequestLog log("Decode");
  absl::StatusOr<StreamStart<v1::DecodeConfig>> start =
      StartStream("DecodeRequest", registry_, stream, log);
  if (!start.ok()) return log.Finish(ToGrpc(start.status()));
  const v1::DecodeConfig& config = start->config;
  absl::StatusOr<int> width = v1::BytesPerSample(config.format());
  if (!width.ok()) return log.Finish(ToGrpc(width.status()));
  const CodecDescription& desc = start->lease.provider().description();
  const int64_t max_frames =
      static_cast<int64_t>(limits_.max_stream_seconds * desc.sample_rate / desc.hop_length) + 1;
  const StopCheck stop = StopFor(context);
  Codes codes;
  codes.num_samples = static_cast<int64_t>(config.num_samples());
  v1::DecodeRequest request;
  while (stream->Read(&request)) {
    if (request.has_config()) return log.Finish(Invalid("the config may only be sent once"));
    absl::Status appended = v1::AppendTokenChunk(request.tokens(), codes);
    if (!appended.ok()) return log.Finish(ToGrpc(appended));
    if (codes.levels.back().frames > max_frames) {
      return log.Finish(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("stream exceeds the ", limits_.max_stream_seconds, " s limit")));
    }
  }
  if (absl::Status stopped = stop(); !stopped.ok()) return log.Finish(ToGrpc(stopped));
  if (codes.levels.empty()) return log.Finish(Invalid("the stream carried no tokens"));
  DecodeOptions options{.stop = stop};
  switch (config.noise()) {
    case v1::NOISE_MODE_OFF:
      options.noise = NoiseMode::kOff;
      break;
    case v1::NOISE_MODE_SEEDED:
      options.noise = NoiseMode::kSeeded;
      options.seed = config.seed();
      break;
    default:
      options.noise = NoiseMode::kRandom;
      break;
  }
  absl::StatusOr<Audio> audio =
      slots_.Run(stop, [&] { return start->lease.provider().Decode(codes, options); });
  if (!audio.ok()) return log.Finish(ToGrpc(audio.status()));
  const int64_t samples = audio->num_frames();
  log.set_samples(samples);
  v1::DecodeResponse response;
  response.set_sample_rate(audio->sample_rate);
  response.set_channels(audio->channels);
  for (int64_t first = 0; first < samples; first += kResponseFrames) {
    if (absl::Status stopped = stop(); !stopped.ok()) return log.Finish(ToGrpc(stopped));
    response.set_pcm(v1::PcmFromAudio(*audio, config.format(), first,
                                      std::min(samples, first + kResponseFrames)));
    stream->Write(response);
  }
  return log.Finish(grpc::Status::OK);
}

}  // namespace codec::server
