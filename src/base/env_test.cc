// The same contract checked on the real Env (in a temporary folder) and on
// FakeEnv, so that a test passing on the fake means the same on disk.
#include "base/env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/fake_env.h"
#include "base/file.h"

namespace mg {
namespace {

using namespace std::chrono_literals;

struct EnvCase {
  const char* name;
  bool fake;
};

class EnvContractTest : public testing::TestWithParam<EnvCase> {
 protected:
  void SetUp() override {
    if (GetParam().fake) {
      env_ = &fake_;
      dir_ = "/fake";
    } else {
      env_ = Env::Default();
      dir_ = JoinPath(testing::TempDir(), "env_test." + std::to_string(::getpid()));
      ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0) << dir_;
    }
  }
  void TearDown() override {
    if (GetParam().fake) return;
    Result<std::vector<std::string>> names = ListDirectory(dir_);
    if (names.ok()) {
      for (const std::string& name : *names) (void)RemoveFile(JoinPath(dir_, name));
    }
    ::rmdir(dir_.c_str());
  }
  std::string Path(const std::string& name) const { return JoinPath(dir_, name); }

  FakeEnv fake_;
  Env* env_ = nullptr;
  std::string dir_;
};

TEST_P(EnvContractTest, FilesRoundTrip) {
  EXPECT_EQ(env_->ReadFile(Path("a")).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(env_->FileExists(Path("a")));
  ASSERT_TRUE(env_->WriteFileAtomic(Path("a"), std::string("x\0y", 3), 0600).ok());
  EXPECT_TRUE(env_->FileExists(Path("a")));
  EXPECT_EQ(*env_->ReadFile(Path("a")), std::string("x\0y", 3));
  ASSERT_TRUE(env_->WriteFileAtomic(Path("a"), "replaced").ok());
  EXPECT_EQ(*env_->ReadFile(Path("a")), "replaced");

  for (const char* line : {"1\n", "2\n"}) {
    auto file = env_->OpenForAppend(Path("log"));
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ASSERT_TRUE((*file)->AppendAndSync(line).ok());
    ASSERT_TRUE((*file)->AppendAndSync("-").ok());
  }
  EXPECT_EQ(*env_->ReadFile(Path("log")), "1\n-2\n-");

  std::vector<std::string> names = *env_->ListDirectory(dir_);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "log"}));

  ASSERT_TRUE(env_->RenameFile(Path("log"), Path("a")).ok());
  EXPECT_EQ(*env_->ReadFile(Path("a")), "1\n-2\n-");
  EXPECT_FALSE(env_->FileExists(Path("log")));
  EXPECT_EQ(env_->RenameFile(Path("log"), Path("b")).code(), StatusCode::kNotFound);
  ASSERT_TRUE(env_->RemoveFile(Path("a")).ok());
  EXPECT_EQ(env_->RemoveFile(Path("a")).code(), StatusCode::kNotFound);
  EXPECT_FALSE(env_->FileExists(Path("a")));
}

TEST_P(EnvContractTest, RandomBytesDiffer) {
  unsigned char first[32] = {}, second[32] = {};
  env_->RandomBytes(first, sizeof(first));
  env_->RandomBytes(second, sizeof(second));
  EXPECT_NE(std::string(first, first + 32), std::string(second, second + 32));
  EXPECT_NE(std::string(first, first + 32), std::string(32, '\0'));
}

TEST_P(EnvContractTest, ClocksAreConsistent) {
  const SysMillis before = env_->Now();
  const std::chrono::sys_seconds seconds = SecondsClock(env_)();
  const int64_t ms = MillisecondsClock(env_)();
  const SysMillis after = env_->Now();
  EXPECT_LE(std::chrono::floor<std::chrono::seconds>(before), seconds);
  EXPECT_LE(seconds, after);
  EXPECT_LE(before.time_since_epoch().count(), ms);
  EXPECT_LE(ms, after.time_since_epoch().count());
  const auto steady = env_->SteadyNow();
  EXPECT_LE(steady, env_->SteadyNow());
}

INSTANTIATE_TEST_SUITE_P(Envs, EnvContractTest,
                         testing::Values(EnvCase{"posix", false}, EnvCase{"fake", true}),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(EnvTest, DefaultClockIsTheSystemClock) {
  const auto before =
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const SysMillis now = Env::Default()->Now();
  const auto after = std::chrono::system_clock::now();
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

TEST(EnvTest, FakeClockMovesOnlyWhenTold) {
  FakeEnv env(SysMillis(1000ms));
  EXPECT_EQ(env.NowMs(), 1000);
  EXPECT_EQ(env.NowMs(), 1000);
  const auto steady = env.SteadyNow();
  env.Advance(1500ms);
  EXPECT_EQ(env.NowMs(), 2500);
  EXPECT_EQ(env.SteadyNow() - steady, 1500ms);
  EXPECT_EQ(SecondsClock(&env)().time_since_epoch().count(), 2);
  EXPECT_EQ(MillisecondsClock(&env)(), 2500);
  env.SetNow(SysMillis(500ms));  // the wall clock may step back; the steady one does not
  EXPECT_EQ(env.NowMs(), 500);
  EXPECT_EQ(env.SteadyNow() - steady, 1500ms);
  EXPECT_EQ(FakeEnv().Now(), std::chrono::sys_days(std::chrono::year(2026) / 1 / 1));
}

TEST(EnvTest, FakeWritesCanFail) {
  FakeEnv env;
  ASSERT_TRUE(env.WriteFileAtomic("/k", "old", 0600).ok());
  EXPECT_EQ(env.ModeOf("/k"), 0600u);
  auto log = env.OpenForAppend("/log", 0644);
  ASSERT_TRUE(log.ok());
  env.FailWrites(true);
  EXPECT_EQ(env.WriteFileAtomic("/k", "new", 0600).code(), StatusCode::kIoError);
  EXPECT_EQ((*log)->AppendAndSync("x").code(), StatusCode::kIoError);
  EXPECT_EQ(*env.ReadFile("/k"), "old");
  EXPECT_EQ(*env.ReadFile("/log"), "");
}

}  // namespace
}  // namespace mg
