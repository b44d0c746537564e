#ifndef SERVER_OBSERVABILITY_SERVER_LOG_H_
#define SERVER_OBSERVABILITY_SERVER_LOG_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace codec::server {

// The server's log on stderr, one line per event, as text
// ("codec_server: <message>") or as one JSON object per line (for log
// collectors): {"time": RFC 3339 UTC, "message": ..., plus the event's
// fields}. Strings that clients chose must be escaped by the caller in text
// lines; JSON lines escape everything (invalid UTF-8 replaced).
enum class LogFormat { kText, kJson };

// "text" or "json"; INVALID_ARGUMENT naming `name` otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// Process-wide; text until set. Set it at start, before the first line.
void SetLogFormat(LogFormat format);

// Writes one line: `text` in text format; `message` with `fields` (an
// object) in JSON format.
void LogEvent(absl::string_view message, const std::string& text,
              const nlohmann::json& fields = nlohmann::json::object());
// A line whose text is its message.
inline void LogEvent(absl::string_view message) { LogEvent(message, std::string(message)); }

}  // namespace codec::server

#endif  // SERVER_OBSERVABILITY_SERVER_LOG_H_
