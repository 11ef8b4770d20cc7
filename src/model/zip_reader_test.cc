#include "model/zip_reader.h"

#include <gtest/gtest.h>

#include <random>

#include "model/model_io_test_util.h"

namespace mg::model {
namespace {

using testing::PatchLe;
using testing::ReadLe;

// Reads from an exactly-sized heap copy, so any over-read is caught by ASan.
Result<std::vector<ZipEntry>> Read(const std::string& image) {
  std::vector<uint8_t> copy(image.begin(), image.end());
  return ReadZipDirectory(copy.data(), copy.size(), "test.zip");
}

void ExpectError(const std::string& image, const std::string& needle) {
  Result<std::vector<ZipEntry>> entries = Read(image);
  ASSERT_FALSE(entries.ok()) << "accepted an archive that should fail with: " << needle;
  EXPECT_NE(entries.status().message().find(needle), std::string::npos)
      << entries.status().ToString();
  EXPECT_NE(entries.status().message().find("test.zip"), std::string::npos);
}

std::string TwoEntries() {
  return testing::BuildZip({{"archive/data.pkl", "pickle bytes"}, {"archive/data/0", "0123"}});
}

size_t EndRecord(const std::string& image) { return image.size() - 22; }
size_t Directory(const std::string& image) { return ReadLe(image, EndRecord(image) + 16, 4); }

TEST(ZipReaderTest, ReadsEntries) {
  const std::string image = TwoEntries();
  Result<std::vector<ZipEntry>> entries = Read(image);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].name, "archive/data/0");
  EXPECT_EQ((*entries)[1].size, 4u);
  EXPECT_EQ((*entries)[1].data_offset % 64, 0u);
  EXPECT_EQ(image.substr((*entries)[1].data_offset, 4), "0123");
  EXPECT_EQ(image.substr((*entries)[0].data_offset, 12), "pickle bytes");
}

TEST(ZipReaderTest, AcceptsACommentAfterTheEndRecord) {
  std::string image = TwoEntries();
  PatchLe(&image, EndRecord(image) + 20, 7, 2);
  image += "comment";
  EXPECT_TRUE(Read(image).ok());
}

TEST(ZipReaderTest, EveryTruncationFailsCleanly) {
  const std::string image = TwoEntries();
  for (size_t length = 0; length < image.size(); ++length) {
    EXPECT_FALSE(Read(image.substr(0, length)).ok()) << length;
  }
}

TEST(ZipReaderTest, RejectsBadDirectories) {
  ExpectError("PK", "too short");
  ExpectError(std::string(100, 'x'), "no end of central directory");
  std::string image = TwoEntries();
  PatchLe(&image, EndRecord(image) + 16, 0xFFFFFF0, 4);
  ExpectError(image, "outside the file");
  image = TwoEntries();
  PatchLe(&image, EndRecord(image) + 12, 0xFFFFFF0, 4);
  ExpectError(image, "outside the file");
  image = TwoEntries();
  PatchLe(&image, EndRecord(image) + 10, 0xFFFE, 2);
  ExpectError(image, "more than fit");
  image = TwoEntries();
  PatchLe(&image, EndRecord(image) + 4, 1, 2);
  ExpectError(image, "split");
  image = TwoEntries();
  PatchLe(&image, Directory(image), 0x12345678, 4);
  ExpectError(image, "central directory entry at offset");
  image = TwoEntries();
  PatchLe(&image, Directory(image) + 28, 0xFFFF, 2);  // name runs past the directory
  ExpectError(image, "runs past the directory");
  image = TwoEntries();
  PatchLe(&image, EndRecord(image) + 10, 0xFFFF, 2);  // zip64 marker without its records
  ExpectError(image, "zip64");
}

TEST(ZipReaderTest, RejectsBadEntries) {
  std::string image = TwoEntries();
  PatchLe(&image, Directory(image) + 42, 0x7FFFFFF0, 4);
  ExpectError(image, "no valid local header");
  image = TwoEntries();
  PatchLe(&image, Directory(image) + 42, 5, 4);
  ExpectError(image, "no valid local header");
  image = TwoEntries();
  image[30] = 'X';  // first local header's name
  ExpectError(image, "disagrees");
  image = TwoEntries();
  PatchLe(&image, Directory(image) + 20, 0x7FFFFFF0, 4);
  PatchLe(&image, Directory(image) + 24, 0x7FFFFFF0, 4);
  ExpectError(image, "runs past the end of the file");
  image = TwoEntries();
  PatchLe(&image, Directory(image) + 24, 3, 4);
  ExpectError(image, "mismatched sizes");
  image = TwoEntries();
  PatchLe(&image, Directory(image) + 8, 1, 2);
  ExpectError(image, "encrypted");
  ExpectError(testing::BuildZip({{"same", "a"}, {"same", "b"}}), "appears twice");
}

// A one-entry archive in zip64 form: directory fields and the entry's sizes
// and offset moved to zip64 records.
std::string Zip64Archive(bool with_extra) {
  std::string out;
  auto le = [&out](uint64_t value, int width) {
    for (int byte = 0; byte < width; ++byte) out.push_back(static_cast<char>(value >> (8 * byte)));
  };
  const std::string name = "big/data/0";
  const std::string data = "zip64 data";
  le(0x04034b50, 4), le(45, 2), le(0, 2), le(0, 2), le(0, 8), le(0xFFFFFFFF, 4);
  le(0xFFFFFFFF, 4), le(name.size(), 2), le(0, 2);
  out += name + data;
  const size_t directory = out.size();
  le(0x02014b50, 4), le(45, 2), le(45, 2), le(0, 2), le(0, 2), le(0, 8);
  le(0xFFFFFFFF, 4), le(0xFFFFFFFF, 4), le(name.size(), 2), le(with_extra ? 28 : 0, 2);
  le(0, 2), le(0, 2), le(0, 2), le(0, 4), le(0xFFFFFFFF, 4);
  out += name;
  if (with_extra) le(0x0001, 2), le(24, 2), le(data.size(), 8), le(data.size(), 8), le(0, 8);
  const size_t directory_size = out.size() - directory;
  const size_t record = out.size();
  le(0x06064b50, 4), le(44, 8), le(45, 2), le(45, 2), le(0, 4), le(0, 4);
  le(1, 8), le(1, 8), le(directory_size, 8), le(directory, 8);
  le(0x07064b50, 4), le(0, 4), le(record, 8), le(1, 4);
  le(0x06054b50, 4), le(0, 4), le(0xFFFF, 2), le(0xFFFF, 2), le(0xFFFFFFFF, 4);
  le(0xFFFFFFFF, 4), le(0, 2);
  return out;
}

TEST(ZipReaderTest, ReadsZip64) {
  const std::string image = Zip64Archive(/*with_extra=*/true);
  Result<std::vector<ZipEntry>> entries = Read(image);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].size, 10u);
  EXPECT_EQ(image.substr((*entries)[0].data_offset, 10), "zip64 data");
  ExpectError(Zip64Archive(/*with_extra=*/false), "lacks its zip64 extra field");
  for (size_t length = 0; length < image.size(); ++length) {
    EXPECT_FALSE(Read(image.substr(0, length)).ok()) << length;
  }
}

// Random corruption either fails with an error naming the archive, or
// yields entries whose bytes lie inside it.
TEST(ZipReaderTest, RandomCorruptionFailsCleanlyOrStaysInBounds) {
  const std::string image = TwoEntries();
  std::mt19937 random(99);
  int refused = 0;
  for (int trial = 0; trial < 5000; ++trial) {
    std::string corrupt = image;
    for (int flip = 0; flip < 3; ++flip)
      corrupt[random() % corrupt.size()] = static_cast<char>(random());
    Result<std::vector<ZipEntry>> entries = Read(corrupt);
    if (!entries.ok()) {
      ++refused;
      EXPECT_NE(entries.status().message().find("test.zip"), std::string::npos)
          << entries.status().ToString();
      continue;
    }
    for (const ZipEntry& entry : *entries) {
      EXPECT_LE(entry.data_offset, corrupt.size()) << entry.name;
      EXPECT_LE(entry.stored_size,
                corrupt.size() - std::min<uint64_t>(entry.data_offset, corrupt.size()))
          << entry.name;
    }
  }
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace mg::model
