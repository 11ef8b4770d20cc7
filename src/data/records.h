// Records: labelled or unlabelled text examples read from JSON lines, CSV or
// plain text, the input format of every modelgate command that takes --input.
//
//   JSON lines: one object per line with "text" (and optional "text_pair",
//               "label", "id"); blank lines are skipped.
//   CSV:        RFC 4180 with a header row naming those columns.
//   text:       one text per line, taken as is.
//
// Errors name the file and line. Stateless functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mg::data {

struct Record {
  std::string text;
  std::optional<std::string> text_pair;
  std::optional<std::string> label;
  std::optional<std::string> id;
  size_t line = 0;  // 1-based line where the record starts
};

enum class RecordFormat { kAuto, kJsonLines, kCsv, kText };

// "auto", "jsonl", "csv" or "text".
Result<RecordFormat> ParseRecordFormat(std::string_view name);

// Parses `contents` (named `name` in errors). kAuto picks by the file
// extension (.csv, .txt), else JSON lines.
Result<std::vector<Record>> ParseRecords(std::string_view contents, const std::string& name,
                                         RecordFormat format = RecordFormat::kAuto,
                                         const std::string& text_field = "text");

Result<std::vector<Record>> ReadRecords(const std::string& path,
                                        RecordFormat format = RecordFormat::kAuto,
                                        const std::string& text_field = "text");

// JSON escapes of lone UTF-16 surrogates ("\ud800" without its pair) replaced
// by "\ufffd", so that such text reads as U+FFFD rather than failing.
std::string ReplaceLoneSurrogateEscapes(std::string_view json_text);

}  // namespace mg::data
