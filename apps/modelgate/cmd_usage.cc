// modelgate usage: metered requests, tokens, errors and cost per key, from
// the hourly roll-ups of the usage ledger; one row per key, or per key and
// hour or day. Table, JSON or CSV.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/control_plane_cli.h"
#include "apps/modelgate/output.h"
#include "store/limits.h"

namespace mg::cli {
namespace {

struct UsageArgs {
  std::string db, key, since, by = "total", format = "table", output;
};

// RFC 4180: quote every text field, double inner quotes.
std::string CsvField(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

void RunUsage(const UsageArgs& args) {
  store::UsageQuery query;
  query.key_name = args.key;
  if (!args.since.empty()) query.since_ms = ParseDateOrThrow("--since", args.since);
  query.bucket_ms = args.by == "hour" ? store::kHourMs : args.by == "day" ? store::kDayMs : 0;
  auto cp = OpenControlPlane(args.db);
  const auto rows = ValueOrThrow(cp->Usage(query));
  Output out(args.output);
  char line[512];
  if (args.format == "json") {
    nlohmann::json json = nlohmann::json::array();
    for (const store::UsageRow& row : rows) {
      json.push_back({{"key", row.key_name},
                      {"key_id", row.key_id},
                      {"period_start", store::FormatUtc(row.period_ms)},
                      {"requests", row.requests},
                      {"errors", row.errors},
                      {"tokens", row.tokens},
                      {"cost_usd", static_cast<double>(row.micro_usd) / 1e6},
                      {"mean_latency_ms", row.mean_latency_ms}});
    }
    out.Write(json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  } else if (args.format == "csv") {
    out.Write("key,key_id,period_start,requests,errors,tokens,cost_usd,mean_latency_ms\n");
    for (const store::UsageRow& row : rows) {
      std::snprintf(line, sizeof(line), ",%s,%lld,%lld,%lld,%s,%.3f\n",
                    store::FormatUtc(row.period_ms).c_str(), static_cast<long long>(row.requests),
                    static_cast<long long>(row.errors), static_cast<long long>(row.tokens),
                    FormatUsd(row.micro_usd).c_str(), row.mean_latency_ms);
      out.Write(CsvField(row.key_name) + "," + CsvField(row.key_id) + line);
    }
  } else {
    std::snprintf(line, sizeof(line), "%-24s %-20s %10s %8s %12s %14s %10s\n", "KEY",
                  "PERIOD_START", "REQUESTS", "ERRORS", "TOKENS", "COST_USD", "MEAN_MS");
    out.Write(line);
    for (const store::UsageRow& row : rows) {
      std::snprintf(line, sizeof(line), "%-24s %-20s %10lld %8lld %12lld %14s %10.2f\n",
                    row.key_name.c_str(), store::FormatUtc(row.period_ms).c_str(),
                    static_cast<long long>(row.requests), static_cast<long long>(row.errors),
                    static_cast<long long>(row.tokens), FormatUsd(row.micro_usd).c_str(),
                    row.mean_latency_ms);
      out.Write(line);
    }
  }
  out.Commit();
}

}  // namespace

void RegisterUsage(CLI::App& app) {
  auto args = std::make_shared<UsageArgs>();
  CLI::App* cmd = app.add_subcommand(
      "usage",
      "Report metered usage and cost per key (from the hourly roll-ups of the usage\n"
      "ledger): requests, errors, tokens, cost in US dollars and mean latency.");
  AddDbOption(cmd, args->db);
  cmd->add_option("--key", args->key, "Only this key (by name)");
  cmd->add_option("--since", args->since,
                  "From this UTC date or time on (YYYY-MM-DD[THH:MM:SSZ]; whole hours)");
  cmd->add_option("--by", args->by, "total, hour or day")
      ->capture_default_str()
      ->check(CLI::IsMember({"total", "hour", "day"}));
  cmd->add_option("--format", args->format, "table, json or csv")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "csv"}));
  cmd->add_option("--output", args->output, "Write the report here (default: standard output)");
  cmd->callback([args] { RunUsage(*args); });
}

}  // namespace mg::cli
