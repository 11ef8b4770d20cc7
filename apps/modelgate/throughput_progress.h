// A progress bar and a throughput summary on stderr for batch commands
// (`modelgate classify`): on a terminal one line redrawn in place
// ("classify [#####     ]  42%  1200/2857  850 texts/s  ETA 2s"), elsewhere a
// line at every quarter, then "classified N texts (T tokens) in S s: X texts/s,
// Y tokens/s". Not thread-safe: one per command, driven by its loop.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace mg::cli {

class ThroughputProgress {
 public:
  // mode: "auto" (only when stderr is a terminal), "on" or "off".
  // verb and past: "classify", "classified".
  ThroughputProgress(std::string verb, std::string past, size_t total, const std::string& mode)
      : verb_(std::move(verb)),
        past_(std::move(past)),
        total_(total),
        tty_(::isatty(2) == 1),
        enabled_(mode == "on" || (mode == "auto" && tty_)),
        start_(std::chrono::steady_clock::now()) {}

  void Update(size_t done, int64_t tokens) {
    done_ = done;
    tokens_ = tokens;
    if (!enabled_ || total_ == 0) return;
    const auto now = std::chrono::steady_clock::now();
    const int percent = static_cast<int>(100.0 * static_cast<double>(done) / total_);
    if (tty_) {
      if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
      last_ = now;
      const double rate = static_cast<double>(done) / Seconds(now);
      const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
      std::fprintf(stderr, "\r%s [%-30s] %3d%%  %zu/%zu  %.0f texts/s  ETA %.0fs ", verb_.c_str(),
                   std::string(static_cast<size_t>(percent * 30 / 100), '#').c_str(), percent, done,
                   total_, rate, eta);
    } else if (percent / 25 > last_quarter_ && done < total_) {
      last_quarter_ = percent / 25;
      std::fprintf(stderr, "%s: %d%% (%zu/%zu)\n", verb_.c_str(), percent, done, total_);
    }
  }

  void Finish() {
    if (!enabled_) return;
    const double seconds = Seconds(std::chrono::steady_clock::now());
    if (tty_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%s %zu texts (%lld tokens) in %.2f s: %.0f texts/s, %.0f tokens/s\n",
                 past_.c_str(), done_, static_cast<long long>(tokens_), seconds,
                 static_cast<double>(done_) / seconds, static_cast<double>(tokens_) / seconds);
  }

 private:
  double Seconds(std::chrono::steady_clock::time_point now) const {
    const double s = std::chrono::duration<double>(now - start_).count();
    return s > 1e-9 ? s : 1e-9;
  }

  std::string verb_;
  std::string past_;
  size_t total_;
  bool tty_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
  int last_quarter_ = 0;
  size_t done_ = 0;
  int64_t tokens_ = 0;
};

}  // namespace mg::cli
