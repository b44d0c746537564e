#include "server/codec_service.h"

#include <chrono>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "backends/core/audio.h"
#include "backends/core/codes.h"
#include "backends/core/status_macros.h"
#include "proto/pcm_format.h"
#include "proto/token_format.h"
#include "server/request_log.h"

namespace codec::server {
namespace {

constexpr int64_t kResponseFrames = 24000;  // PCM frames per DecodeResponse.
// The most audio one model call covers: a large message is cut into calls of
// this much, so a call's working memory is bounded whatever the message's
// size, and other streams get their turns between them.
constexpr int64_t kSecondsPerCall = 10;

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

// A stream's share of what all streams share: its memory reservation, and
// its record in the idle watch (every read and write on the client is a
// wait on it).
template <typename Response, typename Request>
class StreamHold {
 public:
  StreamHold(grpc::ServerReaderWriter<Response, Request>* stream, grpc::ServerContext* context,
             MemoryBudget& budget, IdleWatch& idle)
      : stream_(stream),
        memory_(budget),
        idle_(idle.Watch([context] { context->TryCancel(); })),
        idle_timeout_(idle.timeout()) {}

  bool Read(Request* request) {
    idle_->BeginWait();
    const bool read = stream_->Read(request);
    idle_->EndWait();
    return read;
  }
  void Write(const Response& response) {
    idle_->BeginWait();
    stream_->Write(response);
    idle_->EndWait();
  }
  // Holds `bytes` of the memory budget from now on.
  absl::Status Hold(int64_t bytes) { return memory_.Resize(bytes); }
  // Why the stream must end early: waiting too long on its client, or
  // `stop` (its deadline or cancellation); OK when neither.
  absl::Status Stopped(const StopCheck& stop) const {
    if (idle_->timed_out()) {
      return absl::DeadlineExceededError(absl::StrCat("the client sent or read nothing for ",
                                                      absl::FormatDuration(idle_timeout_),
                                                      "; the stream was ended"));
    }
    return stop();
  }

 private:
  grpc::ServerReaderWriter<Response, Request>* const stream_;
  MemoryBudget::Reservation memory_;
  const std::unique_ptr<IdleWatch::Stream> idle_;
  const absl::Duration idle_timeout_;
};

template <typename Request, typename Response>
absl::StatusOr<StreamStart<std::decay_t<decltype(std::declval<Request>().config())>>> StartStream(
    const char* request_name, ModelRegistry& registry, StreamHold<Response, Request>& hold,
    RequestLog& log) {
  Request request;
  if (!hold.Read(&request) || !request.has_config()) {
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
  RequestLog log("Encode", context, metrics_);
  if (grpc::Status allowed = access_.Check(*context, AccessPolicy::Action::kUse); !allowed.ok()) {
    return log.Finish(allowed);
  }
  StreamHold<v1::EncodeResponse, v1::EncodeRequest> hold(stream, context, memory_, idle_);
  if (absl::Status held = hold.Hold(limits_.stream_state_bytes); !held.ok()) {
    return log.Finish(ToGrpc(held));
  }
  absl::StatusOr<StreamStart<v1::EncodeConfig>> start =
      StartStream("EncodeRequest", registry_, hold, log);
  if (!start.ok()) return log.Finish(ToGrpc(start.status()));
  const v1::EncodeConfig& config = start->config;
  const CodecDescription& desc = start->lease.provider().description();
  if (config.sample_rate() != static_cast<uint32_t>(desc.sample_rate) ||
      config.channels() != static_cast<uint32_t>(desc.channels)) {
    return log.Finish(Invalid(absl::StrCat(
        "model '", config.model_id(), "' takes ", desc.sample_rate, " Hz, ", desc.channels,
        " channel(s); the config says ", config.sample_rate(), " Hz, ", config.channels())));
  }
  const absl::StatusOr<int> width = v1::BytesPerSample(config.format());
  if (!width.ok()) return log.Finish(ToGrpc(width.status()));
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
  const StepExecutor::Seat seat(start->lease.executor());
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
    hold.Write(response);
  };
  v1::EncodeRequest request;
  while (hold.Read(&request)) {
    if (request.has_config()) return log.Finish(Invalid("the config may only be sent once"));
    // The message and its float samples are in hand until pushed.
    const int64_t in_hand = static_cast<int64_t>(request.pcm().size()) * (1 + 4 / *width);
    if (absl::Status held = hold.Hold(limits_.stream_state_bytes + in_hand); !held.ok()) {
      return log.Finish(ToGrpc(held));
    }
    absl::StatusOr<Audio> audio =
        v1::AudioFromPcm(request.pcm(), config.format(), desc.sample_rate, desc.channels);
    if (!audio.ok()) return log.Finish(ToGrpc(audio.status()));
    samples += audio->num_frames();
    log.set_samples(samples, desc.sample_rate);
    if (max_samples > 0 && samples > max_samples) {
      return log.Finish(ToGrpc(OverLimit(limits_.max_stream_seconds)));
    }
    const int64_t step = kSecondsPerCall * desc.sample_rate;
    for (int64_t first = 0; first < audio->num_frames(); first += step) {
      const Audio part = SliceFrames(*audio, first, std::min(audio->num_frames(), first + step));
      absl::StatusOr<Codes> codes = start->lease.executor().Push(**session, part, options.stop);
      if (!codes.ok()) return log.Finish(ToGrpc(codes.status()));
      send(*codes);
    }
    request.Clear();
    (void)hold.Hold(limits_.stream_state_bytes);  // Shrinking always succeeds.
  }
  // A cancelled stream also ends its reads: do not finish what arrived.
  if (absl::Status stopped = hold.Stopped(options.stop); !stopped.ok()) {
    return log.Finish(ToGrpc(stopped));
  }
  absl::StatusOr<Codes> rest =
      start->lease.executor().RunAlone(options.stop, [&] { return (*session)->Finish(); });
  if (!rest.ok()) return log.Finish(ToGrpc(rest.status()));
  send(*rest);
  v1::EncodeResponse response;
  response.mutable_summary()->set_frames(static_cast<uint64_t>(frames));
  response.mutable_summary()->set_num_samples(static_cast<uint64_t>(rest->num_samples));
  hold.Write(response);
  return log.Finish(grpc::Status::OK);
}

grpc::Status CodecServiceImpl::Decode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::DecodeResponse, v1::DecodeRequest>* stream) {
  RequestLog log("Decode", context, metrics_);
  if (grpc::Status allowed = access_.Check(*context, AccessPolicy::Action::kUse); !allowed.ok()) {
    return log.Finish(allowed);
  }
  StreamHold<v1::DecodeResponse, v1::DecodeRequest> hold(stream, context, memory_, idle_);
  if (absl::Status held = hold.Hold(limits_.stream_state_bytes); !held.ok()) {
    return log.Finish(ToGrpc(held));
  }
  absl::StatusOr<StreamStart<v1::DecodeConfig>> start =
      StartStream("DecodeRequest", registry_, hold, log);
  if (!start.ok()) return log.Finish(ToGrpc(start.status()));
  const v1::DecodeConfig& config = start->config;
  const absl::StatusOr<int> width = v1::BytesPerSample(config.format());
  if (!width.ok()) return log.Finish(ToGrpc(width.status()));
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
  absl::StatusOr<std::unique_ptr<DecodeStream>> session =
      start->lease.provider().OpenDecodeStream(options, static_cast<int64_t>(config.num_samples()));
  if (!session.ok()) return log.Finish(ToGrpc(session.status()));
  const StepExecutor::Seat seat(start->lease.executor());
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
      hold.Write(response);
    }
    samples += audio.num_frames();
    log.set_samples(samples, audio.sample_rate);
  };
  // kSecondsPerCall of finest frames per model call, in whole groups of the
  // coarsest level's frames.
  const int64_t coarsest_stride = desc.level_strides[0];
  const int64_t step =
      std::max<int64_t>(1, kSecondsPerCall * desc.sample_rate / desc.hop_length / coarsest_stride) *
      coarsest_stride;
  const int64_t audio_bytes_per_step =
      step * desc.hop_length * desc.channels * static_cast<int64_t>(sizeof(float) + *width);
  v1::DecodeRequest request;
  while (hold.Read(&request)) {
    if (request.has_config()) return log.Finish(Invalid("the config may only be sent once"));
    // The message, its codes and one step's audio are in hand.
    const int64_t in_hand = 2 * static_cast<int64_t>(request.ByteSizeLong()) + audio_bytes_per_step;
    if (absl::Status held = hold.Hold(limits_.stream_state_bytes + in_hand); !held.ok()) {
      return log.Finish(ToGrpc(held));
    }
    absl::StatusOr<Codes> codes = v1::CodesFromTokenChunk(request.tokens());
    if (!codes.ok()) return log.Finish(ToGrpc(codes.status()));
    // Checked against the model before it is cut into steps or does work.
    if (absl::Status valid = codes->Validate(desc); !valid.ok()) return log.Finish(ToGrpc(valid));
    const int64_t message_frames = codes->levels[0].frames * coarsest_stride;
    frames += message_frames;
    if (max_frames > 0 && frames > max_frames) {
      return log.Finish(ToGrpc(OverLimit(limits_.max_stream_seconds)));
    }
    for (int64_t first = 0; first < message_frames; first += step) {
      const Codes part = SliceCodes(*codes, first, std::min(message_frames, first + step));
      absl::StatusOr<Audio> audio = start->lease.executor().Push(**session, part, options.stop);
      if (!audio.ok()) return log.Finish(ToGrpc(audio.status()));
      send(*audio);
    }
    request.Clear();
    (void)hold.Hold(limits_.stream_state_bytes);  // Shrinking always succeeds.
  }
  if (absl::Status stopped = hold.Stopped(options.stop); !stopped.ok()) {
    return log.Finish(ToGrpc(stopped));
  }
  absl::StatusOr<Audio> rest =
      start->lease.executor().RunAlone(options.stop, [&] { return (*session)->Finish(); });
  if (!rest.ok()) return log.Finish(ToGrpc(rest.status()));
  send(*rest);
  return log.Finish(grpc::Status::OK);
}

}  // namespace codec::server
