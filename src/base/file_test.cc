#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mg {
namespace {

std::string TempPath(const std::string& name) {
  return JoinPath(testing::TempDir(), name + "." + std::to_string(::getpid()));
}

TEST(FileTest, WriteThenReadRoundTrip) {
  std::string path = TempPath("roundtrip");
  std::string payload("a\0b\xff", 4);
  ASSERT_TRUE(WriteFileAtomic(path, payload).ok());
  Result<std::string> read = ReadFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, payload);
  ::unlink(path.c_str());
}

TEST(FileTest, SecretModeIsHonoured) {
  std::string path = TempPath("secret");
  ::unlink(path.c_str());
  ASSERT_TRUE(WriteFileAtomic(path, "k", 0600).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::unlink(path.c_str());
}

TEST(FileTest, MissingFileIsNotFound) {
  Result<std::string> r = ReadFile("/nonexistent/dir/file.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/file.txt"), std::string::npos);
}

TEST(FileTest, DirectoryIsRejected) {
  Result<std::string> r = ReadFile("/tmp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(FileTest, JoinPath) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

}  // namespace
}  // namespace mg
