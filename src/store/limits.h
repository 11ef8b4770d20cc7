// The windows limits are counted in, all in UTC Unix milliseconds: fixed
// minutes for rpm/tpm, calendar days or months for quotas and budgets.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mg::store {

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 86'400'000;

int64_t MinuteStart(int64_t now_ms);
int64_t HourStart(int64_t now_ms);
// Start and end of the quota period ("day" or "month") holding `now_ms`.
int64_t PeriodStart(std::string_view period, int64_t now_ms);
int64_t PeriodEnd(std::string_view period, int64_t now_ms);

// Cost in micro-USD of `tokens` at `micro_usd_per_1k`, rounded up so that no
// request is free when a price is set.
int64_t CostMicroUsd(int64_t tokens, int64_t micro_usd_per_1k);

// Seconds from `now_ms` until `until_ms`, rounded up, at least 1.
int RetryAfterSeconds(int64_t now_ms, int64_t until_ms);

// "2026-11-28T15:04:05Z" and back ("YYYY-MM-DD" alone means midnight UTC).
std::string FormatUtc(int64_t ms);
bool ParseUtc(std::string_view text, int64_t* ms);

}  // namespace mg::store
