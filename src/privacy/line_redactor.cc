#include "privacy/line_redactor.h"

#include <algorithm>

#include "base/json_writer.h"
#include "privacy/json_field.h"

namespace mg::privacy {
namespace {

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

uint64_t RedactionCounts::Total() const {
  uint64_t total = 0;
  for (uint64_t count : by_type) total += count;
  return total;
}

Result<std::unique_ptr<LineRedactor>> LineRedactor::Create(const Analyzer& analyzer,
                                                           const Anonymizer& anonymizer) {
  MG_ASSIGN_OR_RETURN(std::unique_ptr<AnalyzerScratch> scratch, analyzer.NewScratch());
  return std::unique_ptr<LineRedactor>(new LineRedactor(analyzer, anonymizer, std::move(scratch)));
}

Result<std::string> LineRedactor::Redact(std::string_view text, bool text_mode) {
  const bool wants_secrets =
      analyzer_.options().entities.empty() ||
      std::find(analyzer_.options().entities.begin(), analyzer_.options().entities.end(),
                EntityType::kSecret) != analyzer_.options().entities.end();
  if (text_mode && in_private_key_ && wants_secrets) {
    // Inside a PEM block: the whole line up to and including an END line.
    const size_t footer = text.find("-----END ");
    size_t end = text.size();
    if (footer != std::string_view::npos) {
      const size_t close = text.find("-----", footer + 9);
      end = close == std::string_view::npos ? text.size() : close + 5;
      in_private_key_ = false;
    }
    const std::vector<Finding> block = {{EntityType::kSecret, 0, end, 1.0f}};
    if (end == text.size()) return anonymizer_.Apply(text, block);
    MG_ASSIGN_OR_RETURN(std::string rest, Redact(text.substr(end), text_mode));
    return anonymizer_.Apply(text.substr(0, end), block) + rest;
  }
  MG_ASSIGN_OR_RETURN(std::vector<Finding> findings, analyzer_.Analyze(text, scratch_.get()));
  for (const Finding& finding : findings) {
    ++counts_.by_type[static_cast<size_t>(finding.type)];
    if (text_mode && finding.type == EntityType::kSecret &&
        text.substr(finding.begin, 11) == "-----BEGIN " &&
        text.substr(finding.begin, finding.size()).find("-----END ") == std::string_view::npos) {
      in_private_key_ = true;
    }
  }
  return anonymizer_.Apply(text, findings);
}

Status LineRedactor::RedactText(std::string_view line, std::string* out) {
  MG_ASSIGN_OR_RETURN(*out, Redact(line, /*text_mode=*/true));
  return Status::Ok();
}

Status LineRedactor::RedactJsonLine(std::string_view line, std::string_view field,
                                    std::string* out) {
  if (IsBlank(line)) {
    out->assign(line);
    return Status::Ok();
  }
  MG_ASSIGN_OR_RETURN(JsonStringField member, FindJsonStringField(line, field));
  MG_ASSIGN_OR_RETURN(std::string redacted, Redact(member.value, /*text_mode=*/false));
  out->assign(line.substr(0, member.begin));
  AppendJsonString(out, redacted);
  out->append(line.substr(member.end));
  return Status::Ok();
}

Status LineRedactor::DecryptText(std::string_view line, std::string* out) {
  size_t tokens = 0;
  MG_ASSIGN_OR_RETURN(*out, anonymizer_.Decrypt(line, &tokens));
  counts_.decrypted += tokens;
  return Status::Ok();
}

Status LineRedactor::DecryptJsonLine(std::string_view line, std::string_view field,
                                     std::string* out) {
  if (IsBlank(line)) {
    out->assign(line);
    return Status::Ok();
  }
  MG_ASSIGN_OR_RETURN(JsonStringField member, FindJsonStringField(line, field));
  size_t tokens = 0;
  MG_ASSIGN_OR_RETURN(std::string plain, anonymizer_.Decrypt(member.value, &tokens));
  counts_.decrypted += tokens;
  out->assign(line.substr(0, member.begin));
  AppendJsonString(out, plain);
  out->append(line.substr(member.end));
  return Status::Ok();
}

}  // namespace mg::privacy
