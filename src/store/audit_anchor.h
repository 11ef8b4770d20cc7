// The audit anchor: signed checkpoints kept outside the database, one line
// each, in a file that is only ever appended to:
//
//   modelgate-audit-checkpoint-v1 SEQ HASH PUBLIC_KEY SIGNATURE
//
// (decimal, then hex). The server and the key commands append each
// checkpoint once its transaction committed; `modelgate audit verify
// --anchor FILE` then requires every line to be in the chain. Someone who
// can write the database but not this file cannot rewrite or cut back the
// chain to before the newest anchored checkpoint without the verifier
// noticing. Keep the file where the database's writers cannot change it
// (another host, a write-once store, a log shipper).
//
// Thread safety: AuditAnchorFile::Append may be called from any thread;
// the free functions share no state.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/env.h"
#include "base/status.h"
#include "store/audit_chain.h"

namespace mg::store {

// One line, with its newline.
std::string FormatAnchorLine(const AuditCheckpoint& checkpoint);

// Every line of an anchor file's contents; `name` is used in errors, which
// name the bad line. Blank lines are skipped; signatures are not checked
// here (VerifyAuditChain does).
Result<std::vector<AuditCheckpoint>> ParseAuditAnchor(std::string_view text,
                                                      const std::string& name);
Result<std::vector<AuditCheckpoint>> ReadAuditAnchor(const std::string& path,
                                                     Env* env = Env::Default());

// An anchor file open for appending (O_APPEND, created 0644 if missing) in
// `env`'s file system. Each Append writes one whole line and syncs it before
// returning.
class AuditAnchorFile {
 public:
  static Result<std::unique_ptr<AuditAnchorFile>> Open(const std::string& path,
                                                       Env* env = Env::Default());
  ~AuditAnchorFile() = default;
  AuditAnchorFile(const AuditAnchorFile&) = delete;
  AuditAnchorFile& operator=(const AuditAnchorFile&) = delete;

  Status Append(const AuditCheckpoint& checkpoint);
  const std::string& path() const { return path_; }

 private:
  AuditAnchorFile(std::string path, std::unique_ptr<AppendableFile> file)
      : path_(std::move(path)), file_(std::move(file)) {}

  const std::string path_;
  std::mutex mutex_;                      // one line at a time from this process
  std::unique_ptr<AppendableFile> file_;  // guarded by mutex_
};

}  // namespace mg::store
