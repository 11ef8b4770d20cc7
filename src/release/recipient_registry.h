// The vendor's registry of fingerprinted recipients: a JSON file that
// `release open --fingerprint` appends to and `trace` reads, so that tracing
// tests every recipient a model was released to without naming them again.
// It stays with the vendor and is never shipped (it names every recipient).
//
// Format (docs/release-formats.md):
//   {"format":"modelgate-recipients-v1","recipients":[{"recipient":"Acme Bank",
//     "model_id":"triage","created_at":"2026-12-03T19:00:00Z","trigger_set":100,
//     "key_id":"…"}, …]}
// "trigger_set" is the size of the recipient's trigger set, 0 when the copy
// carries only the weight-space fingerprint. Not thread-safe with respect to
// other writers of the same file; each write replaces the file atomically.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/status.h"
#include "release/trigger_set.h"

namespace mg::release {

struct RecipientEntry {
  std::string recipient;
  std::string model_id;
  std::string created_at;
  std::string key_id;
  size_t trigger_set = 0;
};

// The entries of the registry at `path`; an absent file has none.
Result<std::vector<RecipientEntry>> ReadRecipientRegistry(const std::string& path);

// Adds `entry` to the registry at `path` (creating it), replacing an earlier
// entry for the same recipient, model id and key.
Status AddToRecipientRegistry(const std::string& path, const RecipientEntry& entry);

// The recipients to test a model against: the registry's entries with a
// trigger set made with the key `key_id`, then `names` (each with a trigger
// set of `count` texts), without repeating a name.
std::vector<TriggerRecipient> TriggerRecipients(const std::vector<RecipientEntry>& registry,
                                                const std::string& key_id,
                                                const std::vector<std::string>& names,
                                                size_t count);

}  // namespace mg::release
