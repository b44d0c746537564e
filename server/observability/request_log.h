#ifndef SERVER_OBSERVABILITY_REQUEST_LOG_H_
#define SERVER_OBSERVABILITY_REQUEST_LOG_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "server/observability/server_metrics.h"

namespace codec::server {

// One log line per request, written when it ends: a request id, the peer,
// the rpc, the model, how big, how long, the time to first output and the
// status, in the server log's format (server_log.h). Every string a client
// chose (model ids, paths, error messages that quote them) is escaped, so no
// client can forge or split a line. With `metrics`, the request is also
// counted there, from construction to Finish.
class RequestLog {
 public:
  RequestLog(const char* rpc, const grpc::ServerContext* context, ServerMetrics* metrics = nullptr);

  void set_model(const std::string& model) { model_ = model; }
  // The audio encoded or decoded so far.
  void set_samples(int64_t samples, int sample_rate) {
    samples_ = samples;
    sample_rate_ = sample_rate;
  }
  // Free-form `key=value` details (e.g. the weights a Load named).
  void add_detail(const std::string& key, const std::string& value);
  // Notes when the first output left (once).
  void MarkFirstOutput();

  // Logs the request's end and passes `status` through.
  grpc::Status Finish(grpc::Status status) const;

 private:
  const char* rpc_;
  ServerMetrics* const metrics_;
  const uint64_t id_;
  const std::string peer_;
  const absl::Time start_;
  absl::Time first_output_ = absl::InfiniteFuture();
  std::string model_;
  std::vector<std::pair<std::string, std::string>> details_;
  int64_t samples_ = 0;
  int sample_rate_ = 0;
};

}  // namespace codec::server

#endif  // SERVER_OBSERVABILITY_REQUEST_LOG_H_
