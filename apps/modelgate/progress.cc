#include "apps/modelgate/progress.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace mg::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr auto kRedrawInterval = std::chrono::milliseconds(200);

std::string Amount(double value, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

}  // namespace

ProgressMode ParseProgressMode(std::string_view mode) {
  if (mode == "on") return ProgressMode::kOn;
  if (mode == "off") return ProgressMode::kOff;
  return ProgressMode::kAuto;
}

std::string FormatDuration(double seconds) {
  const long s = static_cast<long>(std::max(0.0, seconds) + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ld:%02ld", s / 60, s % 60);
  }
  return buf;
}

std::string ProgressLine(std::string_view label, const ProgressUnit& unit, uint64_t done,
                         uint64_t total, uint64_t done_here, double seconds,
                         std::string_view note) {
  const double rate = seconds > 0 ? static_cast<double>(done_here) / seconds : 0;
  std::string line(label);
  if (total == 0) {
    line.push_back(' ');
    line.append(Amount(done / unit.divisor, unit.amount_decimals));
  } else {
    const uint64_t shown = std::min(done, total);
    const int percent = static_cast<int>(100.0 * static_cast<double>(shown) / total);
    const int filled = percent * kBarWidth / 100;
    char percent_text[8];
    std::snprintf(percent_text, sizeof(percent_text), "%3d%%", percent);
    line.append(" [");
    line.append(filled, '#');
    line.append(kBarWidth - filled, '.');
    line.append("] ");
    line.append(percent_text);
    line.append("  ");
    line.append(Amount(shown / unit.divisor, unit.amount_decimals));
    line.push_back('/');
    line.append(Amount(total / unit.divisor, unit.amount_decimals));
  }
  line.push_back(' ');
  line.append(unit.name);
  line.append("  ");
  line.append(Amount(rate / unit.divisor, unit.rate_decimals));
  line.push_back(' ');
  line.append(unit.name);
  line.append("/s");
  if (total > 0 && rate > 0) {
    line.append("  ETA ");
    line.append(FormatDuration(static_cast<double>(total - std::min(done, total)) / rate));
  }
  if (!note.empty()) {
    line += "  ";
    line += note;
  }
  return line;
}

ProgressBar::ProgressBar(std::string label, ProgressUnit unit, uint64_t total, ProgressMode mode,
                         uint64_t start)
    : ProgressBar(std::move(label), unit, total, mode, start, stderr, ::isatty(2) == 1,
                  [] { return std::chrono::steady_clock::now(); }) {}

ProgressBar::ProgressBar(std::string label, ProgressUnit unit, uint64_t total, ProgressMode mode,
                         uint64_t start, std::FILE* out, bool terminal, Clock clock)
    : label_(std::move(label)),
      unit_(unit),
      total_(total),
      start_(start),
      out_(out),
      terminal_(terminal),
      enabled_(mode == ProgressMode::kOn || (mode == ProgressMode::kAuto && terminal)),
      clock_(std::move(clock)),
      started_(clock_()) {}

double ProgressBar::seconds() const {
  return std::chrono::duration<double>(clock_() - started_).count();
}

void ProgressBar::Update(uint64_t done, std::string_view note) {
  if (!enabled_) return;
  const bool at_end = total_ > 0 && done >= total_;
  if (terminal_) {
    const auto now = clock_();
    if (drawn_ && !at_end && now - last_drawn_ < kRedrawInterval) return;
    last_drawn_ = now;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    const std::string line =
        ProgressLine(label_, unit_, done, total_, done > start_ ? done - start_ : 0, elapsed, note);
    std::fprintf(out_, "\r%s\033[K", line.c_str());
    std::fflush(out_);
    return;
  }
  if (total_ == 0 || at_end) return;
  const int percent = static_cast<int>(100.0 * static_cast<double>(done) / total_);
  if (percent / 25 <= last_quarter_) return;
  last_quarter_ = percent / 25;
  std::fprintf(out_, "%s: %d%% (%s/%s)\n", label_.c_str(), percent,
               Amount(done / unit_.divisor, unit_.amount_decimals).c_str(),
               Amount(total_ / unit_.divisor, unit_.amount_decimals).c_str());
}

void ProgressBar::Message(std::string_view line) {
  if (!enabled_) return;
  if (terminal_ && drawn_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%.*s\n", static_cast<int>(line.size()), line.data());
  std::fflush(out_);
  drawn_ = false;
}

void ProgressBar::Finish() {
  if (enabled_ && terminal_ && drawn_) std::fputs("\r\033[K", out_);
  drawn_ = false;
  std::fflush(out_);
}

}  // namespace mg::cli
