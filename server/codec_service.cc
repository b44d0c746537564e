#include "server/codec_service.h"

#include <chrono>

#include "server/stream_call.h"
#include "server/stream_directions.h"

namespace codec::server {

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

grpc::Status CodecServiceImpl::Encode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::EncodeResponse, v1::EncodeRequest>* stream) {
  return StreamCall<EncodeDirection>(Services(), context, stream).Run();
}

grpc::Status CodecServiceImpl::Decode(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::DecodeResponse, v1::DecodeRequest>* stream) {
  return StreamCall<DecodeDirection>(Services(), context, stream).Run();
}

StreamServices CodecServiceImpl::Services() {
  return StreamServices{.registry = registry_,
                        .limits = limits_,
                        .access = access_,
                        .metrics = metrics_,
                        .memory = memory_,
                        .idle = idle_};
}

}  // namespace codec::server
