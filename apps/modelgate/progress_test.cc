#include "apps/modelgate/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace mg::cli {
namespace {

using Time = std::chrono::steady_clock::time_point;

// A clock the test moves by hand, and the text a bar wrote.
struct Harness {
  Time now{};
  std::FILE* file = std::tmpfile();
  ~Harness() { std::fclose(file); }
  ProgressBar::Clock clock() {
    return [this] { return now; };
  }
  void Advance(double seconds) {
    now += std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(seconds));
  }
  std::string Text() {
    std::fflush(file);
    std::string text;
    std::rewind(file);
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), file)) > 0) text.append(buf, n);
    return text;
  }
};

TEST(ProgressLineTest, KnownTotal) {
  // 900 of 3000 texts in 2 s: 450 texts/s, 2100 left: ETA 4.67 s.
  EXPECT_EQ(ProgressLine("classify", kTexts, 900, 3000, 900, 2.0, ""),
            "classify [#########.....................]  30%  900/3000 texts  450 texts/s  "
            "ETA 0:05");
}

TEST(ProgressLineTest, MegabytesAndNote) {
  EXPECT_EQ(ProgressLine("redact", kMegabytes, 1500000, 2000000, 1500000, 1.0, "x"),
            "redact [######################........]  75%  1.5/2.0 MB  1.5 MB/s  ETA 0:00  x");
}

TEST(ProgressLineTest, UnknownTotalShowsAmountAndRate) {
  EXPECT_EQ(ProgressLine("redact", kMegabytes, 3000000, 0, 3000000, 2.0, ""),
            "redact 3.0 MB  1.5 MB/s");
}

TEST(ProgressLineTest, RateCountsOnlyWorkDoneSinceTheStart) {
  // A run resumed at step 600 of 1000 that did 100 more steps in 10 s:
  // 10 steps/s, 300 steps left, ETA 30 s; the bar shows the whole run.
  EXPECT_EQ(ProgressLine("train", kSteps, 700, 1000, 100, 10.0, "epoch 3/4"),
            "train [#####################.........]  70%  700/1000 steps  10.0 steps/s  "
            "ETA 0:30  epoch 3/4");
}

TEST(ProgressLineTest, NoTimeYetHasNoEta) {
  EXPECT_EQ(ProgressLine("items", kItems, 0, 10, 0, 0.0, ""),
            "items [..............................]   0%  0/10 items  0 items/s");
}

TEST(FormatDurationTest, MinutesThenHours) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(59.4), "0:59");
  EXPECT_EQ(FormatDuration(61), "1:01");
  EXPECT_EQ(FormatDuration(3599.6), "1:00:00");
  EXPECT_EQ(FormatDuration(3 * 3600 + 5 * 60 + 7), "3:05:07");
  EXPECT_EQ(FormatDuration(-3), "0:00");
}

TEST(ProgressBarTest, TerminalRedrawsAtMostEvery200MsAndAlwaysAtTheEnd) {
  Harness h;
  ProgressBar bar("items", kItems, 4, ProgressMode::kAuto, 0, h.file, true, h.clock());
  EXPECT_TRUE(bar.enabled());
  h.Advance(1);
  bar.Update(1);  // drawn: the first update
  h.Advance(0.1);
  bar.Update(2);  // too soon
  h.Advance(0.1);
  bar.Update(3);  // 200 ms after the first
  h.Advance(0.01);
  bar.Update(4);  // the end is always drawn
  bar.Finish();
  EXPECT_EQ(h.Text(),
            "\ritems [#######.......................]  25%  1/4 items  1 items/s  ETA 0:03\033[K"
            "\ritems [######################........]  75%  3/4 items  2 items/s  ETA 0:00\033[K"
            "\ritems [##############################] 100%  4/4 items  3 items/s  ETA 0:00\033[K"
            "\r\033[K");
}

TEST(ProgressBarTest, MessageGoesAboveTheBar) {
  Harness h;
  ProgressBar bar("train", kSteps, 10, ProgressMode::kAuto, 0, h.file, true, h.clock());
  h.Advance(1);
  bar.Update(5, "epoch 1/2");
  bar.Message("{\"epoch\":1}");
  h.Advance(0.01);
  bar.Update(6, "epoch 2/2");  // drawn again at once after a message
  EXPECT_EQ(h.Text(),
            "\rtrain [###############...............]  50%  5/10 steps  5.0 steps/s  ETA 0:01  "
            "epoch 1/2\033[K"
            "\r\033[K{\"epoch\":1}\n"
            "\rtrain [##################............]  60%  6/10 steps  5.9 steps/s  ETA 0:01  "
            "epoch 2/2\033[K");
}

TEST(ProgressBarTest, SilentOffATerminalUnlessSwitchedOn) {
  Harness h;
  ProgressBar bar("redact", kMegabytes, 100, ProgressMode::kAuto, 0, h.file, false, h.clock());
  EXPECT_FALSE(bar.enabled());
  bar.Update(50);
  bar.Message("hidden");
  bar.Update(100);
  bar.Finish();
  EXPECT_EQ(h.Text(), "");
}

TEST(ProgressBarTest, OffIsSilentOnATerminal) {
  Harness h;
  ProgressBar bar("classify", kTexts, 100, ProgressMode::kOff, 0, h.file, true, h.clock());
  bar.Update(50);
  bar.Finish();
  EXPECT_FALSE(bar.enabled());
  EXPECT_EQ(h.Text(), "");
}

TEST(ProgressBarTest, OnOffATerminalWritesALinePerQuarter) {
  Harness h;
  ProgressBar bar("classify", kTexts, 3000, ProgressMode::kOn, 0, h.file, false, h.clock());
  for (uint64_t done = 256; done <= 3000; done += 256) bar.Update(done);
  bar.Update(3000);
  bar.Finish();
  EXPECT_EQ(h.Text(),
            "classify: 25% (768/3000)\n"
            "classify: 51% (1536/3000)\n"
            "classify: 76% (2304/3000)\n");
}

TEST(ProgressBarTest, ParsesModes) {
  EXPECT_EQ(ParseProgressMode("on"), ProgressMode::kOn);
  EXPECT_EQ(ParseProgressMode("off"), ProgressMode::kOff);
  EXPECT_EQ(ParseProgressMode("auto"), ProgressMode::kAuto);
}

}  // namespace
}  // namespace mg::cli
