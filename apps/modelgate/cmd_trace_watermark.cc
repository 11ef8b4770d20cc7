#include "apps/modelgate/cmd_trace_watermark.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "kernels/gemm.h"
#include "model/model.h"
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

// What the trace asks of a suspect, served over HTTP or a folder run here.
struct Suspect {
  std::vector<std::string> labels;  // a classifier's labels; empty for an embedding model
  // Unit embeddings of the texts, row after row; sets the width.
  std::function<std::vector<float>(const std::vector<std::string>&, int64_t*)> embed;
  // The top label of each text.
  std::function<std::vector<std::string>(const std::vector<std::string>&)> classify;
};

Suspect HttpSuspect(const TraceWatermarkArgs& args) {
  std::string bearer;
  if (!args.api_key_env.empty()) {
    const char* value = std::getenv(args.api_key_env.c_str());
    if (value == nullptr || *value == '\0') {
      throw CliError("environment variable " + args.api_key_env + " is unset or empty", 2);
    }
    bearer = value;
  }
  auto client = std::make_shared<const serve::HttpClient>(
      ValueOrThrow(serve::HttpClient::Create(args.endpoint, std::move(bearer))));
  const serve::HttpReply info_reply = ValueOrThrow(client->Get("/info"));
  const json info = json::parse(info_reply.body, nullptr, /*allow_exceptions=*/false);
  if (info_reply.status != 200 || !info.is_object()) {
    throw CliError("the suspect's /info answered HTTP " + std::to_string(info_reply.status));
  }
  Suspect suspect;
  if (info.contains("model_type") && info["model_type"].is_object() &&
      info["model_type"].contains("classifier")) {
    const json& id2label = info["model_type"]["classifier"]["id2label"];
    if (id2label.is_object()) {
      for (const auto& [id, label] : id2label.items()) {
        if (label.is_string()) suspect.labels.push_back(label.get<std::string>());
      }
    }
  }
  suspect.embed = [client](const std::vector<std::string>& texts, int64_t* width) {
    return Embed(*client, texts, width);
  };
  suspect.classify = [client](const std::vector<std::string>& texts) {
    return Classify(*client, texts);
  };
  return suspect;
}

// A model folder (e.g. a student saved in Hugging Face's layout), run here.
Suspect FolderSuspect(const std::string& dir) {
  std::shared_ptr<const model::Model> model = ValueOrThrow(model::Model::Load(dir));
  Suspect suspect;
  if (model->is_classifier()) suspect.labels = model->config().labels;
  // Runs `texts` kBatch at a time, handing each batch's outputs to `take`.
  auto run = [model](const std::vector<std::string>& texts, bool classify,
                     const std::function<void(const std::vector<float>&, size_t)>& take) {
    model::EncoderWorkspace ws;
    model::PackedBatch batch;
    std::vector<float> out;
    for (size_t start = 0; start < texts.size(); start += kBatch) {
      const size_t end = std::min(texts.size(), start + kBatch);
      const std::vector<std::string_view> views(texts.begin() + start, texts.begin() + end);
      ThrowIfError(model->Pack(views, {}, &batch));
      if (classify) {
        model->Classify(batch, &ws, &out);
      } else {
        model->Embed(batch, model->default_pooling(), /*normalize=*/true, &ws, &out);
      }
      take(out, end - start);
    }
  };
  suspect.embed = [model, run](const std::vector<std::string>& texts, int64_t* width) {
    *width = model->config().hidden_size;
    std::vector<float> rows;
    run(texts, false, [&](const std::vector<float>& out, size_t) {
      rows.insert(rows.end(), out.begin(), out.end());
    });
    return rows;
  };
  suspect.classify = [model, run](const std::vector<std::string>& texts) {
    const std::vector<std::string>& names = model->config().labels;
    std::vector<std::string> labels;
    run(texts, true, [&](const std::vector<float>& out, size_t count) {
      const size_t width = names.size();
      for (size_t r = 0; r < count; ++r) {
        const float* row = out.data() + r * width;
        labels.push_back(names[std::max_element(row, row + width) - row]);
      }
    });
    return labels;
  };
  return suspect;
}

}  // namespace

void AddTraceWatermarkOptions(CLI::App* cmd, TraceWatermarkArgs* args) {
  cmd->add_option("--endpoint", args->endpoint,
                  "Suspect model served over HTTP (TEI routes): http://HOST:PORT; or give\n"
                  "--model DIR with --watermark to run a suspect folder here");
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
  if ((args.endpoint.empty() == args.model.empty()) || args.watermark_key.empty()) {
    throw CliError(
        "a watermark trace needs --watermark KEY and one suspect: --endpoint URL or --model DIR",
        2);
  }
  const release::WatermarkKey key = ValueOrThrow(release::LoadWatermarkKey(args.watermark_key));
  const Suspect suspect = args.endpoint.empty() ? FolderSuspect(args.model) : HttpSuspect(args);
  const std::vector<std::string>& labels = suspect.labels;
  json verdict;
  if (args.endpoint.empty()) {
    verdict["model"] = args.model;
  } else {
    verdict["endpoint"] = args.endpoint;
  }
  double p_value = 1;
  if (labels.size() >= 2) {
    if (key.label_triggers.empty()) throw CliError("the watermark key has no label triggers");
    const size_t per_trigger = std::max<size_t>(1, args.probes / 10);
    const std::vector<release::LabelProbe> probes =
        release::MakeLabelProbes(key, per_trigger, kProbeWords, args.seed);
    std::vector<std::string> texts;
    for (const auto& probe : probes) texts.push_back(probe.text);
    const release::LabelVerdict labels_verdict =
        release::JudgeLabels(key, probes, suspect.classify(texts), labels);
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
    const std::vector<float> backdoor = suspect.embed(probes.backdoor, &width);
    const std::vector<float> benign = suspect.embed(probes.benign, &width);
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
    throw CliError("no watermark of this key detected in " +
                   (args.endpoint.empty() ? args.model : args.endpoint));
  }
}

}  // namespace mg::cli
