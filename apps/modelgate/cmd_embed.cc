// modelgate embed: sentence embeddings of every input line, in order, as JSON
// lines {"embedding": [...]}.
#include <chrono>
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/inference_input.h"
#include "apps/modelgate/model_source.h"
#include "apps/modelgate/output.h"
#include "base/json_writer.h"
#include "kernels/gemm.h"
#include "model/model.h"

namespace mg::cli {
namespace {

struct EmbedArgs {
  ModelSourceArgs source;
  std::string input;
  std::string output;
  std::string format = "auto";
  std::string field = "text";
  std::string pooling;
  bool normalize = false;
  size_t batch_size = 32;
  int threads = 0;
};

void RunEmbed(const EmbedArgs& args) {
  kernels::SetThreads(args.threads);
  auto model = LoadModelFromSource(args.source, release::LicenceFeature::kEmbed);
  for (const std::string& warning : model->warnings())
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  const model::Pooling pooling = args.pooling.empty()
                                     ? model->default_pooling()
                                     : ValueOrThrow(model::ParsePooling(args.pooling));
  const auto records = ReadInferenceInput(args.input, args.format, args.field);
  Output output(args.output);
  model::EncoderWorkspace ws;
  model::PackedBatch batch;
  std::vector<float> embeddings;
  std::string text;
  const int64_t h = model->config().hidden_size;
  ForEachBatch(*model, records, args.batch_size, &batch, [&](size_t count) {
    model->Embed(batch, pooling, args.normalize, &ws, &embeddings);
    text.clear();
    for (size_t s = 0; s < count; ++s) {
      text.append("{\"embedding\":[");
      for (int64_t c = 0; c < h; ++c) {
        if (c) text.push_back(',');
        AppendJsonFloat(&text, embeddings[s * h + c]);
      }
      text.append("]}\n");
    }
    output.Write(text);
  });
  output.Commit();
}

}  // namespace

void RegisterEmbed(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd = app.add_subcommand(
      "embed",
      "Sentence embeddings: one JSON line {\"embedding\":[...]} per input text, in order.\n"
      "Inputs longer than the model's limit are truncated.");
  cmd->add_option("--model", args->source.source.model,
                  "Model folder, open release, closed bundle (.mgb, with --key) or hybrid head\n"
                  "(.mgb, with --key and --base)")
      ->required();
  cmd->add_option("--input", args->input,
                  "JSON lines with \"text\", CSV with a header, or .txt with one text per line")
      ->required();
  cmd->add_option("--output", args->output, "Write here instead of standard output");
  cmd->add_option("--format", args->format, "Input format: auto, jsonl, csv or text")
      ->capture_default_str();
  cmd->add_option("--field", args->field, "Name of the text field")->capture_default_str();
  cmd->add_option("--pooling", args->pooling,
                  "mean or cls (default: the model's 1_Pooling setting, else mean)");
  cmd->add_flag("--normalize", args->normalize, "L2-normalise each embedding");
  cmd->add_option("--batch-size", args->batch_size, "Texts per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", args->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  AddModelSourceOptions(cmd, &args->source);
  cmd->callback([args] { RunEmbed(*args); });
}

}  // namespace mg::cli
