// modelgate trace: names the recipient whose fingerprinted copy of an open
// release a model is (release open --fingerprint). Two readings: the exact
// weight-space mark (fingerprint.h), and the recipients' trigger sets
// (trigger_set.h), answered by the model and scored with a binomial p-value
// per recipient. Exit 0 when a recipient is named.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/cmd_trace_watermark.h"
#include "apps/modelgate/commands.h"
#include "base/file.h"
#include "base/json_writer.h"
#include "kernels/gemm.h"
#include "model/model.h"
#include "release/fingerprint.h"
#include "release/keys.h"
#include "release/recipient_registry.h"
#include "release/trigger_fingerprint.h"
#include "text/tokenizer.h"

namespace mg::cli {
namespace {

struct TraceArgs {
  std::string model;
  std::string key;
  std::string passphrase_env;
  std::string registry;
  std::vector<std::string> recipients;
  size_t triggers = release::kDefaultTriggers;
  double threshold = release::kDefaultTraceThreshold;
  bool json = false;
  int threads = 0;
};

struct TraceResult {
  std::optional<std::string> exact;  // the weight-space mark
  std::optional<release::TriggerTrace> triggers;
  std::string note;  // why the trigger sets were not read
};

std::string FormatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3g", value);
  return buffer;
}

// White-box: reads the weights for the exact mark and runs the model on
// every recipient's trigger set.
TraceResult TraceModelFolder(const TraceArgs& args, const release::SigningKey& key,
                             const std::vector<release::TriggerRecipient>& recipients) {
  TraceResult result;
  const std::string weights = JoinPath(args.model, "model.safetensors");
  if (FileExists(weights)) {
    result.exact = ValueOrThrow(release::TraceSafetensors(ValueOrThrow(ReadFile(weights)), key));
  }
  if (recipients.empty()) {
    result.note = "no recipients to test trigger sets for (give --registry or --recipient)";
    return result;
  }
  const auto model = ValueOrThrow(model::Model::Load(args.model));
  if (!model->is_classifier() || model->config().labels.size() < 2) {
    result.note = args.model + " is not a classifier; trigger sets apply to classifiers only";
    return result;
  }
  const text::Tokenizer tokenizer = ValueOrThrow(text::Tokenizer::Load(args.model));
  release::TriggerTraceOptions options;
  options.labels = model->config().labels;
  options.words = release::TriggerWords(tokenizer.vocab());
  options.threshold = args.threshold;
  if (options.words.size() < release::kMinTriggerWords) {
    result.note = args.model + "'s vocabulary has too few whole words for trigger sets";
    return result;
  }
  result.triggers = ValueOrThrow(
      release::TraceTriggerSets(key, recipients, options, release::ModelPredictor(*model)));
  return result;
}

// On success to standard output; when nobody is named, as notes on standard
// error before the error line.
void PrintText(const TraceResult& result, const release::SigningKey& key, bool named_any) {
  FILE* stream = named_any ? stdout : stderr;
  const char* prefix = named_any ? "" : "note: ";
  std::fprintf(stream, "%sweight-space mark: %s\n", prefix,
               result.exact ? ("\"" + *result.exact + "\" (exact)").c_str() : "none");
  if (!result.note.empty())
    std::fprintf(stream, "%strigger sets: %s\n", prefix, result.note.c_str());
  if (result.triggers) {
    for (const release::RecipientMatch& match : result.triggers->recipients) {
      std::fprintf(stream, "%strigger set \"%s\": %zu/%zu answers match, p = %s\n", prefix,
                   match.recipient.c_str(), match.matches, match.total,
                   FormatDouble(match.p_value).c_str());
    }
  }
  const std::optional<std::string>& named =
      result.exact ? result.exact : (result.triggers ? result.triggers->named : std::nullopt);
  if (named)
    std::printf("fingerprinted for \"%s\" (key %s)\n", named->c_str(), key.key_id().c_str());
}

void PrintJson(const TraceResult& result) {
  std::string out = "{\"weight_space\":";
  if (result.exact) {
    AppendJsonString(&out, *result.exact);
  } else {
    out.append("null");
  }
  out.append(",\"recipients\":[");
  if (result.triggers) {
    for (size_t index = 0; index < result.triggers->recipients.size(); ++index) {
      const release::RecipientMatch& match = result.triggers->recipients[index];
      if (index) out.push_back(',');
      out.append("{\"recipient\":");
      AppendJsonString(&out, match.recipient);
      out.append(",\"matches\":" + std::to_string(match.matches) + ",\"total\":" +
                 std::to_string(match.total) + ",\"p_value\":" + FormatDouble(match.p_value) + "}");
    }
  }
  out.append("],\"trigger_named\":");
  if (result.triggers && result.triggers->named) {
    AppendJsonString(&out, *result.triggers->named);
  } else {
    out.append("null");
  }
  out.append("}\n");
  std::fputs(out.c_str(), stdout);
}

void RunTrace(const TraceArgs& args) {
  if (args.model.empty() || args.key.empty()) {
    throw CliError(
        "trace needs --model DIR --fingerprint-key KEY, or --endpoint URL --watermark KEY", 2);
  }
  kernels::SetThreads(args.threads);
  const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  const release::SigningKey key = ValueOrThrow(release::SigningKey::Load(args.key, passphrase));
  std::vector<release::RecipientEntry> registry;
  if (!args.registry.empty()) {
    if (!FileExists(args.registry)) throw CliError("registry " + args.registry + " not found");
    registry = ValueOrThrow(release::ReadRecipientRegistry(args.registry));
  }
  const std::vector<release::TriggerRecipient> recipients =
      release::TriggerRecipients(registry, key.key_id(), args.recipients, args.triggers);

  const TraceResult result = TraceModelFolder(args, key, recipients);
  const bool named_any = result.exact || (result.triggers && result.triggers->named);
  if (args.json) {
    PrintJson(result);
  } else {
    PrintText(result, key, named_any);
  }
  if (!named_any) {
    throw CliError("no fingerprint made with key " + key.key_id() + " matches " + args.model);
  }
}

}  // namespace

void RegisterTrace(CLI::App& app) {
  auto args = std::make_shared<TraceArgs>();
  auto watermark = std::make_shared<TraceWatermarkArgs>();
  CLI::App* cmd = app.add_subcommand(
      "trace",
      "Name the recipient whose fingerprinted copy (release open --fingerprint) a model is.\n"
      "Reads the exact weight-space mark, then runs the model on the trigger set of every\n"
      "recipient (--registry, --recipient) and prints, for each, how many answers match and\n"
      "the p-value of that many matches by chance; names the recipient whose p-value, times\n"
      "the number of recipients tested, is below --threshold. Fails when none is named.\n"
      "With --watermark KEY and --endpoint URL (a served model) or --model DIR (a folder\n"
      "run here): tests the suspect for the output watermark of `serve --watermark-key KEY`\n"
      "(one a model distilled from the API inherits).");
  cmd->add_option("--model", args->model, "Model folder (config.json, model.safetensors)");
  cmd->add_option("--fingerprint-key", args->key, "Vendor secret key the release was signed with");
  cmd->add_option("--registry", args->registry,
                  "Recipient registry written by release open --fingerprint-registry");
  cmd->add_option("--recipient", args->recipients,
                  "A recipient to test (repeatable), besides the registry's");
  cmd->add_option(
         "--triggers", args->triggers,
         "Trigger-set size of the --recipient names (as release open --fingerprint-triggers)")
      ->capture_default_str()
      ->check(CLI::Range(16, 100000));
  cmd->add_option("--threshold", args->threshold,
                  "Largest p-value (times the recipients tested) that names a recipient")
      ->capture_default_str()
      ->check(CLI::Range(1e-300, 0.5));
  cmd->add_flag("--json", args->json,
                "One JSON object on standard output, named or not (exit 1 when not):\n"
                "weight_space, recipients [{recipient, matches, total,\n"
                "p_value}] and trigger_named");
  cmd->add_option("--threads", args->threads, "Inference threads (0 = all cores)")
      ->capture_default_str();
  AddTraceWatermarkOptions(cmd, watermark.get());
  cmd->add_option("--passphrase-env", args->passphrase_env,
                  "Environment variable holding the key's passphrase");
  cmd->callback([args, watermark] {
    if (!watermark->endpoint.empty() || !watermark->watermark_key.empty()) {
      watermark->model = args->model;
      kernels::SetThreads(args->threads);
      return RunTraceWatermark(*watermark);
    }
    RunTrace(*args);
  });
}

}  // namespace mg::cli
