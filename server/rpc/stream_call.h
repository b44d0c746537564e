#ifndef SERVER_RPC_STREAM_CALL_H_
#define SERVER_RPC_STREAM_CALL_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "backends/core/status_macros.h"
#include "server/observability/request_log.h"
#include "server/rpc/access_policy.h"
#include "server/rpc/codec_service.h"
#include "server/rpc/grpc_status.h"
#include "server/serving/idle_watch.h"
#include "server/serving/memory_budget.h"
#include "server/serving/model_registry.h"

namespace codec::server {

// Stops model work when the client cancels or the deadline passes.
StopCheck StopFor(const grpc::ServerContext* context);

// What a stream shares with every other: the registry, its limits and access
// policy, the memory budget and the idle watch (CodecServiceImpl's).
struct StreamServices {
  ModelRegistry& registry;
  const StreamLimits& limits;
  const AccessPolicy& access;
  ServerMetrics* metrics;
  MemoryBudget& memory;
  IdleWatch& idle;
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

// One Encode or Decode call, written once for both directions (Direction:
// stream_directions.h). Each event is a method returning absl::Status; the
// call's status is converted to gRPC's once, in Run, and logged.
//
// A call: the access check and the stream's memory share; the first message,
// which must carry the config, and a lease on the model it names; the
// model's session, opened by the direction; then each message is checked,
// charged to the budget while in hand, cut into calls of bounded length,
// pushed through the replica's StepExecutor and what became final written;
// the client's half-close finishes the session.
template <typename Direction>
class StreamCall {
 public:
  using Request = typename Direction::Request;
  using Response = typename Direction::Response;

  StreamCall(const StreamServices& services, grpc::ServerContext* context,
             grpc::ServerReaderWriter<Response, Request>* stream)
      : services_(services),
        context_(context),
        log_(Direction::kRpc, context, services.metrics),
        hold_(stream, context, services.memory, services.idle),
        stop_(StopFor(context)) {}

  grpc::Status Run() { return log_.Finish(ToGrpc(Serve())); }

 private:
  absl::Status Serve() {
    RETURN_IF_ERROR(FromGrpc(services_.access.Check(*context_, AccessPolicy::Action::kUse)));
    RETURN_IF_ERROR(hold_.Hold(services_.limits.stream_state_bytes));
    RETURN_IF_ERROR(Start());
    const StepExecutor::Seat seat(lease_->executor());
    Request request;
    while (hold_.Read(&request)) {
      RETURN_IF_ERROR(OnMessage(request));
      request.Clear();
      (void)hold_.Hold(services_.limits.stream_state_bytes);  // Shrinking always succeeds.
    }
    // A cancelled stream also ends its reads: do not finish what arrived.
    RETURN_IF_ERROR(hold_.Stopped(stop_));
    ASSIGN_OR_RETURN(typename Direction::Out rest,
                     lease_->executor().RunAlone(stop_, [&] { return session_->Finish(); }));
    direction_->End(rest, Writer());
    return absl::OkStatus();
  }

  // The first message's config, the lease on its model, the session.
  absl::Status Start() {
    Request request;
    if (!hold_.Read(&request) || !request.has_config()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the first ", Direction::kRequest, " must carry the config"));
    }
    log_.set_model(request.config().model_id());
    ASSIGN_OR_RETURN(ModelLease lease, services_.registry.Acquire(request.config().model_id()));
    lease_.emplace(std::move(lease));
    direction_.emplace(request.config(), services_.limits, log_);
    ASSIGN_OR_RETURN(session_, direction_->Open(lease_->provider(), stop_));
    return absl::OkStatus();
  }

  absl::Status OnMessage(const Request& request) {
    if (request.has_config()) return absl::InvalidArgumentError("the config may only be sent once");
    RETURN_IF_ERROR(hold_.Hold(services_.limits.stream_state_bytes + direction_->InHand(request)));
    ASSIGN_OR_RETURN(const typename Direction::In in, direction_->Input(request));
    const int64_t length = direction_->Length(in), step = direction_->CallLength();
    for (int64_t first = 0; first < length; first += step) {
      const typename Direction::In part =
          direction_->Slice(in, first, std::min(length, first + step));
      ASSIGN_OR_RETURN(const typename Direction::Out out,
                       lease_->executor().Push(*session_, part, stop_));
      direction_->Send(out, Writer());
    }
    return absl::OkStatus();
  }

  typename Direction::Write Writer() {
    return [this](const Response& response) { hold_.Write(response); };
  }

  const StreamServices services_;  // References to the service's: a copy is cheap.
  grpc::ServerContext* const context_;
  RequestLog log_;
  StreamHold<Response, Request> hold_;
  const StopCheck stop_;
  // From the first message on; the session ends before the lease.
  std::optional<ModelLease> lease_;
  std::optional<Direction> direction_;
  std::unique_ptr<typename Direction::Session> session_;
};

}  // namespace codec::server

#endif  // SERVER_RPC_STREAM_CALL_H_
