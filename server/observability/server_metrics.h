#ifndef SERVER_OBSERVABILITY_SERVER_METRICS_H_
#define SERVER_OBSERVABILITY_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "absl/types/span.h"

namespace codec::server {

// How one request ended, as RequestLog saw it.
struct RequestOutcome {
  const char* rpc = "";
  std::string model;    // Empty when the request named none.
  int status_code = 0;  // grpc::StatusCode.
  absl::Duration duration;
  absl::Duration time_to_first_output = absl::InfiniteDuration();  // None sent: infinite.
  double audio_seconds = 0;                                        // Encoded or decoded.
};

// The server's event metrics for Prometheus: requests by rpc, model and
// status, their durations and times to first output, the audio they
// carried, the requests in flight, and each model replica's batches (sizes
// and queue waits). Counted as the events happen, so a scrape reads them
// without touching the models; what the registry holds now (model states,
// memory, streams) is read at each scrape by RegistryCollector. All methods
// are thread-safe.
class ServerMetrics {
 public:
  // `libtorch_version` labels the build-info gauge.
  explicit ServerMetrics(const std::string& libtorch_version);

  void RequestStarted(const char* rpc);
  // Ends what RequestStarted(outcome.rpc) began.
  void RequestEnded(const RequestOutcome& outcome);

  // A StepExecutor::Options::on_batch that counts the batches of `model`'s
  // replica on `device`. The metrics must outlive the executor.
  std::function<void(absl::Span<const absl::Duration>)> BatchObserver(const std::string& model,
                                                                      const std::string& device);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Histogram>& first_output_;
  prometheus::Family<prometheus::Counter>& audio_seconds_;
  prometheus::Family<prometheus::Histogram>& batch_sizes_;
  prometheus::Family<prometheus::Histogram>& queue_waits_;
};

}  // namespace codec::server

#endif  // SERVER_OBSERVABILITY_SERVER_METRICS_H_
