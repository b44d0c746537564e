#include "server/observability/server_metrics.h"

#include <vector>

#include "absl/status/status.h"

namespace codec::server {
namespace {

// Seconds, from a fast step to a long stream.
const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const auto* buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& BatchSizeBuckets() {
  static const auto* buckets =
      new prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  return *buckets;
}

}  // namespace

ServerMetrics::ServerMetrics(const std::string& libtorch_version)
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("codec_requests_total")
                    .Help("Requests ended, by rpc, model and gRPC status.")
                    .Register(*registry_)),
      in_flight_(prometheus::BuildGauge()
                     .Name("codec_requests_in_flight")
                     .Help("Requests running now (an Encode or Decode: its open stream), by rpc.")
                     .Register(*registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("codec_request_duration_seconds")
                     .Help("How long requests took, start to end (a stream: its whole life).")
                     .Register(*registry_)),
      first_output_(prometheus::BuildHistogram()
                        .Name("codec_time_to_first_output_seconds")
                        .Help("From a stream's start to its first codes or audio sent.")
                        .Register(*registry_)),
      audio_seconds_(prometheus::BuildCounter()
                         .Name("codec_audio_seconds_total")
                         .Help("Seconds of audio encoded (rpc Encode) or decoded (rpc Decode).")
                         .Register(*registry_)),
      batch_sizes_(prometheus::BuildHistogram()
                       .Name("codec_batch_size")
                       .Help("Stream steps per batched forward pass, by model replica.")
                       .Register(*registry_)),
      queue_waits_(prometheus::BuildHistogram()
                       .Name("codec_step_queue_wait_seconds")
                       .Help("How long stream steps waited for their batch, by model replica.")
                       .Register(*registry_)) {
  prometheus::BuildGauge()
      .Name("codec_build_info")
      .Help("Always 1; the labels say what the server was built with.")
      .Register(*registry_)
      .Add({{"api", "codec.v1"}, {"libtorch", libtorch_version}})
      .Set(1);
}

void ServerMetrics::RequestStarted(const char* rpc) { in_flight_.Add({{"rpc", rpc}}).Increment(); }

void ServerMetrics::RequestEnded(const RequestOutcome& outcome) {
  in_flight_.Add({{"rpc", outcome.rpc}}).Decrement();
  const prometheus::Labels labels{{"rpc", outcome.rpc}, {"model", outcome.model}};
  prometheus::Labels with_status = labels;
  with_status.emplace("code",
                      absl::StatusCodeToString(static_cast<absl::StatusCode>(outcome.status_code)));
  requests_.Add(with_status).Increment();
  durations_.Add(labels, DurationBuckets()).Observe(absl::ToDoubleSeconds(outcome.duration));
  if (outcome.time_to_first_output != absl::InfiniteDuration()) {
    first_output_.Add(labels, DurationBuckets())
        .Observe(absl::ToDoubleSeconds(outcome.time_to_first_output));
  }
  if (outcome.audio_seconds > 0) audio_seconds_.Add(labels).Increment(outcome.audio_seconds);
}

std::function<void(absl::Span<const absl::Duration>)> ServerMetrics::BatchObserver(
    const std::string& model, const std::string& device) {
  const prometheus::Labels labels{{"model", model}, {"device", device}};
  prometheus::Histogram& sizes = batch_sizes_.Add(labels, BatchSizeBuckets());
  prometheus::Histogram& waits = queue_waits_.Add(labels, DurationBuckets());
  return [&sizes, &waits](absl::Span<const absl::Duration> queue_waits) {
    sizes.Observe(static_cast<double>(queue_waits.size()));
    for (const absl::Duration wait : queue_waits) waits.Observe(absl::ToDoubleSeconds(wait));
  };
}

}  // namespace codec::server
