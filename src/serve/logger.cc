#include "serve/logger.h"

#include <chrono>
#include <cstdio>

#include "base/env.h"
#include "base/json_writer.h"
#include "base/time.h"

namespace mg::serve {
namespace {

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      break;
  }
  return "off";
}

void AppendTimestamp(std::string* out) {
  out->append("\"").append(FormatUtcMillis(Env::Default()->Now())).append("\"");
}

}  // namespace

Result<LogLevel> ParseLogLevel(std::string_view name) {
  for (LogLevel level :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (name == LevelName(level)) return level;
  }
  return InvalidArgumentError("unknown log level \"" + std::string(name) +
                              "\" (expected debug, info, warn, error or off)");
}

LogField::LogField(std::string_view k, double v) : key(k), is_number(true) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", v);
  text = buffer;
}

Logger::Logger(LogLevel level, std::FILE* file) : level_(level), file_(file ? file : stderr) {}

void Logger::Log(LogLevel level, std::string_view message, const std::vector<LogField>& fields) {
  if (!Enabled(level)) return;
  std::string line = "{\"ts\":";
  AppendTimestamp(&line);
  line.append(",\"level\":\"").append(LevelName(level)).append("\",\"msg\":");
  AppendJsonString(&line, message);
  for (const LogField& field : fields) {
    line.push_back(',');
    AppendJsonString(&line, field.key);
    line.push_back(':');
    if (field.is_number) {
      line.append(field.text);
    } else {
      AppendJsonString(&line, field.text);
    }
  }
  line.append("}\n");
  std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

void SampledLog::Note() {
  int64_t count = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++since_last_;
    const auto now = std::chrono::steady_clock::now();
    if (last_ && now - *last_ < every_) return;
    last_ = now;
    count = since_last_;
    since_last_ = 0;
  }
  logger_->Log(level_, message_, {{"count", count}});
}

}  // namespace mg::serve
