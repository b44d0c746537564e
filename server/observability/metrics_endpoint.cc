#include "server/observability/metrics_endpoint.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace codec::server {
namespace {

constexpr size_t kMostRequestBytes = 8192;
// For reading a request, and again for writing its answer, in all.
constexpr absl::Duration kIoTimeout = absl::Seconds(2);

absl::Status Failed(const std::string& address, const char* what) {
  return absl::UnavailableError(
      absl::StrCat("cannot serve metrics on ", address, ": ", what, ": ", std::strerror(errno)));
}

// Waits until `fd` is ready for `events`; false once `deadline` passed.
bool Ready(int fd, short events, absl::Time deadline) {
  const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  if (left_ms <= 0) return false;
  pollfd wait{.fd = fd, .events = events, .revents = 0};
  return poll(&wait, 1, static_cast<int>(left_ms)) == 1 && (wait.revents & events) != 0;
}

void SendAll(int connection, absl::string_view data) {
  const absl::Time deadline = absl::Now() + kIoTimeout;
  while (!data.empty() && Ready(connection, POLLOUT, deadline)) {
    const ssize_t sent = send(connection, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent <= 0) return;
    data.remove_prefix(static_cast<size_t>(sent));
  }
}

std::string Response(const char* status, const char* content_type, const std::string& body) {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address, std::vector<std::weak_ptr<prometheus::Collectable>> sources) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "' is not host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string service = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int error =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      error != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': ", gai_strerror(error)));
  }
  const int listener = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    freeaddrinfo(found);
    return Failed(address, "socket");
  }
  const int reuse = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  const bool bound = bind(listener, found->ai_addr, found->ai_addrlen) == 0;
  freeaddrinfo(found);
  if (!bound || listen(listener, 16) != 0) {
    const absl::Status status = Failed(address, bound ? "listen" : "bind");
    close(listener);
    return status;
  }
  sockaddr_storage local{};
  socklen_t length = sizeof(local);
  getsockname(listener, reinterpret_cast<sockaddr*>(&local), &length);
  const int port =
      ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(local).sin6_port
                                        : reinterpret_cast<const sockaddr_in&>(local).sin_port);
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    close(listener);
    return Failed(address, "pipe");
  }
  return std::unique_ptr<MetricsEndpoint>(
      new MetricsEndpoint(listener, port, wake[0], wake[1], std::move(sources)));
}

MetricsEndpoint::MetricsEndpoint(int listener, int port, int wake_read, int wake_write,
                                 std::vector<std::weak_ptr<prometheus::Collectable>> sources)
    : listener_(listener),
      port_(port),
      wake_read_(wake_read),
      wake_write_(wake_write),
      sources_(std::move(sources)),
      thread_([this] { Serve(); }) {}

MetricsEndpoint::~MetricsEndpoint() {
  close(wake_write_);  // The thread sees the pipe's end.
  thread_.join();
  close(wake_read_);
  close(listener_);
}

void MetricsEndpoint::Serve() {
  while (true) {
    pollfd waits[2] = {{.fd = listener_, .events = POLLIN, .revents = 0},
                       {.fd = wake_read_, .events = POLLIN, .revents = 0}};
    if (poll(waits, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (waits[1].revents != 0) return;
    const int connection = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    Answer(connection);
    close(connection);
  }
}

void MetricsEndpoint::Answer(int connection) const {
  std::string request;
  char buffer[1024];
  const absl::Time deadline = absl::Now() + kIoTimeout;
  while (!absl::StrContains(request, "\r\n\r\n") && request.size() < kMostRequestBytes &&
         Ready(connection, POLLIN, deadline)) {
    const ssize_t got = recv(connection, buffer, sizeof(buffer), 0);
    if (got <= 0) return;
    request.append(buffer, static_cast<size_t>(got));
  }
  const absl::string_view line = absl::string_view(request).substr(0, request.find("\r\n"));
  const bool get = absl::StartsWith(line, "GET ");
  const bool head = absl::StartsWith(line, "HEAD ");
  if (!get && !head) {
    SendAll(connection, Response("405 Method Not Allowed", "text/plain", "GET /metrics\n"));
    return;
  }
  const absl::string_view target = line.substr(line.find(' ') + 1);
  const absl::string_view path = target.substr(0, target.find_first_of(" ?"));
  if (path != "/metrics") {
    SendAll(connection, Response("404 Not Found", "text/plain", "GET /metrics\n"));
    return;
  }
  std::string response =
      Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", Exposition());
  if (head) response.resize(response.find("\r\n\r\n") + 4);
  SendAll(connection, response);
}

std::string MetricsEndpoint::Exposition() const {
  std::vector<prometheus::MetricFamily> families;
  for (const std::weak_ptr<prometheus::Collectable>& source : sources_) {
    if (const std::shared_ptr<prometheus::Collectable> held = source.lock()) {
      std::vector<prometheus::MetricFamily> more = held->Collect();
      families.insert(families.end(), std::make_move_iterator(more.begin()),
                      std::make_move_iterator(more.end()));
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace codec::server
