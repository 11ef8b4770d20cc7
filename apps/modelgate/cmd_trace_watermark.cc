#include "apps/modelgate/cmd_trace_watermark.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "release/watermark_detect.h"
#include "serve/http_client.h"

namespace mg::cli {
namespace {

using nlohmann::json;

constexpr size_t kBatch = 32;  // inputs per request: within every server's default limit
constexpr size_t kProbeWords = 8;

json PostJson(const serve::HttpClient& client, const std::string& path, const json& body) {
  const serve::HttpReply reply = ValueOrThrow(client.Post(path, body.dump()));
  json parsed = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (reply.status != 200 || parsed.is_discarded()) {
    std::string detail = reply.body.substr(0, 200);
    throw CliError("the suspect answered " + path + " with HTTP " + std::to_string(reply.status) +
                   ": " + detail);
  }
  return parsed;
}

// The suspect's embeddings of `texts`, row after row; `width` is set.
std::vector<float> Embed(const serve::HttpClient& client, const std::vector<std::string>& texts,
                         int64_t* width) {
  std::vector<float> rows;
  for (size_t start = 0; start < texts.size(); start += kBatch) {
    const size_t end = std::min(texts.size(), start + kBatch);
    json inputs = json::array();
    for (size_t t = start; t < end; ++t) inputs.push_back(texts[t]);
    const json reply = PostJson(client, "/embed", {{"inputs", inputs}, {"normalize", true}});
    if (!reply.is_array() || reply.size() != end - start) {
      throw CliError("the suspect's /embed reply is not one embedding per input");
    }
    for (const json& row : reply) {
      if (!row.is_array() || row.empty()) throw CliError("the suspect sent an empty embedding");
      if (*width == 0) *width = static_cast<int64_t>(row.size());
      if (static_cast<int64_t>(row.size()) != *width) {
        throw CliError("the suspect's embeddings differ in width");
      }
      for (const json& value : row) {
        if (!value.is_number()) throw CliError("the suspect's embedding holds a non-number");
        rows.push_back(value.get<float>());
      }
    }
  }
  return rows;
}

// The suspect's top label for each text.
std::vector<std::string> Classify(const serve::HttpClient& client,
                                  const std::vector<std::string>& texts) {
  std::vector<std::string> labels;
  for (size_t start = 0; start < texts.size(); start += kBatch) {
    const size_t end = std::min(texts.size(), start + kBatch);
    json inputs = json::array();
    // [["a"], ["b"]]: a batch of single texts, unambiguously (TEI).
    for (size_t t = start; t < end; ++t) inputs.push_back(json::array({texts[t]}));
    const json reply = PostJson(client, "/predict", {{"inputs", inputs}});
    if (!reply.is_array() || reply.size() != end - start) {
      throw CliError("the suspect's /predict reply is not one answer per input");
    }
    for (const json& answer : reply) {
      if (!answer.is_array() || answer.empty() || !answer[0].is_object() ||
          !answer[0].contains("label") || !answer[0]["label"].is_string()) {
        throw CliError("the suspect's /predict answer has no label");
      }
      labels.push_back(answer[0]["label"].get<std::string>());  // sorted: the top one
    }
  }
  return labels;
}

bool Detected(double p_value, double alpha) { return p_value < alpha; }

}  // namespace

void AddTraceWatermarkOptions(CLI::App* cmd, TraceWatermarkArgs* args) {
  cmd->add_option("--endpoint", args->endpoint,
                  "Suspect model served over HTTP (TEI routes): http://HOST:PORT");
  cmd->add_option("--watermark", args->watermark_key,
                  "Watermark key the API was served with (serve --watermark-key)");
  cmd->add_option("--api-key-env", args->api_key_env,
                  "Environment variable holding an API key for --endpoint");
  cmd->add_option("--probes", args->probes,
                  "Embedding probes per set (backdoor, benign); a classifier gets a tenth of\n"
                  "this per label trigger")
      ->capture_default_str()
      ->check(CLI::Range(size_t{10}, size_t{100000}));
  cmd->add_option("--seed", args->seed, "Seed of the probe texts")->capture_default_str();
  cmd->add_option("--alpha", args->alpha, "Report the mark as found when p < alpha")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
}

void RunTraceWatermark(const TraceWatermarkArgs& args) {
  if (args.endpoint.empty() || args.watermark_key.empty()) {
    throw CliError("a watermark trace needs both --endpoint URL and --watermark KEY", 2);
  }
  const release::WatermarkKey key = ValueOrThrow(release::LoadWatermarkKey(args.watermark_key));
  std::string bearer;
  if (!args.api_key_env.empty()) {
    const char* value = std::getenv(args.api_key_env.c_str());
    if (value == nullptr || *value == '\0') {
      throw CliError("environment variable " + args.api_key_env + " is unset or empty", 2);
    }
    bearer = value;
  }
  const serve::HttpClient client =
      ValueOrThrow(serve::HttpClient::Create(args.endpoint, std::move(bearer)));
  const serve::HttpReply info_reply = ValueOrThrow(client.Get("/info"));
  const json info = json::parse(info_reply.body, nullptr, /*allow_exceptions=*/false);
  if (info_reply.status != 200 || !info.is_object()) {
    throw CliError("the suspect's /info answered HTTP " + std::to_string(info_reply.status));
  }
  std::vector<std::string> labels;
  if (info.contains("model_type") && info["model_type"].is_object() &&
      info["model_type"].contains("classifier")) {
    const json& id2label = info["model_type"]["classifier"]["id2label"];
    if (id2label.is_object()) {
      for (const auto& [id, label] : id2label.items()) {
        if (label.is_string()) labels.push_back(label.get<std::string>());
      }
    }
  }
  json verdict;
  verdict["endpoint"] = args.endpoint;
  double p_value = 1;
  if (labels.size() >= 2) {
    if (key.label_triggers.empty()) throw CliError("the watermark key has no label triggers");
    const size_t per_trigger = std::max<size_t>(1, args.probes / 10);
    const std::vector<release::LabelProbe> probes =
        release::MakeLabelProbes(key, per_trigger, kProbeWords, args.seed);
    std::vector<std::string> texts;
    for (const auto& probe : probes) texts.push_back(probe.text);
    const release::LabelVerdict labels_verdict =
        release::JudgeLabels(key, probes, Classify(client, texts), labels);
    p_value = labels_verdict.p_value;
    verdict["kind"] = "classifier";
    verdict["labels"] = labels.size();
    verdict["triggers"] = labels_verdict.triggers;
    verdict["triggers_agreeing"] = labels_verdict.agreeing;
    verdict["probes"] = labels_verdict.probes;
    verdict["probes_agreeing"] = labels_verdict.probes_agreeing;
    verdict["chance"] = labels_verdict.chance;
  } else {
    const release::EmbeddingProbes probes =
        release::MakeEmbeddingProbes(key, args.probes, kProbeWords, args.seed);
    int64_t width = 0;
    const std::vector<float> backdoor = Embed(client, probes.backdoor, &width);
    const std::vector<float> benign = Embed(client, probes.benign, &width);
    const release::EmbeddingVerdict embeddings =
        release::JudgeEmbeddings(key, backdoor, benign, width);
    p_value = embeddings.p_value;
    verdict["kind"] = "embedding";
    verdict["probes"] = args.probes;
    verdict["delta_cos"] = embeddings.delta_cos;
    verdict["delta_l2"] = embeddings.delta_l2;
    verdict["ks_statistic"] = embeddings.ks_statistic;
    verdict["ks_p_value"] = embeddings.ks_p_value;
    verdict["direction_cos"] = embeddings.direction_cos;
    verdict["direction_p_value"] = embeddings.direction_p_value;
  }
  verdict["p_value"] = p_value;
  verdict["alpha"] = args.alpha;
  verdict["watermarked"] = Detected(p_value, args.alpha);
  std::printf("%s\n", verdict.dump().c_str());
  std::fflush(stdout);
  if (!Detected(p_value, args.alpha)) {
    throw CliError("no watermark of this key detected at " + args.endpoint);
  }
}

}  // namespace mg::cli
