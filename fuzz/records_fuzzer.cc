// Input records of every command that takes --input: JSON lines, CSV and
// plain text. The first byte picks the format.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>
#include <vector>

#include "base/json_limits.h"
#include "data/flat_json.h"
#include "data/records.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static constexpr mg::data::RecordFormat kFormats[] = {
      mg::data::RecordFormat::kJsonLines, mg::data::RecordFormat::kCsv,
      mg::data::RecordFormat::kText, mg::data::RecordFormat::kAuto};
  const auto format = kFormats[data[0] % 4];
  const std::string_view contents = mg::fuzz::AsText(data + 1, size - 1);
  auto records = mg::data::ParseRecords(contents, "fuzz.jsonl", format);
  if (records.ok()) {
    for (const auto& record : *records) {
      if (record.line == 0) mg::fuzz::Fail("record without a line number");
    }
  }
  (void)mg::data::ReplaceLoneSurrogateEscapes(contents);
  // The fast reader of flat objects reads what it accepts as the full parser does.
  std::vector<mg::data::FlatJsonField> fields(2);
  fields[0].key = "text";
  fields[1].key = "id";
  if (contents.find('\n') == std::string_view::npos && mg::CheckJsonDepth(contents).ok() &&
      mg::data::ReadFlatJsonObject(contents, fields)) {
    const nlohmann::json parsed = nlohmann::json::parse(contents, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) mg::fuzz::Fail("accepted invalid JSON");
    for (const auto& field : fields) {
      auto it = parsed.find(std::string(field.key));
      if (field.present != (it != parsed.end())) mg::fuzz::Fail("a key read differently");
      if (!field.present) continue;
      if (field.is_null != it->is_null()) mg::fuzz::Fail("null read differently");
      if (!field.is_null && (!it->is_string() || it->get<std::string>() != field.value)) {
        mg::fuzz::Fail("a string read differently");
      }
    }
  }
  return 0;
}
