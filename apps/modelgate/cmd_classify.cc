// modelgate classify: labels and scores of a sequence classifier for every
// input line, in order, as JSON lines {"label","score","scores"}.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/inference_input.h"
#include "apps/modelgate/model_source.h"
#include "apps/modelgate/output.h"
#include "apps/modelgate/progress.h"
#include "base/json_writer.h"
#include "kernels/gemm.h"
#include "model/model.h"

namespace mg::cli {
namespace {

struct ClassifyArgs {
  ModelSourceArgs source;
  std::string input;
  std::string output;
  std::string format = "auto";
  std::string field = "text";
  size_t batch_size = 32;
  int threads = 0;
  std::string progress = "auto";
};

void RunClassify(const ClassifyArgs& args) {
  kernels::SetThreads(args.threads);
  auto model = LoadModelFromSource(args.source, release::LicenceFeature::kClassify);
  if (!model->is_classifier()) {
    throw CliError(args.source.source.model +
                   " is not a sequence classifier (config.json architectures lack "
                   "*ForSequenceClassification); use `modelgate embed`");
  }
  for (const std::string& warning : model->warnings())
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  const auto records = ReadInferenceInput(args.input, args.format, args.field);
  const std::vector<std::string>& labels = model->config().labels;
  Output output(args.output);
  model::EncoderWorkspace ws;
  model::PackedBatch batch;
  std::vector<float> scores;
  std::string text;
  ProgressBar progress("classify", kTexts, records.size(), ParseProgressMode(args.progress));
  size_t done = 0;
  int64_t tokens = 0;
  ForEachBatch(*model, records, args.batch_size, &batch, [&](size_t count) {
    model->Classify(batch, &ws, &scores);
    text.clear();
    for (size_t s = 0; s < count; ++s) {
      const float* row = scores.data() + s * labels.size();
      size_t best = 0;
      for (size_t c = 1; c < labels.size(); ++c) {
        if (row[c] > row[best]) best = c;
      }
      text.append("{\"label\":");
      AppendJsonString(&text, labels[best]);
      text.append(",\"score\":");
      AppendJsonFloat(&text, row[best]);
      text.append(",\"scores\":{");
      for (size_t c = 0; c < labels.size(); ++c) {
        if (c) text.push_back(',');
        AppendJsonString(&text, labels[c]);
        text.push_back(':');
        AppendJsonFloat(&text, row[c]);
      }
      text.append("}}\n");
    }
    output.Write(text);
    done += count;
    tokens += batch.tokens();
    progress.Update(done);
  });
  output.Commit();
  progress.Finish();
  if (progress.enabled()) {
    const double seconds = std::max(progress.seconds(), 1e-9);
    std::fprintf(stderr,
                 "classified %zu texts (%lld tokens) in %.2f s: %.0f texts/s, %.0f tokens/s\n",
                 done, static_cast<long long>(tokens), seconds, static_cast<double>(done) / seconds,
                 static_cast<double>(tokens) / seconds);
  }
}

}  // namespace

void RegisterClassify(CLI::App& app) {
  auto args = std::make_shared<ClassifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "classify",
      "Classify each input text with a sequence classifier: one JSON line\n"
      "{\"label\",\"score\",\"scores\":{label: p}} per text, in order (softmax for single-label\n"
      "models, sigmoid for multi-label and one-label (cross-encoder) models, raw values for\n"
      "regression).");
  cmd->add_option("--model", args->source.source.model,
                  "Model folder, open release, closed bundle (.mgb, with --key) or hybrid head\n"
                  "(.mgb, with --key and --base)")
      ->required();
  cmd->add_option("--input", args->input,
                  "JSON lines with \"text\" (and \"text_pair\"), CSV with a header, or .txt")
      ->required();
  cmd->add_option("--output", args->output, "Write here instead of standard output");
  cmd->add_option("--format", args->format, "Input format: auto, jsonl, csv or text")
      ->capture_default_str();
  cmd->add_option("--field", args->field, "Name of the text field")->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Texts per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", args->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--progress", args->progress,
                  "Progress bar and throughput (texts/s, tokens/s) on stderr: auto (on a\n"
                  "terminal), on or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "on", "off"}));
  AddModelSourceOptions(cmd, &args->source);
  cmd->callback([args] { RunClassify(*args); });
}

}  // namespace mg::cli
