#include "serve/logger.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace mg::serve {
namespace {

// Lines written to `file` so far.
std::string Contents(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string out;
  char buffer[4096];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof buffer, file)) > 0) out.append(buffer, read);
  std::fseek(file, 0, SEEK_END);  // the logger writes next
  return out;
}

size_t Count(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

TEST(SampledLogTest, LogsTheFirstEventThenOneLinePerInterval) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  Logger logger(LogLevel::kInfo, file);
  SampledLog hourly(&logger, LogLevel::kWarn, "refused", std::chrono::hours(1));
  for (int event = 0; event < 1000; ++event) hourly.Note();
  std::string text = Contents(file);
  EXPECT_EQ(Count(text, "\"msg\":\"refused\""), 1u) << text;
  EXPECT_NE(text.find("\"count\":1}"), std::string::npos) << text;

  // With no interval every event is a line, each counting itself.
  SampledLog every(&logger, LogLevel::kWarn, "each", std::chrono::steady_clock::duration::zero());
  for (int event = 0; event < 3; ++event) every.Note();
  text = Contents(file);
  EXPECT_EQ(Count(text, "\"msg\":\"each\""), 3u) << text;
  std::fclose(file);
}

}  // namespace
}  // namespace mg::serve
