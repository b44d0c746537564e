#include "server/rpc/stream_call.h"

#include <chrono>

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

}  // namespace codec::server
