#ifndef SERVER_RPC_CODEC_SERVICE_H_
#define SERVER_RPC_CODEC_SERVICE_H_

#include "codec/v1/codec.grpc.pb.h"
#include "server/observability/server_metrics.h"
#include "server/rpc/access_policy.h"
#include "server/serving/idle_watch.h"
#include "server/serving/memory_budget.h"
#include "server/serving/model_registry.h"

namespace codec::server {

struct StreamServices;  // stream_call.h

struct StreamLimits {
  // Longest audio one stream may carry; longer is RESOURCE_EXHAUSTED. A
  // policy only (0: none): a stream holds its session's state, not its audio.
  double max_stream_seconds = 0;
  // The memory all streams together may hold (MemoryBudget; 0: no bound):
  // each holds `stream_state_bytes` for its session's state, plus the
  // message in hand and what it becomes.
  int64_t max_stream_memory_bytes = 0;
  int64_t stream_state_bytes = int64_t{4} << 20;
  // A stream whose client sends or reads nothing for this long is cancelled
  // (IdleWatch; zero: never); the log line says why.
  absl::Duration idle_timeout = absl::ZeroDuration();
};

// codec.v1.CodecService over a ModelRegistry. Each stream holds a lease on
// its model for its whole life, so Unload never cuts it off. Every message
// is checked against the model, then pushed into the call's streaming
// session in bounded steps (so a large message never makes a large call),
// and what became final is written at once (equal,
// concatenated, to the offline result); the client's half-close finishes
// the session. Each step goes through the StepExecutor of the stream's
// model replica, which batches it with other streams' steps and bounds the
// passes running on its device; each stream holds its share of the memory
// budget and is ended when its client goes idle.
class CodecServiceImpl final : public v1::CodecService::Service {
 public:
  // `metrics` (optional) counts each stream; it must outlive the service.
  CodecServiceImpl(ModelRegistry& registry, StreamLimits limits, AccessPolicy access = {},
                   ServerMetrics* metrics = nullptr)
      : registry_(registry),
        limits_(limits),
        access_(std::move(access)),
        metrics_(metrics),
        memory_(limits.max_stream_memory_bytes),
        idle_(limits.idle_timeout) {}

  grpc::Status Encode(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::EncodeResponse, v1::EncodeRequest>* stream) override;
  grpc::Status Decode(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::DecodeResponse, v1::DecodeRequest>* stream) override;

  // Bytes of the memory budget the open streams hold now.
  int64_t reserved_stream_memory() const { return memory_.reserved(); }

 private:
  // What each call's StreamCall shares (stream_call.h).
  StreamServices Services();

  ModelRegistry& registry_;
  const StreamLimits limits_;
  const AccessPolicy access_;
  ServerMetrics* const metrics_;
  MemoryBudget memory_;
  IdleWatch idle_;
};

}  // namespace codec::server

#endif  // SERVER_RPC_CODEC_SERVICE_H_
