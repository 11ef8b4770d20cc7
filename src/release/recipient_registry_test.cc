#include "release/recipient_registry.h"

#include <gtest/gtest.h>

#include "base/file.h"

namespace mg::release {
namespace {

std::string TempPath(const std::string& name) {
  const std::string dir = *CreateTempDirectory("/tmp/registry_test-");
  return JoinPath(dir, name);
}

TEST(RecipientRegistryTest, AddsReplacesAndReadsBack) {
  const std::string path = TempPath("recipients.json");
  EXPECT_TRUE(ReadRecipientRegistry(path)->empty());
  ASSERT_TRUE(
      AddToRecipientRegistry(path, {"Acme Bank", "triage", "2026-01-01T00:00:00Z", "k1", 100})
          .ok());
  ASSERT_TRUE(
      AddToRecipientRegistry(path, {"Bolt \"Corp\"", "triage", "2026-01-02T00:00:00Z", "k1", 0})
          .ok());
  ASSERT_TRUE(
      AddToRecipientRegistry(path, {"Acme Bank", "triage", "2026-01-03T00:00:00Z", "k1", 64}).ok());
  const std::vector<RecipientEntry> entries = *ReadRecipientRegistry(path);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].recipient, "Bolt \"Corp\"");
  EXPECT_EQ(entries[1].recipient, "Acme Bank");
  EXPECT_EQ(entries[1].trigger_set, 64u);
  EXPECT_EQ(entries[1].created_at, "2026-01-03T00:00:00Z");

  // Only trigger-set entries of this key, then the extra names once.
  const std::vector<TriggerRecipient> recipients =
      TriggerRecipients(entries, "k1", {"Acme Bank", "Cyan Ltd"}, 100);
  ASSERT_EQ(recipients.size(), 2u);
  EXPECT_EQ(recipients[0].name, "Acme Bank");
  EXPECT_EQ(recipients[0].count, 64u);
  EXPECT_EQ(recipients[1].name, "Cyan Ltd");
  EXPECT_TRUE(TriggerRecipients(entries, "k2", {}, 100).empty());
}

TEST(RecipientRegistryTest, RejectsOtherFiles) {
  const std::string path = TempPath("bad.json");
  for (const char* text : {"not json", "[]", "{\"format\":\"other\",\"recipients\":[]}",
                           "{\"format\":\"modelgate-recipients-v1\",\"recipients\":[{}]}",
                           "{\"format\":\"modelgate-recipients-v1\",\"recipients\":[{\"recipient\":"
                           "\"a\",\"trigger_set\":-3}]}"}) {
    ASSERT_TRUE(WriteFileAtomic(path, text).ok());
    EXPECT_FALSE(ReadRecipientRegistry(path).ok()) << text;
  }
}

}  // namespace
}  // namespace mg::release
