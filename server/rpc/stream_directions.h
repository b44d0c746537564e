#ifndef SERVER_RPC_STREAM_DIRECTIONS_H_
#define SERVER_RPC_STREAM_DIRECTIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "backends/core/audio.h"
#include "backends/core/codec_backend.h"
#include "backends/core/codes.h"
#include "backends/core/dyn_codec_provider.h"
#include "codec/v1/codec.grpc.pb.h"
#include "server/observability/request_log.h"
#include "server/rpc/codec_service.h"

namespace codec::server {

// What differs between CodecService's two streams; StreamCall
// (stream_call.h) runs the rest once for both. A direction is made from
// the stream's first message, lives for the call, and:
//   Open(provider, stop)   checks the config against the model and opens
//                          the model's streaming session;
//   InHand(request)        bytes the message holds in hand while it is
//                          pushed (charged to the memory budget);
//   Input(request)         the message's input, checked against the model
//                          and the stream's length limit;
//   Length / Slice         the input cut into model calls of at most
//                          kSecondsPerCall of audio;
//   Send(out, write)       writes what became final, then End(rest, write)
//                          after the session's Finish output.

// The most audio one model call covers: a large message is cut into calls of
// this much, so a call's working memory is bounded whatever the message's
// size, and other streams get their turns between them.
inline constexpr int64_t kSecondsPerCall = 10;

// The types and the state every direction has: its config, the stream's
// limits and log, the model's description and the PCM sample width.
template <typename RequestT, typename ResponseT, typename ConfigT, typename SessionT, typename InT,
          typename OutT>
class DirectionBase {
 public:
  using Request = RequestT;
  using Response = ResponseT;
  using Config = ConfigT;
  using Session = SessionT;
  using In = InT;
  using Out = OutT;
  using Write = std::function<void(const Response&)>;

  DirectionBase(Config config, const StreamLimits& limits, RequestLog& log)
      : config_(std::move(config)), limits_(limits), log_(log) {}

 protected:
  const Config config_;
  const StreamLimits& limits_;
  RequestLog& log_;
  CodecDescription desc_;  // Set by Open.
  int bytes_per_sample_ = 0;
};

class EncodeDirection : public DirectionBase<v1::EncodeRequest, v1::EncodeResponse,
                                             v1::EncodeConfig, EncodeStream, Audio, Codes> {
 public:
  using DirectionBase::DirectionBase;
  static constexpr char kRpc[] = "Encode";
  static constexpr char kRequest[] = "EncodeRequest";

  absl::StatusOr<std::unique_ptr<Session>> Open(const DynCodecProvider& provider, StopCheck stop);
  int64_t InHand(const Request& request) const;
  absl::StatusOr<In> Input(const Request& request);
  int64_t Length(const In& in) const { return in.num_frames(); }
  int64_t CallLength() const { return kSecondsPerCall * desc_.sample_rate; }
  In Slice(const In& in, int64_t first, int64_t last) const;
  void Send(const Out& out, const Write& write);
  // The Finish output, then the summary.
  void End(const Out& rest, const Write& write);

 private:
  int64_t samples_ = 0;  // Received.
  int64_t frames_ = 0;   // Sent.
};

class DecodeDirection : public DirectionBase<v1::DecodeRequest, v1::DecodeResponse,
                                             v1::DecodeConfig, DecodeStream, Codes, Audio> {
 public:
  using DirectionBase::DirectionBase;
  static constexpr char kRpc[] = "Decode";
  static constexpr char kRequest[] = "DecodeRequest";

  absl::StatusOr<std::unique_ptr<Session>> Open(const DynCodecProvider& provider, StopCheck stop);
  int64_t InHand(const Request& request) const;
  absl::StatusOr<In> Input(const Request& request);
  // Finest frames, in whole groups of the coarsest level's.
  int64_t Length(const In& in) const { return in.levels[0].frames * desc_.level_strides[0]; }
  int64_t CallLength() const;
  In Slice(const In& in, int64_t first, int64_t last) const;
  void Send(const Out& out, const Write& write);
  void End(const Out& rest, const Write& write) { Send(rest, write); }

 private:
  int64_t frames_ = 0;   // Received, finest.
  int64_t samples_ = 0;  // Sent.
};

}  // namespace codec::server

#endif  // SERVER_RPC_STREAM_DIRECTIONS_H_
