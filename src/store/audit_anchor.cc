#include "store/audit_anchor.h"

#include <algorithm>
#include <charconv>

namespace mg::store {
namespace {

constexpr std::string_view kMagic = "modelgate-audit-checkpoint-v1";

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const size_t end = std::min(line.find_first_of(" \t\r"), line.size());
    fields.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
  return fields;
}

}  // namespace

std::string FormatAnchorLine(const AuditCheckpoint& checkpoint) {
  std::string line(kMagic);
  line.append(" ")
      .append(std::to_string(checkpoint.seq))
      .append(" ")
      .append(checkpoint.hash)
      .append(" ")
      .append(HexEncode(checkpoint.public_key))
      .append(" ")
      .append(HexEncode(checkpoint.signature))
      .append("\n");
  return line;
}

Result<std::vector<AuditCheckpoint>> ParseAuditAnchor(std::string_view text,
                                                      const std::string& name) {
  std::vector<AuditCheckpoint> checkpoints;
  int line_number = 0;
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++line_number;
    const std::vector<std::string_view> fields = SplitSpaces(line);
    if (fields.empty()) continue;
    AuditCheckpoint checkpoint;
    bool ok = fields.size() == 5 && fields[0] == kMagic;
    if (ok) {
      const auto [ptr, ec] =
          std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), checkpoint.seq);
      ok = ec == std::errc() && ptr == fields[1].data() + fields[1].size() && checkpoint.seq > 0;
    }
    const auto hash = ok ? HexDecode(fields[2]) : std::nullopt;
    const auto key = ok ? HexDecode(fields[3]) : std::nullopt;
    const auto signature = ok ? HexDecode(fields[4]) : std::nullopt;
    if (!hash || hash->size() != 32 || !key || !signature) {
      return CorruptionError(name + " line " + std::to_string(line_number) +
                             " is not an audit checkpoint ('" + std::string(kMagic) +
                             " SEQ HASH PUBLIC_KEY SIGNATURE')");
    }
    checkpoint.hash = std::string(fields[2]);
    checkpoint.public_key = *key;
    checkpoint.signature = *signature;
    checkpoints.push_back(std::move(checkpoint));
  }
  return checkpoints;
}

Result<std::vector<AuditCheckpoint>> ReadAuditAnchor(const std::string& path, Env* env) {
  MG_ASSIGN_OR_RETURN(std::string text, env->ReadFile(path));
  return ParseAuditAnchor(text, "audit anchor " + path);
}

Result<std::unique_ptr<AuditAnchorFile>> AuditAnchorFile::Open(const std::string& path, Env* env) {
  Result<std::unique_ptr<AppendableFile>> file = env->OpenForAppend(path, 0644);
  if (!file.ok()) return file.status().WithContext("audit anchor");
  return std::unique_ptr<AuditAnchorFile>(new AuditAnchorFile(path, std::move(*file)));
}

Status AuditAnchorFile::Append(const AuditCheckpoint& checkpoint) {
  const std::string line = FormatAnchorLine(checkpoint);
  std::lock_guard lock(mutex_);
  // With O_APPEND the line lands whole at the end, even when another
  // process appends to the same file.
  return file_->AppendAndSync(line).WithContext("cannot append to audit anchor");
}

}  // namespace mg::store
