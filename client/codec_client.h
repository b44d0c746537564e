#ifndef CLIENT_CODEC_CLIENT_H_
#define CLIENT_CODEC_CLIENT_H_

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "backends/core/audio.h"
#include "backends/core/codec_options.h"
#include "backends/core/codes.h"
#include "codec/v1/codec.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace codec::client {

// Called with the share of the stream sent so far, in [0, 1].
using Progress = std::function<void(double)>;

// A streaming call's input: each call returns the next chunk, or nullopt at
// the end of the stream. It may block (a live source, a language model).
using NextAudio = std::function<std::optional<Audio>()>;
using NextCodes = std::function<std::optional<Codes>()>;
// A streaming call's output, as it arrives: the chunk and its position (the
// first finest frame, or the first sample).
using OnCodes = std::function<void(const Codes& codes, int64_t start_frame)>;
using OnAudio = std::function<void(const Audio& audio, int64_t start_sample)>;

// A C++ client of codec_server: streams audio and tokens in chunks and
// returns results as the backend API types. Errors are the server's status
// (code and message) as absl::Status.
class CodecClient {
 public:
  // Every call gets `timeout` as its deadline (none by default); past it
  // the call fails with DEADLINE_EXCEEDED and the server stops its work.
  // A non-empty `bearer_token` goes with every call as
  // `authorization: Bearer <token>`.
  explicit CodecClient(std::shared_ptr<grpc::Channel> channel,
                       absl::Duration timeout = absl::InfiniteDuration(),
                       std::string bearer_token = "");

  // `audio` must already be at the model's rate and channel count.
  absl::StatusOr<Codes> Encode(const std::string& model, const Audio& audio,
                               const EncodeOptions& options, int64_t chunk_frames = 24000,
                               const Progress& progress = nullptr);
  absl::StatusOr<Audio> Decode(const std::string& model, const Codes& codes,
                               const DecodeOptions& options, int64_t chunk_frames = 150,
                               const Progress& progress = nullptr);

  // Streaming calls: send while they receive. `next` supplies the input,
  // `on_codes` / `on_audio` get the output as soon as the server sends it
  // (on another thread, one call at a time). The encode's summary (frames,
  // samples) is returned. Multi-level codes go in whole groups of the
  // coarsest level's stride.
  absl::StatusOr<v1::EncodeSummary> EncodeStream(const std::string& model, int sample_rate,
                                                 int channels, const EncodeOptions& options,
                                                 const NextAudio& next, const OnCodes& on_codes);
  absl::Status DecodeStream(const std::string& model, const DecodeOptions& options,
                            int64_t num_samples, const NextCodes& next, const OnAudio& on_audio);

  // `device` as LoadRequest.device: empty for the server's choice.
  absl::StatusOr<v1::ModelInfo> Load(const std::string& id, const std::string& preset,
                                     const std::string& weights, const std::string& device = "");
  absl::Status Unload(const std::string& id);
  absl::StatusOr<std::vector<v1::ModelInfo>> List();
  absl::StatusOr<v1::ModelInfo> Get(const std::string& id);
  absl::StatusOr<std::vector<v1::DeviceInfo>> Devices();
  // grpc.health.v1's answer for `service` ("": the whole server).
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> Health(
      const std::string& service = "");

 private:
  // Sets the call's deadline and token.
  void Prepare(grpc::ClientContext& context) const;

  const absl::Duration timeout_;
  const std::string bearer_token_;
  std::unique_ptr<v1::CodecService::Stub> codec_;
  std::unique_ptr<v1::ModelService::Stub> models_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

}  // namespace codec::client

#endif  // CLIENT_CODEC_CLIENT_H_
