#include "server/rpc/stream_directions.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "backends/core/status_macros.h"
#include "proto/pcm_format.h"
#include "proto/token_format.h"

namespace codec::server {
namespace {

constexpr int64_t kResponseFrames = 24000;  // PCM frames per DecodeResponse.

absl::Status OverLimit(double seconds) {
  return absl::ResourceExhaustedError(absl::StrCat("stream exceeds the ", seconds, " s limit"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<EncodeStream>> EncodeDirection::Open(
    const DynCodecProvider& provider, StopCheck stop) {
  desc_ = provider.description();
  if (config_.sample_rate() != static_cast<uint32_t>(desc_.sample_rate) ||
      config_.channels() != static_cast<uint32_t>(desc_.channels)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", config_.model_id(), "' takes ", desc_.sample_rate, " Hz, ", desc_.channels,
        " channel(s); the config says ", config_.sample_rate(), " Hz, ", config_.channels()));
  }
  ASSIGN_OR_RETURN(bytes_per_sample_, v1::BytesPerSample(config_.format()));
  EncodeOptions options{.stop = std::move(stop)};
  if (config_.quantizers_case() == v1::EncodeConfig::kBandwidthKbps) {
    options.bandwidth_kbps = config_.bandwidth_kbps();
  } else if (config_.quantizers_case() == v1::EncodeConfig::kNQ) {
    if (config_.n_q() > static_cast<uint32_t>(std::numeric_limits<int>::max())) {
      return absl::InvalidArgumentError(absl::StrCat("n_q ", config_.n_q(), " is too large"));
    }
    options.n_q = static_cast<int>(config_.n_q());
  }
  return provider.OpenEncodeStream(options);
}

int64_t EncodeDirection::InHand(const Request& request) const {
  // The message and its float samples.
  return static_cast<int64_t>(request.pcm().size()) * (1 + 4 / bytes_per_sample_);
}

absl::StatusOr<Audio> EncodeDirection::Input(const Request& request) {
  ASSIGN_OR_RETURN(Audio audio, v1::AudioFromPcm(request.pcm(), config_.format(), desc_.sample_rate,
                                                 desc_.channels));
  samples_ += audio.num_frames();
  log_.set_samples(samples_, desc_.sample_rate);
  const int64_t max_samples = static_cast<int64_t>(limits_.max_stream_seconds * desc_.sample_rate);
  if (max_samples > 0 && samples_ > max_samples) return OverLimit(limits_.max_stream_seconds);
  return audio;
}

Audio EncodeDirection::Slice(const Audio& in, int64_t first, int64_t last) const {
  return SliceFrames(in, first, last);
}

void EncodeDirection::Send(const Codes& codes, const Write& write) {
  const int64_t new_frames = codes.levels.back().frames;
  if (new_frames == 0 && codes.scales.empty()) return;
  Response response;
  *response.mutable_tokens() = v1::TokenChunkFromCodes(codes);
  response.mutable_tokens()->set_start_frame(static_cast<uint64_t>(frames_));
  frames_ += new_frames;
  log_.MarkFirstOutput();
  write(response);
}

void EncodeDirection::End(const Codes& rest, const Write& write) {
  Send(rest, write);
  Response response;
  response.mutable_summary()->set_frames(static_cast<uint64_t>(frames_));
  response.mutable_summary()->set_num_samples(static_cast<uint64_t>(rest.num_samples));
  write(response);
}

absl::StatusOr<std::unique_ptr<DecodeStream>> DecodeDirection::Open(
    const DynCodecProvider& provider, StopCheck stop) {
  desc_ = provider.description();
  ASSIGN_OR_RETURN(bytes_per_sample_, v1::BytesPerSample(config_.format()));
  DecodeOptions options{.stop = std::move(stop)};
  switch (config_.noise()) {
    case v1::NOISE_MODE_OFF:
      options.noise = NoiseMode::kOff;
      break;
    case v1::NOISE_MODE_SEEDED:
      options.noise = NoiseMode::kSeeded;
      options.seed = config_.seed();
      break;
    default:
      options.noise = NoiseMode::kRandom;
      break;
  }
  if (config_.has_lookahead_frames()) options.lookahead_frames = config_.lookahead_frames();
  if (config_.num_samples() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(
        absl::StrCat("num_samples ", config_.num_samples(), " is too large"));
  }
  if (limits_.max_stream_seconds > 0 &&
      static_cast<double>(config_.num_samples()) > limits_.max_stream_seconds * desc_.sample_rate) {
    return OverLimit(limits_.max_stream_seconds);
  }
  return provider.OpenDecodeStream(options, static_cast<int64_t>(config_.num_samples()));
}

int64_t DecodeDirection::CallLength() const {
  const int64_t coarsest_stride = desc_.level_strides[0];
  return std::max<int64_t>(
             1, kSecondsPerCall * desc_.sample_rate / desc_.hop_length / coarsest_stride) *
         coarsest_stride;
}

int64_t DecodeDirection::InHand(const Request& request) const {
  // The message, its codes and one call's audio.
  const int64_t call_audio_bytes = CallLength() * desc_.hop_length * desc_.channels *
                                   static_cast<int64_t>(sizeof(float) + bytes_per_sample_);
  return 2 * static_cast<int64_t>(request.ByteSizeLong()) + call_audio_bytes;
}

absl::StatusOr<Codes> DecodeDirection::Input(const Request& request) {
  ASSIGN_OR_RETURN(Codes codes, v1::CodesFromTokenChunk(request.tokens()));
  // Checked against the model before it is cut into calls or does work.
  RETURN_IF_ERROR(codes.Validate(desc_));
  frames_ += Length(codes);
  const int64_t max_frames =
      static_cast<int64_t>(limits_.max_stream_seconds * desc_.sample_rate / desc_.hop_length);
  if (max_frames > 0 && frames_ > max_frames) return OverLimit(limits_.max_stream_seconds);
  return codes;
}

Codes DecodeDirection::Slice(const Codes& in, int64_t first, int64_t last) const {
  return SliceCodes(in, first, last);
}

void DecodeDirection::Send(const Audio& audio, const Write& write) {
  Response response;
  response.set_sample_rate(audio.sample_rate);
  response.set_channels(audio.channels);
  for (int64_t first = 0; first < audio.num_frames(); first += kResponseFrames) {
    const int64_t last = std::min(audio.num_frames(), first + kResponseFrames);
    response.set_pcm(v1::PcmFromAudio(audio, config_.format(), first, last));
    response.set_start_sample(static_cast<uint64_t>(samples_ + first));
    log_.MarkFirstOutput();
    write(response);
  }
  samples_ += audio.num_frames();
  log_.set_samples(samples_, audio.sample_rate);
}

}  // namespace codec::server
