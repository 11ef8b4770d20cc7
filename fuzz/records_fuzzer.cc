// Input records of every command that takes --input: JSON lines, CSV and
// plain text. The first byte picks the format.
#include <cstddef>
#include <cstdint>

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
  return 0;
}
