// modelgate keys: create, list and revoke API keys, and set the price per
// 1,000 tokens of a route. The secret of a new key is printed once on
// standard output (nothing else is) and stored only as a hash. Every change
// is appended to the audit trail.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/control_plane_cli.h"
#include "store/limits.h"

namespace mg::cli {
namespace {

struct KeysArgs {
  std::string db, name, scopes = "classify,embed,recommend", budget, expires, audit_key;
  std::string audit_anchor;
  std::string output_policy = "full";
  std::string quota_period = "month", format = "table", route, usd_per_1k;
  int64_t rpm = 0, tpm = 0, quota_tokens = 0;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::string Joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out.append(out.empty() ? "" : ",").append(item);
  return out;
}

// Opens the control plane for a command that appends to the audit trail.
std::unique_ptr<store::ControlPlane> OpenKeysControlPlane(const KeysArgs& args) {
  auto cp = OpenControlPlane(args.db, args.audit_key, args.audit_anchor);
  if (const auto warning = MissingAuditKeyWarning(*cp, args.audit_key)) {
    std::fprintf(stderr, "modelgate: warning: %s\n", warning->c_str());
  }
  return cp;
}

std::string Limit(int64_t value) { return value == 0 ? "-" : std::to_string(value); }

void RunCreate(const KeysArgs& args) {
  store::KeySpec spec;
  spec.name = args.name;
  spec.scopes = SplitList(args.scopes);
  spec.rpm = args.rpm;
  spec.tpm = args.tpm;
  spec.quota_tokens = args.quota_tokens;
  spec.quota_period = args.quota_period;
  spec.output_policy = args.output_policy;
  if (!args.budget.empty()) spec.budget_micro_usd = ParseUsdOrThrow("--budget", args.budget);
  if (!args.expires.empty()) spec.expires_ms = ParseDateOrThrow("--expires", args.expires);
  ThrowIfError(store::ValidateKeySpec(spec));
  auto cp = OpenKeysControlPlane(args);
  const store::CreatedKey created = ValueOrThrow(cp->CreateKey(spec, CliActor()));
  std::fprintf(stderr,
               "created key '%s' (%s, scopes %s, output %s); the secret below is shown only "
               "once\n",
               created.info.spec.name.c_str(), created.info.id.c_str(),
               Joined(created.info.spec.scopes).c_str(), created.info.spec.output_policy.c_str());
  std::printf("%s\n", created.secret.c_str());
}

void RunList(const KeysArgs& args) {
  auto cp = OpenControlPlane(args.db);
  const auto keys = ValueOrThrow(cp->ListKeys());
  if (args.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const store::KeyInfo& key : keys) {
      out.push_back({{"id", key.id},
                     {"name", key.spec.name},
                     {"scopes", key.spec.scopes},
                     {"rpm", key.spec.rpm},
                     {"tpm", key.spec.tpm},
                     {"quota_tokens", key.spec.quota_tokens},
                     {"quota_period", key.spec.quota_period},
                     {"budget_usd", static_cast<double>(key.spec.budget_micro_usd) / 1e6},
                     {"expires", key.spec.expires_ms ? store::FormatUtc(key.spec.expires_ms) : ""},
                     {"created", store::FormatUtc(key.created_ms)},
                     {"revoked", key.revoked_ms ? store::FormatUtc(key.revoked_ms) : ""},
                     {"output_policy", key.spec.output_policy}});
    }
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%-20s %-20s %-28s %8s %10s %12s %12s %-20s %-8s %s\n", "NAME", "ID", "SCOPES", "RPM",
              "TPM", "QUOTA", "BUDGET_USD", "EXPIRES", "STATUS", "OUTPUT");
  for (const store::KeyInfo& key : keys) {
    std::printf("%-20s %-20s %-28s %8s %10s %12s %12s %-20s %-8s %s\n", key.spec.name.c_str(),
                key.id.c_str(), Joined(key.spec.scopes).c_str(), Limit(key.spec.rpm).c_str(),
                Limit(key.spec.tpm).c_str(),
                key.spec.quota_tokens
                    ? (std::to_string(key.spec.quota_tokens) + "/" + key.spec.quota_period).c_str()
                    : "-",
                key.spec.budget_micro_usd ? FormatUsd(key.spec.budget_micro_usd).c_str() : "-",
                key.spec.expires_ms ? store::FormatUtc(key.spec.expires_ms).c_str() : "never",
                key.revoked_ms ? "revoked" : "active", key.spec.output_policy.c_str());
  }
}

void RunRevoke(const KeysArgs& args) {
  auto cp = OpenKeysControlPlane(args);
  ThrowIfError(cp->RevokeKey(args.name, CliActor()));
  std::printf("revoked key '%s'\n", args.name.c_str());
}

void RunPrice(const KeysArgs& args) {
  const int64_t micro = ParseUsdOrThrow("--usd-per-1k", args.usd_per_1k);
  auto cp = OpenKeysControlPlane(args);
  ThrowIfError(cp->SetRoutePrice(args.route, micro, CliActor()));
  std::printf("price of %s: %s USD per 1,000 tokens\n", args.route.c_str(),
              FormatUsd(micro).c_str());
}

void AddAuditKey(CLI::App* cmd, KeysArgs& args) {
  AddAuditSigningOptions(cmd, args.audit_key, args.audit_anchor);
}

}  // namespace

void RegisterKeys(CLI::App& app) {
  auto args = std::make_shared<KeysArgs>();
  CLI::App* keys = app.add_subcommand(
      "keys",
      "Manage API keys: create (the secret is printed once and stored only as a hash),\n"
      "list, revoke, and set route prices for budgets. Every change is audited.");
  keys->require_subcommand(1);

  CLI::App* create = keys->add_subcommand("create", "Create a key; prints its secret once");
  AddDbOption(create, args->db);
  create->add_option("--name", args->name, "Unique name of the key (1-128 bytes)")->required();
  create->add_option("--scopes", args->scopes, "Comma-separated: classify, embed, recommend, admin")
      ->capture_default_str();
  create->add_option("--rpm", args->rpm, "Requests per minute (0: unlimited)");
  create->add_option("--tpm", args->tpm, "Tokens per minute (0: unlimited)");
  create->add_option("--quota-tokens", args->quota_tokens,
                     "Tokens per quota period (0: unlimited)");
  create->add_option("--quota-period", args->quota_period, "day or month (UTC calendar)")
      ->capture_default_str()
      ->check(CLI::IsMember({"day", "month"}));
  create->add_option("--budget", args->budget,
                     "Spending limit in US dollars per quota period, at the route prices");
  create->add_option("--expires", args->expires,
                     "Expiry, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
  create
      ->add_option("--output-policy", args->output_policy,
                   "What replies show: full, or comma-separated label, topk:K, no-scores,\n"
                   "scores:N (decimals), embed-dims:D, embed-decimals:N, no-embed")
      ->capture_default_str();
  AddAuditKey(create, *args);
  create->callback([args] { RunCreate(*args); });

  CLI::App* list = keys->add_subcommand("list", "List keys and their limits (never secrets)");
  AddDbOption(list, args->db);
  list->add_option("--format", args->format, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  list->callback([args] { RunList(*args); });

  CLI::App* revoke = keys->add_subcommand(
      "revoke", "Revoke a key; every server refuses it from its next request on");
  AddDbOption(revoke, args->db);
  revoke->add_option("--name", args->name, "Name of the key")->required();
  AddAuditKey(revoke, *args);
  revoke->callback([args] { RunRevoke(*args); });

  CLI::App* price = keys->add_subcommand(
      "price", "Set the price per 1,000 tokens of a route (budgets are charged at it)");
  AddDbOption(price, args->db);
  price->add_option("--route", args->route, "Route, e.g. /v1/embeddings")->required();
  price->add_option("--usd-per-1k", args->usd_per_1k, "US dollars per 1,000 tokens")->required();
  AddAuditKey(price, *args);
  price->callback([args] { RunPrice(*args); });
}

}  // namespace mg::cli
