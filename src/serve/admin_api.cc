#include "serve/admin_api.h"

#include "base/output_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "serve/api_error.h"
#include "serve/routes.h"
#include "store/audit_anchor.h"
#include "store/limits.h"

namespace mg::serve {
namespace {

using nlohmann::json;

HttpResponse Error(int status, std::string type, std::string message, int retry_after_s = 0) {
  HttpResponse response;
  response.status = status;
  const ApiError error{status, std::move(type), std::move(message), retry_after_s};
  response.body = ErrorBody(ApiStyle::kTei, error);
  response.headers = ErrorHeaders(error);
  return response;
}

HttpResponse Json(int status, const json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

HttpResponse FromStatus(const Status& status) {
  const std::string& message = status.message();
  if (status.code() == StatusCode::kNotFound) return Error(404, "not_found", message);
  if (message.find("already exists") != std::string::npos) return Error(409, "conflict", message);
  if (status.code() == StatusCode::kInvalidArgument) return Error(422, "validation", message);
  return Error(503, "service_unavailable", "the control plane is unavailable: " + message);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (!pair.empty()) {
      out[Decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? std::string() : Decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

json OrNull(int64_t value) { return value > 0 ? json(value) : json(nullptr); }
json TimeOrNull(int64_t ms) { return ms > 0 ? json(store::FormatUtc(ms)) : json(nullptr); }
double Usd(int64_t micro_usd) { return static_cast<double>(micro_usd) / 1e6; }

// A non-negative integer field of `body`, 0 when absent or null.
bool IntField(const json& body, const char* name, int64_t* out, std::string* error) {
  if (!body.contains(name) || body[name].is_null()) return true;
  if (!body[name].is_number_integer() || body[name].get<int64_t>() < 0) {
    *error = std::string("`") + name + "` must be a non-negative integer";
    return false;
  }
  *out = body[name].get<int64_t>();
  return true;
}

// The route an admin request is recorded under in the ledger and the audit
// trail: one of the routes, never a raw path a client made up.
std::string_view RouteName(const std::string& path) {
  for (std::string_view route :
       {"/admin/keys", "/admin/keys/revoke", "/admin/usage", "/admin/audit"}) {
    if (path == route) return route;
  }
  return "unknown";
}

}  // namespace

HttpResponse AdminApi::Handle(const HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  store::AdmitRequest admit;
  admit.api_key = request.api_key;
  admit.route = RouteName(request.path);
  admit.scope = ScopeName(Scope::kAdmin);
  admit.request_id = request.request_id;
  admit.tokens = 0;
  const store::Admission admission = control_plane_->Admit(admit);
  if (admission.status != 200) {
    return Error(admission.status, admission.error_type, admission.message,
                 admission.retry_after_s);
  }
  HttpResponse response = Route(request, admission.key_name);
  const double latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const Status recorded =
      control_plane_->Finish(admission, admit, {response.status, 0, latency_ms});
  if (!recorded.ok()) return FromStatus(recorded);
  return response;
}

HttpResponse AdminApi::Route(const HttpRequest& request, const std::string& actor) {
  const std::string& path = request.path;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  if (path == "/admin/keys") {
    if (get) return ListKeys();
    if (post) return CreateKey(request, actor);
    return Error(405, "method_not_allowed", "/admin/keys takes GET or POST");
  }
  if (path == "/admin/keys/revoke") {
    if (post) return RevokeKey(request, actor);
    return Error(405, "method_not_allowed", "/admin/keys/revoke takes POST");
  }
  if (path == "/admin/usage" || path == "/admin/audit") {
    if (!get) return Error(405, "method_not_allowed", path + " takes GET");
    return path == "/admin/usage" ? Usage(request) : Audit(request);
  }
  return Error(404, "not_found", "no route " + path);
}

HttpResponse AdminApi::ListKeys() {
  auto keys = control_plane_->ListKeys();
  if (!keys.ok()) return FromStatus(keys.status());
  const int64_t now = control_plane_->Now();
  // This period's usage of every key (day and month periods).
  std::map<std::string, store::UsageRow> by_day, by_month;
  for (auto [period, target] : {std::pair{"day", &by_day}, std::pair{"month", &by_month}}) {
    store::UsageQuery query;
    query.since_ms = store::PeriodStart(period, now);
    auto rows = control_plane_->Usage(query);
    if (!rows.ok()) return FromStatus(rows.status());
    for (store::UsageRow& row : *rows) (*target)[row.key_id] = std::move(row);
  }
  json list = json::array();
  for (const store::KeyInfo& key : *keys) {
    const auto& usage_map = key.spec.quota_period == "day" ? by_day : by_month;
    const auto found = usage_map.find(key.id);
    const store::UsageRow usage = found == usage_map.end() ? store::UsageRow{} : found->second;
    json limits = {
        {"rpm", OrNull(key.spec.rpm)},
        {"tpm", OrNull(key.spec.tpm)},
        {"quota_tokens", OrNull(key.spec.quota_tokens)},
        {"quota_period", key.spec.quota_period},
        {"budget_usd",
         key.spec.budget_micro_usd > 0 ? json(Usd(key.spec.budget_micro_usd)) : json(nullptr)}};
    list.push_back({{"name", key.spec.name},
                    {"key_id", key.id},
                    {"scopes", key.spec.scopes},
                    {"created_at", store::FormatUtc(key.created_ms)},
                    {"expires_at", TimeOrNull(key.spec.expires_ms)},
                    {"revoked_at", TimeOrNull(key.revoked_ms)},
                    {"limits", std::move(limits)},
                    {"output_policy", key.spec.output_policy},
                    {"usage",
                     {{"requests", usage.requests},
                      {"tokens", usage.tokens},
                      {"cost_usd", Usd(usage.micro_usd)}}}});
  }
  return Json(200, {{"keys", std::move(list)}});
}

HttpResponse AdminApi::CreateKey(const HttpRequest& request, const std::string& actor) {
  const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return Error(422, "validation", "the body must be a JSON object");
  if (!body.contains("name") || !body["name"].is_string()) {
    return Error(422, "validation", "`name` (a string) is required");
  }
  store::KeySpec spec;
  spec.name = body["name"].get<std::string>();
  spec.scopes = {"classify", "embed"};
  if (body.contains("scopes")) {
    if (!body["scopes"].is_array()) return Error(422, "validation", "`scopes` must be a list");
    spec.scopes.clear();
    for (const json& scope : body["scopes"]) {
      if (!scope.is_string()) return Error(422, "validation", "`scopes` must hold strings");
      spec.scopes.push_back(scope.get<std::string>());
    }
  }
  std::string error;
  if (!IntField(body, "rpm", &spec.rpm, &error) || !IntField(body, "tpm", &spec.tpm, &error) ||
      !IntField(body, "quota_tokens", &spec.quota_tokens, &error)) {
    return Error(422, "validation", error);
  }
  if (body.contains("budget_usd") && !body["budget_usd"].is_null()) {
    if (!body["budget_usd"].is_number() || body["budget_usd"].get<double>() < 0 ||
        body["budget_usd"].get<double>() > 1e12) {
      return Error(422, "validation", "`budget_usd` must be a non-negative number");
    }
    spec.budget_micro_usd = std::llround(body["budget_usd"].get<double>() * 1e6);
  }
  if (body.contains("quota_period") && !body["quota_period"].is_null()) {
    if (!body["quota_period"].is_string()) {
      return Error(422, "validation", "`quota_period` must be \"day\" or \"month\"");
    }
    spec.quota_period = body["quota_period"].get<std::string>();
  }
  if (body.contains("expires") && !body["expires"].is_null()) {
    if (!body["expires"].is_string() ||
        !store::ParseUtc(body["expires"].get<std::string>(), &spec.expires_ms)) {
      return Error(422, "validation", "`expires` must be a date (YYYY-MM-DD, UTC)");
    }
  }
  if (body.contains("output_policy") && !body["output_policy"].is_null()) {
    if (!body["output_policy"].is_string()) {
      return Error(422, "validation",
                   "`output_policy` must be a string such as \"label\" or \"scores:2\"");
    }
    spec.output_policy = body["output_policy"].get<std::string>();
    if (auto parsed = ParseOutputPolicy(spec.output_policy); !parsed.ok()) {
      return Error(422, "validation", parsed.status().message());
    }
  }
  auto created = control_plane_->CreateKey(spec, actor);
  if (!created.ok()) return FromStatus(created.status());
  return Json(201, {{"name", created->info.spec.name},
                    {"key_id", created->info.id},
                    {"output_policy", created->info.spec.output_policy},
                    {"key", created->secret}});
}

HttpResponse AdminApi::RevokeKey(const HttpRequest& request, const std::string& actor) {
  const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string()) {
    return Error(422, "validation", "the body must be {\"name\": \"…\"}");
  }
  const std::string name = body["name"].get<std::string>();
  const Status revoked = control_plane_->RevokeKey(name, actor);
  if (!revoked.ok()) return FromStatus(revoked);
  return Json(200, {{"name", name}, {"revoked_at", store::FormatUtc(control_plane_->Now())}});
}

HttpResponse AdminApi::Usage(const HttpRequest& request) {
  const auto params = ParseQuery(request.query);
  store::UsageQuery query;
  query.bucket_ms = store::kHourMs;
  if (auto it = params.find("since"); it != params.end() && !it->second.empty()) {
    if (!store::ParseUtc(it->second, &query.since_ms)) {
      return Error(422, "validation",
                   "`since` must be a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)");
    }
  }
  if (auto it = params.find("key"); it != params.end()) query.key_name = it->second;
  if (auto it = params.find("bucket"); it != params.end()) {
    if (it->second == "day") {
      query.bucket_ms = store::kDayMs;
    } else if (it->second != "hour") {
      return Error(422, "validation", "`bucket` must be hour or day");
    }
  }
  std::string format = "json";
  if (auto it = params.find("format"); it != params.end()) format = it->second;
  if (format != "json" && format != "csv") {
    return Error(422, "validation", "`format` must be json or csv");
  }
  auto rows = control_plane_->Usage(query);
  if (!rows.ok()) return FromStatus(rows.status());
  std::sort(rows->begin(), rows->end(), [](const store::UsageRow& a, const store::UsageRow& b) {
    return a.period_ms != b.period_ms ? a.period_ms < b.period_ms : a.key_name < b.key_name;
  });
  if (format == "csv") {
    HttpResponse response;
    response.content_type = "text/csv";
    response.body = "key,period,requests,errors,tokens,cost_usd\n";
    for (const store::UsageRow& row : *rows) {
      std::string name = row.key_name;  // quoted: names may hold commas and quotes
      std::string quoted = "\"";
      for (char c : name) {
        if (c == '"') quoted.push_back('"');
        quoted.push_back(c);
      }
      quoted.push_back('"');
      char cost[48];
      std::snprintf(cost, sizeof(cost), "%.6f", Usd(row.micro_usd));
      response.body.append(quoted + "," + store::FormatUtc(row.period_ms) + "," +
                           std::to_string(row.requests) + "," + std::to_string(row.errors) + "," +
                           std::to_string(row.tokens) + "," + cost + "\n");
    }
    return response;
  }
  json list = json::array();
  for (const store::UsageRow& row : *rows) {
    list.push_back({{"key", row.key_name},
                    {"period", store::FormatUtc(row.period_ms)},
                    {"requests", row.requests},
                    {"errors", row.errors},
                    {"tokens", row.tokens},
                    {"cost_usd", Usd(row.micro_usd)}});
  }
  return Json(200, {{"rows", std::move(list)}});
}

// With the pinned key of the server's signer and its anchor, so that a
// chain recomputed by someone who can write the database, or cut back
// behind the anchor, does not read as intact.
Result<store::AuditVerdict> AdminApi::VerifyAudit() {
  store::AuditVerifyOptions options;
  if (const store::AuditSigner* signer = control_plane_->audit_signer()) {
    options.pinned_public_key = signer->public_key;
    options.checkpoint_every = signer->checkpoint_every;
  }
  if (!audit_anchor_path_.empty()) {
    auto anchor = store::ReadAuditAnchor(audit_anchor_path_);
    if (!anchor.ok()) {
      store::AuditVerdict unreadable;
      unreadable.intact = false;
      unreadable.problem = "the audit anchor cannot be read: " + anchor.status().message();
      return unreadable;
    }
    options.anchor = std::move(anchor).value();
  }
  return control_plane_->VerifyAudit(options);
}

HttpResponse AdminApi::Audit(const HttpRequest& request) {
  const auto params = ParseQuery(request.query);
  int64_t limit = 100;
  if (auto it = params.find("limit"); it != params.end()) {
    char* end = nullptr;
    limit = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || limit < 1 || limit > 10000) {
      return Error(422, "validation", "`limit` must be 1 to 10000");
    }
  }
  auto verdict = VerifyAudit();
  if (!verdict.ok()) return FromStatus(verdict.status());
  const store::AuditSigner* signer = control_plane_->audit_signer();
  // Sequence numbers run from 1 without gaps in an intact chain.
  auto entries = control_plane_->ReadAudit(std::max<int64_t>(0, verdict->entries - limit), limit);
  if (!entries.ok()) return FromStatus(entries.status());
  json list = json::array();
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
    list.push_back({{"seq", it->seq},
                    {"time", store::FormatUtc(it->ts_ms)},
                    {"actor", it->actor},
                    {"action", it->action},
                    {"route", it->route},
                    {"status", it->status},
                    {"tokens", it->tokens},
                    {"hash", it->hash}});
  }
  json first_bad = nullptr;
  if (!verdict->intact) first_bad = {{"seq", verdict->first_bad_seq}, {"reason", verdict->problem}};
  // Without a key only the hash links were checked, which anyone who can
  // write the database can recompute: "unsigned", never "verified".
  const char* state = !verdict->intact ? "broken" : signer != nullptr ? "verified" : "unsigned";
  json anchor = nullptr;
  if (!audit_anchor_path_.empty()) {
    anchor = {{"checkpoints", verdict->anchored}, {"last_seq", verdict->last_anchored_seq}};
  }
  return Json(200, {{"verified", verdict->intact && signer != nullptr},
                    {"status", state},
                    {"public_key", signer != nullptr ? json(store::HexEncode(signer->public_key))
                                                     : json(nullptr)},
                    {"entries_checked", verdict->entries},
                    {"checkpoints", verdict->checkpoints},
                    {"last_checkpoint_seq", verdict->last_checkpoint_seq},
                    {"anchor", std::move(anchor)},
                    {"first_bad", std::move(first_bad)},
                    {"entries", std::move(list)}});
}

}  // namespace mg::serve
