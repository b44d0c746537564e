#include "client/codec_client.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "proto/pcm_format.h"
#include "proto/token_format.h"

namespace codec::client {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

CodecClient::CodecClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout,
                         std::string bearer_token)
    : timeout_(timeout),
      bearer_token_(std::move(bearer_token)),
      codec_(v1::CodecService::NewStub(channel)),
      models_(v1::ModelService::NewStub(channel)),
      health_(grpc::health::v1::Health::NewStub(channel)) {}

void CodecClient::Prepare(grpc::ClientContext& context) const {
  if (timeout_ != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  }
  if (!bearer_token_.empty()) context.AddMetadata("authorization", "Bearer " + bearer_token_);
}

namespace {

// Runs one bidirectional call: `write_all` sends on this thread while a
// reader thread hands every response to `on_response`, so a long stream
// never stalls on flow control. A response `on_response` refuses (a non-OK
// status) cancels the call.
template <typename Request, typename Response, typename WriteAll, typename OnResponse>
absl::Status RunBidi(grpc::ClientContext& context,
                     grpc::ClientReaderWriter<Request, Response>& stream, WriteAll write_all,
                     OnResponse on_response) {
  absl::Status refused;
  std::thread reader([&] {
    Response response;
    while (stream.Read(&response)) {
      if (!refused.ok()) continue;
      refused = on_response(response);
      if (!refused.ok()) context.TryCancel();
    }
  });
  write_all();
  stream.WritesDone();
  reader.join();
  const grpc::Status status = stream.Finish();
  if (!refused.ok()) return refused;
  return FromGrpc(status);
}

}  // namespace

absl::StatusOr<v1::EncodeSummary> CodecClient::EncodeStream(const std::string& model,
                                                            int sample_rate, int channels,
                                                            const EncodeOptions& options,
                                                            const NextAudio& next,
                                                            const OnCodes& on_codes) {
  grpc::ClientContext context;
  Prepare(context);
  auto stream = codec_->Encode(&context);
  v1::EncodeSummary summary;
  const absl::Status status = RunBidi(
      context, *stream,
      [&] {
        v1::EncodeRequest request;
        v1::EncodeConfig* config = request.mutable_config();
        config->set_model_id(model);
        config->set_sample_rate(sample_rate);
        config->set_channels(channels);
        config->set_format(v1::SAMPLE_FORMAT_F32LE);
        if (options.bandwidth_kbps) config->set_bandwidth_kbps(*options.bandwidth_kbps);
        if (options.n_q) config->set_n_q(*options.n_q);
        bool open = stream->Write(request);
        while (open) {
          std::optional<Audio> chunk = next();
          if (!chunk) break;
          request.set_pcm(
              v1::PcmFromAudio(*chunk, v1::SAMPLE_FORMAT_F32LE, 0, chunk->num_frames()));
          open = stream->Write(request);
        }
      },
      [&](const v1::EncodeResponse& response) -> absl::Status {
        if (response.has_summary()) {
          summary = response.summary();
          return absl::OkStatus();
        }
        absl::StatusOr<Codes> codes = v1::CodesFromTokenChunk(response.tokens());
        if (!codes.ok()) {
          return absl::DataLossError(
              absl::StrCat("the server sent bad tokens: ", codes.status().message()));
        }
        on_codes(*codes, static_cast<int64_t>(response.tokens().start_frame()));
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return summary;
}

absl::Status CodecClient::DecodeStream(const std::string& model, const DecodeOptions& options,
                                       int64_t num_samples, const NextCodes& next,
                                       const OnAudio& on_audio) {
  grpc::ClientContext context;
  Prepare(context);
  auto stream = codec_->Decode(&context);
  return RunBidi(
      context, *stream,
      [&] {
        v1::DecodeRequest request;
        v1::DecodeConfig* config = request.mutable_config();
        config->set_model_id(model);
        config->set_format(v1::SAMPLE_FORMAT_F32LE);
        config->set_num_samples(static_cast<uint64_t>(num_samples));
        config->set_noise(options.noise == NoiseMode::kOff      ? v1::NOISE_MODE_OFF
                          : options.noise == NoiseMode::kSeeded ? v1::NOISE_MODE_SEEDED
                                                                : v1::NOISE_MODE_RANDOM);
        config->set_seed(options.seed);
        if (options.lookahead_frames.has_value()) {
          // Out of uint32's range: the most the server could be asked for.
          config->set_lookahead_frames(static_cast<uint32_t>(std::clamp<int64_t>(
              *options.lookahead_frames, 0, std::numeric_limits<uint32_t>::max())));
        }
        bool open = stream->Write(request);
        while (open) {
          std::optional<Codes> chunk = next();
          if (!chunk) break;
          *request.mutable_tokens() = v1::TokenChunkFromCodes(*chunk);
          open = stream->Write(request);
        }
      },
      [&](const v1::DecodeResponse& response) -> absl::Status {
        absl::StatusOr<Audio> audio =
            v1::AudioFromPcm(response.pcm(), v1::SAMPLE_FORMAT_F32LE,
                             static_cast<int>(response.sample_rate()),
                             static_cast<int>(response.channels()));
        if (!audio.ok()) {
          return absl::DataLossError(
              absl::StrCat("the server sent bad audio: ", audio.status().message()));
        }
        on_audio(*audio, static_cast<int64_t>(response.start_sample()));
        return absl::OkStatus();
      });
}

absl::StatusOr<Codes> CodecClient::Encode(const std::string& model, const Audio& audio,
                                          const EncodeOptions& options, int64_t chunk_frames,
                                          const Progress& progress) {
  const int64_t frames = audio.num_frames();
  int64_t sent = 0;
  std::vector<Codes> parts;
  absl::StatusOr<v1::EncodeSummary> summary = EncodeStream(
      model, audio.sample_rate, audio.channels, options,
      [&]() -> std::optional<Audio> {
        if (sent >= frames) return std::nullopt;
        const int64_t last = std::min(frames, sent + chunk_frames);
        Audio chunk = SliceFrames(audio, sent, last);
        sent = last;
        if (progress) progress(static_cast<double>(last) / frames);
        return chunk;
      },
      [&](const Codes& codes, int64_t) { parts.push_back(codes); });
  if (!summary.ok()) return summary.status();
  Codes codes = ConcatCodes(parts);
  codes.num_samples = static_cast<int64_t>(summary->num_samples());
  return codes;
}

absl::StatusOr<Audio> CodecClient::Decode(const std::string& model, const Codes& codes,
                                          const DecodeOptions& options, int64_t chunk_frames,
                                          const Progress& progress) {
  if (codes.levels.empty()) return absl::InvalidArgumentError("no codes to decode");
  // Chunks span whole frames of the coarsest level.
  const int64_t finest = codes.levels.back().frames;
  const int64_t coarsest_stride = finest / std::max<int64_t>(1, codes.levels.front().frames);
  const int64_t step = std::max<int64_t>(1, chunk_frames / coarsest_stride) * coarsest_stride;
  int64_t sent = 0;
  std::vector<Audio> parts;
  const absl::Status status = DecodeStream(
      model, options, codes.num_samples,
      [&]() -> std::optional<Codes> {
        if (sent >= finest) return std::nullopt;
        const int64_t last = std::min(finest, sent + step);
        Codes chunk = SliceCodes(codes, sent, last);
        sent = last;
        if (progress) progress(static_cast<double>(last) / finest);
        return chunk;
      },
      [&](const Audio& audio, int64_t) { parts.push_back(audio); });
  if (!status.ok()) return status;
  return ConcatAudio(parts);
}

absl::StatusOr<v1::ModelInfo> CodecClient::Load(const std::string& id, const std::string& preset,
                                                const std::string& weights,
                                                const std::string& device) {
  grpc::ClientContext context;
  Prepare(context);
  v1::LoadRequest request;
  request.set_model_id(id);
  request.set_preset(preset);
  request.set_weights(weights);
  request.set_device(device);
  v1::LoadResponse response;
  const grpc::Status status = models_->Load(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.model();
}

absl::Status CodecClient::Unload(const std::string& id) {
  grpc::ClientContext context;
  Prepare(context);
  v1::UnloadRequest request;
  request.set_model_id(id);
  v1::UnloadResponse response;
  return FromGrpc(models_->Unload(&context, request, &response));
}

absl::StatusOr<std::vector<v1::ModelInfo>> CodecClient::List() {
  grpc::ClientContext context;
  Prepare(context);
  v1::ListModelsResponse response;
  const grpc::Status status = models_->ListModels(&context, v1::ListModelsRequest(), &response);
  if (!status.ok()) return FromGrpc(status);
  return std::vector<v1::ModelInfo>(response.models().begin(), response.models().end());
}

absl::StatusOr<std::vector<v1::DeviceInfo>> CodecClient::Devices() {
  grpc::ClientContext context;
  Prepare(context);
  v1::ListDevicesResponse response;
  const grpc::Status status = models_->ListDevices(&context, v1::ListDevicesRequest(), &response);
  if (!status.ok()) return FromGrpc(status);
  return std::vector<v1::DeviceInfo>(response.devices().begin(), response.devices().end());
}

absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> CodecClient::Health(
    const std::string& service) {
  grpc::ClientContext context;
  Prepare(context);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = health_->Check(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.status();
}

absl::StatusOr<v1::ModelInfo> CodecClient::Get(const std::string& id) {
  grpc::ClientContext context;
  Prepare(context);
  v1::GetModelRequest request;
  request.set_model_id(id);
  v1::ModelInfo response;
  const grpc::Status status = models_->GetModel(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response;
}

}  // namespace codec::client
