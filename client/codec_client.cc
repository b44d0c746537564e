#include "client/codec_client.h"

#include <algorithm>

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

CodecClient::CodecClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : timeout_(timeout),
      codec_(v1::CodecService::NewStub(channel)),
      models_(v1::ModelService::NewStub(channel)) {}

void CodecClient::Prepare(grpc::ClientContext& context) const {
  if (timeout_ != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  }
}

absl::StatusOr<Codes> CodecClient::Encode(const std::string& model, const Audio& audio,
                                          const EncodeOptions& options, int64_t chunk_frames,
                                          const Progress& progress) {
  grpc::ClientContext context;
  Prepare(context);
  auto stream = codec_->Encode(&context);
  v1::EncodeRequest request;
  v1::EncodeConfig* config = request.mutable_config();
  config->set_model_id(model);
  config->set_sample_rate(audio.sample_rate);
  config->set_channels(audio.channels);
  config->set_format(v1::SAMPLE_FORMAT_F32LE);
  if (options.bandwidth_kbps) config->set_bandwidth_kbps(*options.bandwidth_kbps);
  if (options.n_q) config->set_n_q(*options.n_q);
  bool open = stream->Write(request);
  const int64_t frames = audio.num_frames();
  for (int64_t first = 0; open && first < frames; first += chunk_frames) {
    const int64_t last = std::min(frames, first + chunk_frames);
    request.set_pcm(v1::PcmFromAudio(audio, v1::SAMPLE_FORMAT_F32LE, first, last));
    open = stream->Write(request);
    if (progress) progress(static_cast<double>(last) / frames);
  }
  stream->WritesDone();
  Codes codes;
  v1::EncodeResponse response;
  while (stream->Read(&response)) {
    if (response.has_summary()) {
      codes.num_samples = static_cast<int64_t>(response.summary().num_samples());
      continue;
    }
    if (absl::Status appended = v1::AppendTokenChunk(response.tokens(), codes); !appended.ok()) {
      context.TryCancel();
      stream->Finish();
      return absl::DataLossError(absl::StrCat("the server sent bad tokens: ", appended.message()));
    }
  }
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpc(status);
  return codes;
}

absl::StatusOr<Audio> CodecClient::Decode(const std::string& model, const Codes& codes,
                                          const DecodeOptions& options, int64_t chunk_frames,
                                          const Progress& progress) {
  if (codes.levels.empty()) return absl::InvalidArgumentError("no codes to decode");
  grpc::ClientContext context;
  Prepare(context);
  auto stream = codec_->Decode(&context);
  v1::DecodeRequest request;
  v1::DecodeConfig* config = request.mutable_config();
  config->set_model_id(model);
  config->set_format(v1::SAMPLE_FORMAT_F32LE);
  config->set_num_samples(codes.num_samples);
  config->set_noise(options.noise == NoiseMode::kOff      ? v1::NOISE_MODE_OFF
                    : options.noise == NoiseMode::kSeeded ? v1::NOISE_MODE_SEEDED
                                                          : v1::NOISE_MODE_RANDOM);
  config->set_seed(options.seed);
  bool open = stream->Write(request);
  // Chunks span whole frames of the coarsest level.
  const int64_t finest = codes.levels.back().frames;
  const int64_t coarsest_stride = finest / codes.levels.front().frames;
  const int64_t step = std::max<int64_t>(1, chunk_frames / coarsest_stride) * coarsest_stride;
  for (int64_t first = 0; open && first < finest; first += step) {
    const int64_t last = std::min(finest, first + step);
    *request.mutable_tokens() = v1::TokenChunkFromCodes(codes, first, last);
    open = stream->Write(request);
    if (progress) progress(static_cast<double>(last) / finest);
  }
  stream->WritesDone();
  std::string pcm;
  int sample_rate = 0, channels = 0;
  v1::DecodeResponse response;
  while (stream->Read(&response)) {
    pcm += response.pcm();
    sample_rate = static_cast<int>(response.sample_rate());
    channels = static_cast<int>(response.channels());
  }
  const grpc::Status status = stream->Finish();
  if (!status.ok()) return FromGrpc(status);
  return v1::AudioFromPcm(pcm, v1::SAMPLE_FORMAT_F32LE, sample_rate, channels);
}

absl::StatusOr<v1::ModelInfo> CodecClient::Load(const std::string& id, const std::string& preset,
                                                const std::string& weights) {
  grpc::ClientContext context;
  Prepare(context);
  v1::LoadRequest request;
  request.set_model_id(id);
  request.set_preset(preset);
  request.set_weights(weights);
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
