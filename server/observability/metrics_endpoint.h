#ifndef SERVER_OBSERVABILITY_METRICS_ENDPOINT_H_
#define SERVER_OBSERVABILITY_METRICS_ENDPOINT_H_

#include <prometheus/collectable.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace codec::server {

// Serves Prometheus's text format over HTTP: GET /metrics answers with what
// the collectables hold at that moment; other paths are 404, other methods
// 405. One thread answers one connection at a time, with a short deadline
// for reading the request and another for writing the answer, so a stalled
// or trickling client delays a scrape by at most those.
//
// Our own, not prometheus-cpp's Exposer: its HTTP server (civetweb) starts
// threads with a fixed small stack, which glibc refuses once the loaded
// libraries' thread-local storage outgrows it (OpenBLAS alone takes 60 KiB),
// so it cannot start in the image.
class MetricsEndpoint {
 public:
  // Listens on `address` ("host:port", "[v6]:port"; port 0 picks a free
  // one). An error names the address and why.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address, std::vector<std::weak_ptr<prometheus::Collectable>> sources);
  ~MetricsEndpoint();  // Stops answering; returns once the thread ended.
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const { return port_; }

 private:
  MetricsEndpoint(int listener, int port, int wake_read, int wake_write,
                  std::vector<std::weak_ptr<prometheus::Collectable>> sources);
  void Serve();
  void Answer(int connection) const;
  std::string Exposition() const;

  const int listener_;
  const int port_;
  const int wake_read_;  // Readable once the destructor asks the thread to end.
  const int wake_write_;
  const std::vector<std::weak_ptr<prometheus::Collectable>> sources_;
  std::thread thread_;  // Last: starts once the members above exist.
};

}  // namespace codec::server

#endif  // SERVER_OBSERVABILITY_METRICS_ENDPOINT_H_
