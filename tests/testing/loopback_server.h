#ifndef TESTS_TESTING_LOOPBACK_SERVER_H_
#define TESTS_TESTING_LOOPBACK_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

namespace codec::testing {

// A real gRPC server on a free loopback port (plaintext) and a channel to
// it; shut down when destroyed.
class LoopbackServer {
 public:
  LoopbackServer(std::unique_ptr<grpc::Server> server, std::shared_ptr<grpc::Channel> channel)
      : server_(std::move(server)), channel_(std::move(channel)) {}
  ~LoopbackServer() { server_->Shutdown(); }

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Serves `services` (which must outlive the server); nullptr when no server
// could start.
std::unique_ptr<LoopbackServer> StartLoopbackServer(const std::vector<grpc::Service*>& services);

}  // namespace codec::testing

#endif  // TESTS_TESTING_LOOPBACK_SERVER_H_
