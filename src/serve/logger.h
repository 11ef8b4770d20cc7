// Logger: structured logs as JSON lines on stderr, one object per event:
// {"ts":"...","level":"info","msg":"request","request_id":...,"route":...}.
//
// The server logs request ids, routes, statuses, latencies and token counts,
// never request text or API keys: callers pass only such fields.
//
// Thread safety: Log() may be called from any thread; lines never interleave.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
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

class Logger;

// One log line for many events of one kind, such as requests refused for
// want of an API key, which anyone can send by the thousand: the first event
// is logged at once, later ones at most once per `every`, each line with how
// many happened since the last (events after the last line are counted in
// metrics, not logged). Thread-safe.
class SampledLog {
 public:
  SampledLog(Logger* logger, LogLevel level, std::string message,
             std::chrono::steady_clock::duration every)
      : logger_(logger), level_(level), message_(std::move(message)), every_(every) {}
  void Note();

 private:
  Logger* const logger_;
  const LogLevel level_;
  const std::string message_;
  const std::chrono::steady_clock::duration every_;
  std::mutex mutex_;
  std::optional<std::chrono::steady_clock::time_point> last_;  // guarded by mutex_
  int64_t since_last_ = 0;                                     // guarded by mutex_
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
