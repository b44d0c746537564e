#include "server/observability/server_log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace codec::server {
namespace {

std::atomic<LogFormat> log_format{LogFormat::kText};

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format '", name, "' is neither text nor json"));
}

void SetLogFormat(LogFormat format) { log_format.store(format, std::memory_order_relaxed); }

void LogEvent(absl::string_view message, const std::string& text, const nlohmann::json& fields) {
  std::string line;
  if (log_format.load(std::memory_order_relaxed) == LogFormat::kText) {
    line = absl::StrCat("codec_server: ", text, "\n");
  } else {
    nlohmann::json event = {
        {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone())},
        {"message", std::string(message)}};
    event.update(fields);
    line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  // One write per line, so that lines of concurrent requests never interleave.
  fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace codec::server
