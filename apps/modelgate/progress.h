// ProgressBar: the one progress display of the CLI's long-running commands
// (classify, items add, redact, train). On a terminal it redraws one line on
// stderr, at most every 200 ms and always at the end:
//   "classify [#########.....................]  31%  900/2857 texts  850 texts/s  ETA 0:02"
// followed by a caller's note (train: "epoch 2/3  loss 0.1234"). With no
// known total it shows the amount done and the rate. Off a terminal it is
// silent, unless switched on: then a line at each quarter
// ("classify: 25% (768/3000)"). Finish() clears the line.
//
// Not thread-safe: one per command, driven by its loop. The clock and the
// stream are passed in for tests; by default the steady clock and stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace mg::cli {

// How amounts are counted and shown: texts and items as whole numbers, bytes
// as MB (divisor 1e6, one decimal), training steps whole with a rate to one
// decimal.
struct ProgressUnit {
  const char* name = "";
  double divisor = 1;
  int amount_decimals = 0;
  int rate_decimals = 0;
};
inline constexpr ProgressUnit kTexts{"texts", 1, 0, 0};
inline constexpr ProgressUnit kItems{"items", 1, 0, 0};
inline constexpr ProgressUnit kMegabytes{"MB", 1e6, 1, 1};
inline constexpr ProgressUnit kSteps{"steps", 1, 0, 1};

// "auto": only when stderr is a terminal; "on": also elsewhere (quarter
// lines); "off": never.
enum class ProgressMode { kAuto, kOn, kOff };

// Parses "auto", "on" or "off" (anything else: kAuto).
ProgressMode ParseProgressMode(std::string_view mode);

// "M:SS", or "H:MM:SS" from an hour on.
std::string FormatDuration(double seconds);

// The line drawn on a terminal (without the leading "\r"): label, bar,
// percentage, amount, rate and ETA, then `note`. total 0: unknown total.
// `done_here` is what was done since the bar started (the rate's numerator;
// it differs from `done` when a run resumes part-way).
std::string ProgressLine(std::string_view label, const ProgressUnit& unit, uint64_t done,
                         uint64_t total, uint64_t done_here, double seconds, std::string_view note);

class ProgressBar {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `start`: the amount already done when the bar starts (a resumed run).
  ProgressBar(std::string label, ProgressUnit unit, uint64_t total,
              ProgressMode mode = ProgressMode::kAuto, uint64_t start = 0);
  // For tests: whether `out` counts as a terminal, and the clock.
  ProgressBar(std::string label, ProgressUnit unit, uint64_t total, ProgressMode mode,
              uint64_t start, std::FILE* out, bool terminal, Clock clock);
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Records `done` and redraws when due.
  void Update(uint64_t done, std::string_view note = {});
  // Writes `line` on a line of its own (above the bar on a terminal; the
  // bar comes back with the next update). Only when the bar is shown.
  void Message(std::string_view line);
  // Clears the bar's line on a terminal.
  void Finish();

  bool enabled() const { return enabled_; }
  bool terminal() const { return terminal_; }
  // Seconds since the bar started.
  double seconds() const;

 private:
  std::string label_;
  ProgressUnit unit_;
  uint64_t total_;
  uint64_t start_;
  std::FILE* out_;
  bool terminal_;
  bool enabled_;
  Clock clock_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_drawn_{};
  bool drawn_ = false;
  int last_quarter_ = 0;
};

}  // namespace mg::cli
