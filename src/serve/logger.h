// Logger: structured logs as JSON lines on stderr, one object per event:
// {"ts":"...","level":"info","msg":"request","request_id":...,"route":...}.
//
// The server logs request ids, routes, statuses, latencies and token counts,
// never request text or API keys: callers pass only such fields.
//
// Thread safety: Log() may be called from any thread; lines never interleave.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace mg::serve {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// "debug", "info", "warn", "error" or "off".
Result<LogLevel> ParseLogLevel(std::string_view name);

// One field of a log line: a string or a number.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), text(v), is_number(false) {}
  LogField(std::string_view k, const char* v) : key(k), text(v), is_number(false) {}
  LogField(std::string_view k, const std::string& v) : key(k), text(v), is_number(false) {}
  LogField(std::string_view k, int64_t v) : key(k), text(std::to_string(v)), is_number(true) {}
  LogField(std::string_view k, int v) : key(k), text(std::to_string(v)), is_number(true) {}
  LogField(std::string_view k, double v);
  std::string_view key;
  std::string text;
  bool is_number;
};

class Logger {
 public:
  // Writes to `file` (stderr when null).
  explicit Logger(LogLevel level, std::FILE* file = nullptr);

  bool Enabled(LogLevel level) const { return level >= level_ && level_ != LogLevel::kOff; }
  void Log(LogLevel level, std::string_view message, const std::vector<LogField>& fields = {});

 private:
  const LogLevel level_;
  std::FILE* const file_;
  std::mutex mutex_;
};

}  // namespace mg::serve
