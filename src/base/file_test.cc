#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

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

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

// A file or link planted where a writer once put its temporary file (the
// target's name plus ".tmp.<pid>") is neither followed nor reused.
TEST(FileTest, PlantedTemporaryFilesAreNotUsed) {
  const std::string path = TempPath("planted");
  const std::string victim = TempPath("victim");
  const std::string old_tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(path.c_str());
  ASSERT_TRUE(WriteFileAtomic(victim, "untouched").ok());
  ASSERT_EQ(::symlink(victim.c_str(), old_tmp.c_str()), 0);
  ASSERT_TRUE(WriteFileAtomic(path, "secret", 0600).ok());
  EXPECT_EQ(*ReadFile(victim), "untouched");
  EXPECT_TRUE(S_ISREG(ModeOf(path))) << "the result must be a new file, not the planted link";
  EXPECT_EQ(*ReadFile(path), "secret");
  ::unlink(old_tmp.c_str());
  ::unlink(path.c_str());

  // A world-readable file planted at that name keeps neither its mode nor
  // its contents.
  ASSERT_TRUE(WriteFileAtomic(old_tmp, "planted", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(path, "secret", 0600).ok());
  EXPECT_EQ(ModeOf(path) & 0777, 0600u);
  EXPECT_EQ(*ReadFile(old_tmp), "planted");
  ::unlink(old_tmp.c_str());
  ::unlink(path.c_str());
  ::unlink(victim.c_str());
}

// Writing a secret over an existing world-readable file leaves it 0600, and
// the requested mode is exact whatever the umask.
TEST(FileTest, ReplacedFileTakesTheRequestedMode) {
  const std::string path = TempPath("premode");
  ASSERT_TRUE(WriteFileAtomic(path, "old", 0644).ok());
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  ASSERT_TRUE(WriteFileAtomic(path, "new", 0600).ok());
  EXPECT_EQ(ModeOf(path) & 0777, 0600u);
  const mode_t old_umask = ::umask(0077);
  ASSERT_TRUE(WriteFileAtomic(path, "public", 0644).ok());
  ::umask(old_umask);
  EXPECT_EQ(ModeOf(path) & 0777, 0644u);
  ::unlink(path.c_str());
}

// A failed write leaves the old file and no temporary file behind, and the
// error names the cause.
TEST(FileTest, FailedWriteLeavesNoTemporaryFile) {
  const std::string dir = TempPath("faildir");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  const std::string path = JoinPath(dir, "target");
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  // Renaming a file over a directory fails after the temporary file exists.
  const std::string blocked = JoinPath(dir, "blocked");
  ASSERT_EQ(::mkdir(blocked.c_str(), 0700), 0);
  Status s = WriteFileAtomic(blocked, "new");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("directory"), std::string::npos) << s.ToString();
  EXPECT_EQ(*ReadFile(path), "old");
  ASSERT_EQ(::rmdir(blocked.c_str()), 0);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  EXPECT_EQ(::rmdir(dir.c_str()), 0) << "a temporary file was left in " << dir;
}

TEST(FileTest, StaleTempFilesAreRemoved) {
  const std::string dir = TempPath("staledir");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  const std::string stale = JoinPath(dir, ".model.safetensors.tmp-0123456789abcdef");
  const std::string kept = JoinPath(dir, "model.safetensors.tmp-0123456789abcdef");
  const std::string other = JoinPath(dir, ".notes.tmp-xyz");
  for (const std::string& path : {stale, kept, other}) ASSERT_TRUE(WriteFileAtomic(path, "x").ok());
  EXPECT_EQ(RemoveStaleTempFiles(dir, "config.json"), 0u);
  EXPECT_TRUE(FileExists(stale));
  EXPECT_EQ(RemoveStaleTempFiles(dir, "model.safetensors"), 1u);
  EXPECT_FALSE(FileExists(stale));
  EXPECT_TRUE(FileExists(kept));
  EXPECT_TRUE(FileExists(other));
  for (const std::string& path : {kept, other}) ::unlink(path.c_str());
  EXPECT_EQ(::rmdir(dir.c_str()), 0);
}

TEST(FileTest, SecretFileMustBeOwnerOnly) {
  const std::string path = TempPath("secretread");
  ASSERT_TRUE(WriteFileAtomic(path, "k", 0600).ok());
  EXPECT_EQ(*ReadSecretFile(path), "k");
  ASSERT_EQ(::chmod(path.c_str(), 0604), 0);
  Result<std::string> open = ReadSecretFile(path);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("permissions 0604 for '" + path + "' are too open"),
            std::string::npos)
      << open.status().ToString();
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

// A file larger than one piece, with every byte value.
std::string LargePayload() {
  std::string payload;
  for (size_t i = 0; i < (1 << 20) + 12345; ++i)
    payload.push_back(static_cast<char>(i * 131 % 251));
  return payload;
}

TEST(FileTest, PiecesAddUpToTheFile) {
  const std::string path = TempPath("pieces");
  const std::string payload = LargePayload();
  ASSERT_TRUE(WriteFileAtomic(path, payload).ok());
  std::string seen;
  size_t pieces = 0;
  Result<uint64_t> size = ReadFileInPieces(path, [&](std::string_view piece) {
    seen.append(piece);
    ++pieces;
    return Status::Ok();
  });
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, payload.size());
  EXPECT_EQ(seen, payload);
  EXPECT_GE(pieces, 2u);
  // The first error stops the reading and is returned.
  Result<uint64_t> stopped =
      ReadFileInPieces(path, [](std::string_view) { return InvalidArgumentError("stop"); });
  EXPECT_EQ(stopped.status().message(), "stop");
  EXPECT_EQ(ReadFileInPieces(path + ".missing", [](std::string_view) { return Status::Ok(); })
                .status()
                .code(),
            StatusCode::kNotFound);
  ::unlink(path.c_str());
}

TEST(FileTest, CopyToNewFileCopiesAndRefusesToOverwrite) {
  const std::string from = TempPath("copy-from"), to = TempPath("copy-to");
  ::unlink(to.c_str());
  const std::string payload = LargePayload();
  ASSERT_TRUE(WriteFileAtomic(from, payload).ok());
  std::string observed;
  Result<uint64_t> size =
      CopyToNewFile(from, to, 0644, [&](std::string_view piece) { observed.append(piece); });
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, payload.size());
  EXPECT_EQ(observed, payload);
  EXPECT_EQ(*ReadFile(to), payload);
  EXPECT_FALSE(CopyToNewFile(from, to, 0644).ok());  // exists
  EXPECT_EQ(*ReadFile(to), payload);
  // A missing source creates nothing.
  const std::string nowhere = TempPath("copy-nowhere");
  ::unlink(nowhere.c_str());
  EXPECT_EQ(CopyToNewFile(from + ".missing", nowhere, 0644).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(FileExists(nowhere));
  ::unlink(from.c_str());
  ::unlink(to.c_str());
}

TEST(FileTest, AppendKeepsWhatWasThere) {
  const std::string path = TempPath("append");
  ::unlink(path.c_str());
  for (const char* line : {"one\n", "two\n"}) {
    auto file = WritableFile::OpenForAppend(path, 0600);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE((*file)->Append(line).ok());
    ASSERT_TRUE((*file)->Sync().ok());
    ASSERT_TRUE((*file)->Close().ok());
  }
  EXPECT_EQ(*ReadFile(path), "one\ntwo\n");
  EXPECT_EQ(ModeOf(path) & 0777, 0600u);
  ::unlink(path.c_str());
}

TEST(FileTest, CapturesWhatALibraryWritesToAPath) {
  Result<std::string> bytes = CaptureFileWrittenByPath([](const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) return IoError("cannot open " + path);
    std::fputs("index bytes", file);
    std::fclose(file);
    return Status::Ok();
  });
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, "index bytes");
  EXPECT_EQ(CaptureFileWrittenByPath([](const std::string&) { return IoError("full"); })
                .status()
                .message(),
            "full");
}

TEST(FileTest, CreateRenameListRemove) {
  const std::string dir = TempPath("dir");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  const std::string a = JoinPath(dir, "a"), b = JoinPath(dir, "b");
  EXPECT_TRUE(*CreateFileIfMissing(a, 0600));
  EXPECT_FALSE(*CreateFileIfMissing(a, 0600));
  EXPECT_EQ(ModeOf(a) & 0777, 0600u);
  EXPECT_EQ(*ListDirectory(dir), std::vector<std::string>{"a"});
  ASSERT_TRUE(RenameFile(a, b).ok());
  EXPECT_EQ(*ListDirectory(dir), std::vector<std::string>{"b"});
  EXPECT_EQ(RenameFile(a, b).code(), StatusCode::kNotFound);
  ASSERT_TRUE(RemoveFile(b).ok());
  EXPECT_EQ(RemoveFile(b).code(), StatusCode::kNotFound);
  EXPECT_TRUE(ListDirectory(dir)->empty());
  EXPECT_EQ(ListDirectory(JoinPath(dir, "none")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(CreateFileIfMissing(JoinPath(dir, "none/x"), 0600).ok());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace mg
