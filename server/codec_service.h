#ifndef SERVER_CODEC_SERVICE_H_
#define SERVER_CODEC_SERVICE_H_

#include "codec/v1/codec.grpc.pb.h"
#include "server/access_policy.h"
#include "server/compute_slots.h"
#include "server/model_registry.h"

namespace codec::server {

struct StreamLimits {
  // Longest audio one stream may carry; longer is RESOURCE_EXHAUSTED. A
  // policy only (0: none): a stream holds its session's state, not its audio.
  double max_stream_seconds = 0;
  // Most model calls (encodes and decodes) run at once; further streams
  // wait for one to finish, within their deadline. 0: no bound.
  int max_concurrent_calls = 0;
};

// codec.v1.CodecService over a ModelRegistry. Each stream holds a lease on
// its model for its whole life, so Unload never cuts it off. Every message
// is checked against the model, then pushed into the call's streaming
// session, and what became final is written at once (equal, concatenated, to
// the offline result); the client's half-close finishes the session. Each
// step takes its turn in `limits.max_concurrent_calls` ComputeSlots, so
// concurrent streams interleave fairly.
class CodecServiceImpl final : public v1::CodecService::Service {
 public:
  CodecServiceImpl(ModelRegistry& registry, StreamLimits limits, AccessPolicy access = {})
      : registry_(registry),
        limits_(limits),
        access_(std::move(access)),
        slots_(limits.max_concurrent_calls) {}

  grpc::Status Encode(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::EncodeResponse, v1::EncodeRequest>* stream) override;
  grpc::Status Decode(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::DecodeResponse, v1::DecodeRequest>* stream) override;

 private:
  ModelRegistry& registry_;
  const StreamLimits limits_;
  const AccessPolicy access_;
  ComputeSlots slots_;
};

// absl::Status -> grpc::Status with the same code and message.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace codec::server

#endif  // SERVER_CODEC_SERVICE_H_
