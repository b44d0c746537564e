#include "server/observability/request_log.h"

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "server/observability/server_log.h"

namespace codec::server {
namespace {

uint64_t NextRequestId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

RequestLog::RequestLog(const char* rpc, const grpc::ServerContext* context, ServerMetrics* metrics)
    : rpc_(rpc),
      metrics_(metrics),
      id_(NextRequestId()),
      peer_(context->peer()),
      start_(absl::Now()) {
  if (metrics_ != nullptr) metrics_->RequestStarted(rpc_);
}

void RequestLog::add_detail(const std::string& key, const std::string& value) {
  details_.emplace_back(key, value);
}

void RequestLog::MarkFirstOutput() {
  if (first_output_ == absl::InfiniteFuture()) first_output_ = absl::Now();
}

grpc::Status RequestLog::Finish(grpc::Status status) const {
  const absl::Duration duration = absl::Now() - start_;
  const double first_ms = first_output_ == absl::InfiniteFuture()
                              ? -1
                              : absl::ToDoubleMilliseconds(first_output_ - start_);
  std::string details;
  nlohmann::json detail_fields = nlohmann::json::object();
  for (const auto& [key, value] : details_) {
    absl::StrAppend(&details, " ", key, "=\"", absl::CHexEscape(value), "\"");
    detail_fields[key] = value;
  }
  const double ms = absl::ToDoubleMilliseconds(duration);
  LogEvent(
      "request",
      absl::StrFormat("request=%d peer=%s rpc=%s model=\"%s\"%s samples=%d ms=%.1f "
                      "first_output_ms=%.1f status=%d message=\"%s\"",
                      id_, absl::CHexEscape(peer_), rpc_, absl::CHexEscape(model_), details,
                      samples_, ms, first_ms, status.error_code(),
                      absl::CHexEscape(status.error_message())),
      {{"request", id_},
       {"peer", peer_},
       {"rpc", rpc_},
       {"model", model_},
       {"details", detail_fields},
       {"samples", samples_},
       {"ms", ms},
       {"first_output_ms", first_ms < 0 ? nlohmann::json() : nlohmann::json(first_ms)},
       {"status", absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))},
       {"error", status.error_message()}});
  if (metrics_ != nullptr) {
    metrics_->RequestEnded(RequestOutcome{
        .rpc = rpc_,
        .model = model_,
        .status_code = status.error_code(),
        .duration = duration,
        .time_to_first_output = first_output_ - start_,
        .audio_seconds = sample_rate_ > 0 ? static_cast<double>(samples_) / sample_rate_ : 0.0});
  }
  return status;
}

}  // namespace codec::server
