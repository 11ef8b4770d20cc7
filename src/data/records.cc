#include "data/records.h"

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_limits.h"
#include "data/flat_json.h"

namespace mg::data {
namespace {

using nlohmann::json;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of a "\uXXXX" escape starting at text[pos] ('\\'), or -1.
int EscapeUnit(std::string_view text, size_t pos) {
  if (pos + 6 > text.size() || text[pos] != '\\' || text[pos + 1] != 'u') return -1;
  int unit = 0;
  for (size_t i = pos + 2; i < pos + 6; ++i) {
    int h = HexValue(text[i]);
    if (h < 0) return -1;
    unit = unit * 16 + h;
  }
  return unit;
}

std::optional<std::string> StringField(const json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer() || it->is_boolean() || it->is_number()) return it->dump();
  return std::nullopt;
}

Result<std::vector<Record>> ParseJsonLines(std::string_view contents, const std::string& name,
                                           const std::string& text_field) {
  // The keys a record takes, read by the fast reader when a line is a flat
  // object (the text field may be one of the other three).
  std::vector<FlatJsonField> fields;
  for (const std::string_view key : {std::string_view(text_field), std::string_view("text_pair"),
                                     std::string_view("label"), std::string_view("id")}) {
    bool seen = false;
    for (const FlatJsonField& field : fields) seen = seen || field.key == key;
    if (seen) continue;
    fields.emplace_back();
    fields.back().key = key;
  }
  auto field = [&fields](std::string_view key) -> const FlatJsonField& {
    for (const FlatJsonField& f : fields) {
      if (f.key == key) return f;
    }
    return fields.front();  // not reached: every key is in `fields`
  };
  auto string_of = [](const FlatJsonField& f) -> std::optional<std::string> {
    if (!f.present || f.is_null) return std::nullopt;
    return f.value;
  };
  std::vector<Record> records;
  size_t pos = 0;
  size_t line_number = 0;
  while (pos < contents.size()) {
    size_t newline = contents.find('\n', pos);
    size_t end = newline == std::string_view::npos ? contents.size() : newline;
    std::string_view line = contents.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (ReadFlatJsonObject(line, fields)) {
      FlatJsonField& text = fields.front();
      if (text.present && !text.is_null) {
        // Read as the full parser below reads it; the text last, as it is moved.
        Record record;
        record.text_pair = string_of(field("text_pair"));
        record.label = string_of(field("label"));
        record.id = string_of(field("id"));
        record.text = std::move(text.value);
        record.line = line_number;
        records.push_back(std::move(record));
        continue;
      }
      // No text: the full parser reports it.
    }
    const std::string where = name + " line " + std::to_string(line_number);
    MG_RETURN_IF_ERROR(CheckJsonDepth(line).WithContext(where));
    json object = json::parse(ReplaceLoneSurrogateEscapes(line), nullptr, false);
    if (object.is_discarded())
      return InvalidArgumentError(where + ": not valid JSON (or not UTF-8)");
    if (!object.is_object()) return InvalidArgumentError(where + ": expected a JSON object");
    auto text = object.find(text_field);
    if (text == object.end() || !text->is_string()) {
      return InvalidArgumentError(where + ": missing string field \"" + text_field + "\"");
    }
    Record record;
    record.text = text->get<std::string>();
    auto pair = object.find("text_pair");
    if (pair != object.end() && !pair->is_null()) {
      if (!pair->is_string())
        return InvalidArgumentError(where + ": \"text_pair\" is not a string");
      record.text_pair = pair->get<std::string>();
    }
    record.label = StringField(object, "label");
    record.id = StringField(object, "id");
    record.line = line_number;
    records.push_back(std::move(record));
  }
  return records;
}

// Splits CSV into rows of fields (RFC 4180: quoted fields may hold commas,
// quotes as "" and newlines). Records the starting line of each row.
Result<std::vector<std::vector<std::string>>> ParseCsvRows(std::string_view contents,
                                                           const std::string& name,
                                                           std::vector<size_t>* row_lines) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  size_t line = 1;
  size_t row_line = 1;
  bool in_quotes = false;
  bool field_started = false;
  for (size_t pos = 0; pos < contents.size(); ++pos) {
    const char c = contents[pos];
    if (in_quotes) {
      if (c == '"') {
        if (pos + 1 < contents.size() && contents[pos + 1] == '"') {
          field.push_back('"');
          ++pos;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && pos + 1 < contents.size() && contents[pos + 1] == '\n') ++pos;
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      if (!(row.size() == 1 && row[0].empty())) {
        rows.push_back(std::move(row));
        row_lines->push_back(row_line);
      }
      row.clear();
      ++line;
      row_line = line;
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) {
    return InvalidArgumentError(name + " line " + std::to_string(row_line) +
                                ": unterminated quoted field");
  }
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
    row_lines->push_back(row_line);
  }
  return rows;
}

Result<std::vector<Record>> ParseCsv(std::string_view contents, const std::string& name,
                                     const std::string& text_field) {
  if (contents.size() >= 3 && contents.substr(0, 3) == "\xEF\xBB\xBF") contents.remove_prefix(3);
  std::vector<size_t> row_lines;
  MG_ASSIGN_OR_RETURN(auto rows, ParseCsvRows(contents, name, &row_lines));
  if (rows.empty()) return InvalidArgumentError(name + ": empty CSV (a header row is required)");
  const std::vector<std::string>& header = rows[0];
  int text_col = -1, pair_col = -1, label_col = -1, id_col = -1;
  for (size_t col = 0; col < header.size(); ++col) {
    if (header[col] == text_field) text_col = static_cast<int>(col);
    if (header[col] == "text_pair") pair_col = static_cast<int>(col);
    if (header[col] == "label") label_col = static_cast<int>(col);
    if (header[col] == "id") id_col = static_cast<int>(col);
  }
  if (text_col < 0) {
    return InvalidArgumentError(name + " line 1: the CSV header has no \"" + text_field +
                                "\" column");
  }
  std::vector<Record> records;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() != header.size()) {
      return InvalidArgumentError(name + " line " + std::to_string(row_lines[r]) + ": " +
                                  std::to_string(row.size()) + " fields, the header has " +
                                  std::to_string(header.size()));
    }
    Record record;
    record.text = row[text_col];
    if (pair_col >= 0) record.text_pair = row[pair_col];
    if (label_col >= 0) record.label = row[label_col];
    if (id_col >= 0) record.id = row[id_col];
    record.line = row_lines[r];
    records.push_back(std::move(record));
  }
  return records;
}

std::vector<Record> ParseTextLines(std::string_view contents) {
  std::vector<Record> records;
  size_t pos = 0;
  size_t line_number = 0;
  while (pos < contents.size()) {
    size_t newline = contents.find('\n', pos);
    size_t end = newline == std::string_view::npos ? contents.size() : newline;
    std::string_view line = contents.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Record record;
    record.text = std::string(line);
    record.line = ++line_number;
    records.push_back(std::move(record));
    pos = end + 1;
  }
  return records;
}

}  // namespace

Result<RecordFormat> ParseRecordFormat(std::string_view name) {
  if (name == "auto") return RecordFormat::kAuto;
  if (name == "jsonl" || name == "json") return RecordFormat::kJsonLines;
  if (name == "csv") return RecordFormat::kCsv;
  if (name == "text" || name == "txt") return RecordFormat::kText;
  return InvalidArgumentError("unknown input format \"" + std::string(name) +
                              "\" (expected auto, jsonl, csv or text)");
}

Result<std::vector<Record>> ParseRecords(std::string_view contents, const std::string& name,
                                         RecordFormat format, const std::string& text_field) {
  if (format == RecordFormat::kAuto) {
    if (EndsWith(name, ".csv")) {
      format = RecordFormat::kCsv;
    } else if (EndsWith(name, ".txt")) {
      format = RecordFormat::kText;
    } else {
      format = RecordFormat::kJsonLines;
    }
  }
  switch (format) {
    case RecordFormat::kCsv:
      return ParseCsv(contents, name, text_field);
    case RecordFormat::kText:
      return ParseTextLines(contents);
    default:
      return ParseJsonLines(contents, name, text_field);
  }
}

Result<std::vector<Record>> ReadRecords(const std::string& path, RecordFormat format,
                                        const std::string& text_field) {
  MG_ASSIGN_OR_RETURN(std::string contents, ReadFile(path));
  return ParseRecords(contents, path, format, text_field);
}

std::string ReplaceLoneSurrogateEscapes(std::string_view text) {
  if (text.find("\\u") == std::string_view::npos && text.find("\\U") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '\\' || pos + 1 >= text.size()) {
      out.push_back(text[pos++]);
      continue;
    }
    int unit = EscapeUnit(text, pos);
    if (unit < 0) {  // some other escape: copy both characters
      out.append(text.substr(pos, 2));
      pos += 2;
      continue;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      int low = EscapeUnit(text, pos + 6);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        out.append(text.substr(pos, 12));
        pos += 12;
        continue;
      }
      out.append("\\ufffd");
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      out.append("\\ufffd");
    } else {
      out.append(text.substr(pos, 6));
    }
    pos += 6;
  }
  return out;
}

}  // namespace mg::data
