#include "server/request_log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

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
  absl::StrAppend(&details_, " ", key, "=\"", absl::CHexEscape(value), "\"");
}

void RequestLog::MarkFirstOutput() {
  if (first_output_ == absl::InfiniteFuture()) first_output_ = absl::Now();
}

grpc::Status RequestLog::Finish(grpc::Status status) const {
  const absl::Duration duration = absl::Now() - start_;
  const double first_ms = first_output_ == absl::InfiniteFuture()
                              ? -1
                              : absl::ToDoubleMilliseconds(first_output_ - start_);
  fprintf(stderr,
          "codec_server: request=%llu peer=%s rpc=%s model=\"%s\"%s samples=%lld ms=%.1f "
          "first_output_ms=%.1f status=%d message=\"%s\"\n",
          static_cast<unsigned long long>(id_), absl::CHexEscape(peer_).c_str(), rpc_,
          absl::CHexEscape(model_).c_str(), details_.c_str(), static_cast<long long>(samples_),
          absl::ToDoubleMilliseconds(duration), first_ms, status.error_code(),
          absl::CHexEscape(status.error_message()).c_str());
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
