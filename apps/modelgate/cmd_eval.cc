// modelgate eval: scores a sequence classifier on labelled data. Prints
// {"accuracy","macro_f1","per_label":{label:{precision,recall,f1,support}},
// "confusion":[[…]]} (rows: true label, columns: predicted); regression
// models get {"mse","mae","count"}.
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/inference_input.h"
#include "apps/modelgate/output.h"
#include "kernels/gemm.h"
#include "model/model.h"
#include "train/dataset.h"
#include "train/metrics.h"

namespace mg::cli {
namespace {

struct EvalArgs {
  std::string model, data, output, format = "auto";
  size_t batch_size = 32;
  int threads = 0;
};

void RunEval(const EvalArgs& args) {
  kernels::SetThreads(args.threads);
  auto model = ValueOrThrow(model::Model::Load(args.model));
  if (!model->is_classifier())
    throw CliError(args.model + " is not a sequence classifier (no classifier head)");
  const auto records = ReadInferenceInput(args.data, args.format, "text");
  if (records.empty()) throw CliError(args.data + ": no examples");
  const std::vector<std::string>& labels = model->config().labels;
  const model::ProblemType problem = model->config().problem_type;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < labels.size(); ++i) index[labels[i]] = i;
  auto label_index = [&](const data::Record& r, const std::string& name) {
    auto it = index.find(name);
    if (it == index.end())
      throw CliError(args.data + " line " + std::to_string(r.line) + ": label \"" + name +
                     "\" is not one of the model's labels");
    return it->second;
  };
  std::vector<int64_t> truth, predicted;
  std::vector<uint8_t> multi_truth, multi_predicted;
  double squared = 0, absolute = 0;
  for (const data::Record& r : records) {
    if (!r.label)
      throw CliError(args.data + " line " + std::to_string(r.line) + ": missing \"label\"");
    if (problem == model::ProblemType::kSingleLabel) {
      truth.push_back(static_cast<int64_t>(label_index(r, *r.label)));
    } else if (problem == model::ProblemType::kMultiLabel) {
      std::vector<uint8_t> row(labels.size(), 0);
      for (const std::string& part : train::SplitLabels(*r.label)) row[label_index(r, part)] = 1;
      multi_truth.insert(multi_truth.end(), row.begin(), row.end());
    }
  }
  model::EncoderWorkspace ws;
  model::PackedBatch batch;
  std::vector<float> scores;
  size_t done = 0;
  ForEachBatch(*model, records, args.batch_size, &batch, [&](size_t count) {
    model->Classify(batch, &ws, &scores);
    for (size_t s = 0; s < count; ++s, ++done) {
      const float* row = scores.data() + s * labels.size();
      if (problem == model::ProblemType::kSingleLabel) {
        predicted.push_back(std::max_element(row, row + labels.size()) - row);
      } else if (problem == model::ProblemType::kMultiLabel) {
        for (size_t c = 0; c < labels.size(); ++c) multi_predicted.push_back(row[c] >= 0.5f);
      } else {
        char* end = nullptr;
        const double want = std::strtod(records[done].label->c_str(), &end);
        if (end == records[done].label->c_str() || *end != '\0')
          throw CliError(args.data + " line " + std::to_string(records[done].line) +
                         ": regression label is not a number");
        squared += (row[0] - want) * (row[0] - want);
        absolute += std::abs(row[0] - want);
      }
    }
  });
  std::string json;
  if (problem == model::ProblemType::kRegression) {
    const double n = static_cast<double>(records.size());
    char buf[160];
    std::snprintf(buf, sizeof(buf), "{\"mse\":%.9g,\"mae\":%.9g,\"count\":%zu}", squared / n,
                  absolute / n, records.size());
    json = buf;
  } else if (problem == model::ProblemType::kMultiLabel) {
    json = train::MetricsJson(train::MultiLabelMetrics(multi_truth, multi_predicted, labels.size()),
                              labels);
  } else {
    json = train::MetricsJson(train::SingleLabelMetrics(truth, predicted, labels.size()), labels);
  }
  Output output(args.output);
  output.Write(json + "\n");
  output.Commit();
}

}  // namespace

void RegisterEval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Evaluate a sequence classifier on labelled data (JSON lines or CSV with \"text\" and\n"
      "\"label\"). Prints {\"accuracy\",\"macro_f1\",\"per_label\":{label:{precision,recall,f1,\n"
      "support}},\"confusion\":[[…]]} with confusion rows by true label and columns by predicted\n"
      "label, in id2label order. Multi-label models (labels joined by '|') are scored at 0.5 per\n"
      "label; regression models give {\"mse\",\"mae\",\"count\"}.");
  cmd->add_option("--model", args->model, "Model folder of a *ForSequenceClassification model")
      ->required();
  cmd->add_option("--data", args->data, "Labelled data")->required();
  cmd->add_option("--output", args->output, "Write here instead of standard output");
  cmd->add_option("--format", args->format, "Input format: auto, jsonl or csv")
      ->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Texts per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->callback([args] { RunEval(*args); });
}

}  // namespace mg::cli
