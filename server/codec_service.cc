#include "server/codec_service.h"

#include <chrono>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backends/core/status_macros.h"
#include "proto/pcm_format.h"
#include "proto/token_format.h"
#include "server/request_log.h"

namespace codec::server {
namespace {

constexpr int64_t kResponseFrames = 24000;  // PCM frames per DecodeResponse.

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// Stops model work when the client cancels or the deadline passes.
StopCheck StopFor(const grpc::ServerContext* context) {
  return [context]() -> absl::Status {
    // A passed deadline also cancels the call: name the deadline first. The
    // client cancels at its own clock's deadline, which may reach us a moment
    // before ours passes: a cancel that close to the deadline is the deadline.
    constexpr std::chrono::milliseconds kDeadlineSlack(250);
    const auto now = std::chrono::system_clock::now();
    if (context->deadline() <= now) {
      return absl::DeadlineExceededError("the call's deadline passed");
    }
    if (context->IsCancelled()) {
      if (context->deadline() <= now + kDeadlineSlack) {
        return absl::DeadlineExceededError("the call's deadline passed");
      }
      return absl::CancelledError("the client cancelled the call");
    }
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

namespace {

absl::Status OverLimit(double seconds) {
  return absl::ResourceExhaustedError(absl::StrCat("stream exceeds the ", seconds, " s limit"));
}

}  // namespace

grpc::Status CodecServiceImpl::Encode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EncodeResponse, v1::EncodeRequest>* stream) {
  RequestLog log("Encode", context);
  if (grpc::Status allowed = access_.Check(*context, AccessPolicy::Action::kUse); !allowed.ok()) {
    return log.Finish(allowed);
  }
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
  if (absl::StatusOr<int> width = v1::BytesPerSample(config.format()); !width.ok()) {
    return log.Finish(ToGrpc(width.status()));
  }
  EncodeOptions options{.stop = StopFor(context)};
  if (config.quantizers_case() == v1::EncodeConfig::kBandwidthKbps) {
    options.bandwidth_kbps = config.bandwidth_kbps();
  } else if (config.quantizers_case() == v1::EncodeConfig::kNQ) {
    if (config.n_q() > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
      return log.Finish(Invalid(absl::StrCat("n_q ", config.n_q(), " is too large")));
    }
    options.n_q = static_cast<int>(config.n_q());
  }
  absl::StatusOr<std::unique_ptr<EncodeStream>> session =
      start->lease.provider().OpenEncodeStream(options);
  if (!session.ok()) return log.Finish(ToGrpc(session.status()));
  const int64_t max_samples = static_cast<int64_t>(limits_.max_stream_seconds * desc.sample_rate);
  int64_t samples = 0;
  int64_t frames = 0;
  // Sends the codes that became final; the summary follows the last.
  auto send = [&](const Codes& codes) {
    const int64_t new_frames = codes.levels.back().frames;
    if (new_frames == 0 && codes.scales.empty()) return;
    v1::EncodeResponse response;
    *response.mutable_tokens() = v1::TokenChunkFromCodes(codes);
    response.mutable_tokens()->set_start_frame(static_cast<uint64_t>(frames));
    frames += new_frames;
    log.MarkFirstOutput();
    stream->Write(response);
  };
  v1::EncodeRequest request;
  while (stream->Read(&request)) {
    if (request.has_config()) return log.Finish(Invalid("the config may only be sent once"));
    absl::StatusOr<Audio> audio =
        v1::AudioFromPcm(request.pcm(), config.format(), desc.sample_rate, desc.channels);
    if (!audio.ok()) return log.Finish(ToGrpc(audio.status()));
    samples += audio->num_frames();
    log.set_samples(samples);
    if (max_samples > 0 && samples > max_samples) {
      return log.Finish(ToGrpc(OverLimit(limits_.max_stream_seconds)));
    }
    absl::StatusOr<Codes> codes = slots_.Run(options.stop, [&] { return (*session)->Push(*audio); });
    if (!codes.ok()) return log.Finish(ToGrpc(codes.status()));
    send(*codes);
  }
  // A cancelled stream also ends its reads: do not finish what arrived.
  if (absl::Status stopped = options.stop(); !stopped.ok()) return log.Finish(ToGrpc(stopped));
  absl::StatusOr<Codes> rest = slots_.Run(options.stop, [&] { return (*session)->Finish(); });
  if (!rest.ok()) return log.Finish(ToGrpc(rest.status()));
  send(*rest);
  v1::EncodeResponse response;
  response.mutable_summary()->set_frames(static_cast<uint64_t>(frames));
  response.mutable_summary()->set_num_samples(static_cast<uint64_t>(rest->num_samples));
  stream->Write(response);
  return log.Finish(grpc::Status::OK);
}

grpc::Status CodecServiceImpl::Decode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::DecodeResponse, v1::DecodeRequest>* stream) {
  RequestLog log("Decode", context);
  if (grpc::Status allowed = access_.Check(*context, AccessPolicy::Action::kUse); !allowed.ok()) {
    return log.Finish(allowed);
  }
  absl::StatusOr<StreamStart<v1::DecodeConfig>> start =
      StartStream("DecodeRequest", registry_, stream, log);
  if (!start.ok()) return log.Finish(ToGrpc(start.status()));
  const v1::DecodeConfig& config = start->config;
  if (absl::StatusOr<int> width = v1::BytesPerSample(config.format()); !width.ok()) {
    return log.Finish(ToGrpc(width.status()));
  }
  const CodecDescription& desc = start->lease.provider().description();
  DecodeOptions options{.stop = StopFor(context)};
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
  if (config.num_samples() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return log.Finish(Invalid(absl::StrCat("num_samples ", config.num_samples(), " is too large")));
  }
  if (limits_.max_stream_seconds > 0 &&
      static_cast<double>(config.num_samples()) > limits_.max_stream_seconds * desc.sample_rate) {
    return log.Finish(ToGrpc(OverLimit(limits_.max_stream_seconds)));
  }
  absl::StatusOr<std::unique_ptr<DecodeStream>> session = start->lease.provider().OpenDecodeStream(
      options, static_cast<int64_t>(config.num_samples()));
  if (!session.ok()) return log.Finish(ToGrpc(session.status()));
  const int64_t max_frames =
      static_cast<int64_t>(limits_.max_stream_seconds * desc.sample_rate / desc.hop_length);
  int64_t frames = 0;
  int64_t samples = 0;
  // Sends the audio that became final, in messages of at most kResponseFrames.
  auto send = [&](const Audio& audio) {
    v1::DecodeResponse response;
    response.set_sample_rate(audio.sample_rate);
    response.set_channels(audio.channels);
    for (int64_t first = 0; first < audio.num_frames(); first += kResponseFrames) {
      const int64_t last = std::min(audio.num_frames(), first + kResponseFrames);
      response.set_pcm(v1::PcmFromAudio(audio, config.format(), first, last));
      response.set_start_sample(static_cast<uint64_t>(samples + first));
      log.MarkFirstOutput();
      stream->Write(response);
    }
    samples += audio.num_frames();
    log.set_samples(samples);
  };
  v1::DecodeRequest request;
  while (stream->Read(&request)) {
    if (request.has_config()) return log.Finish(Invalid("the config may only be sent once"));
    absl::StatusOr<Codes> codes = v1::CodesFromTokenChunk(request.tokens());
    if (!codes.ok()) return log.Finish(ToGrpc(codes.status()));
    // Sizes are checked (CodesFromTokenChunk); the session checks the rest
    // against the model before any work.
    if (!codes->levels.empty()) frames += codes->levels[0].frames * desc.level_strides[0];
    if (max_frames > 0 && frames > max_frames) {
      return log.Finish(ToGrpc(OverLimit(limits_.max_stream_seconds)));
    }
    absl::StatusOr<Audio> audio = slots_.Run(options.stop, [&] { return (*session)->Push(*codes); });
    if (!audio.ok()) return log.Finish(ToGrpc(audio.status()));
    send(*audio);
  }
  if (absl::Status stopped = options.stop(); !stopped.ok()) return log.Finish(ToGrpc(stopped));
  absl::StatusOr<Audio> rest = slots_.Run(options.stop, [&] { return (*session)->Finish(); });
  if (!rest.ok()) return log.Finish(ToGrpc(rest.status()));
  send(*rest);
  return log.Finish(grpc::Status::OK);
}

}  // namespace codec::server
