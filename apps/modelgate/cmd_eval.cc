// modelgate eval: scores a sequence classifier on labelled data. Prints
// {"accuracy","macro_f1","per_label":{label:{precision,recall,f1,support}},
// "confusion":[[…]]} (rows: true label, columns: predicted); regression
// models get {"mse","mae","count"}.
//
// With --compare DTYPE the model is run twice, in --dtype and in DTYPE, and
// the two are set side by side: {"dtype","compare","examples",<dtype>:{…},
// <compare>:{…},"agreement","accuracy_delta","cosine":{"mean","min"}} —
// agreement of the predictions (argmax, or every label at 0.5), the accuracy
// of --dtype minus that of DTYPE, and the cosine between the two runs'
// sentence embeddings (models without a classifier head, or --embeddings).
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/dtype_option.h"
#include "apps/modelgate/inference_input.h"
#include "apps/modelgate/output.h"
#include "apps/modelgate/precision_compare.h"
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
  std::string dtype = "f32";
  std::string compare;  // empty: a single run
  bool embeddings = false;
};

// One run of a model over the data.
struct Pass {
  std::vector<float> scores;      // [examples, labels]; classifiers only
  std::vector<float> embeddings;  // [examples, hidden], unit length; when asked
};

std::unique_ptr<model::Model> LoadForEval(const std::string& folder, const std::string& dtype) {
  const model::LoadOptions load = LoadOptionsFor(dtype);
  auto model = ValueOrThrow(model::Model::Load(folder, load));
  NoteFallback(*model, load);
  return model;
}

Pass RunPass(const model::Model& model, const std::vector<data::Record>& records, size_t batch_size,
             bool embeddings) {
  Pass pass;
  model::EncoderWorkspace ws;
  model::PackedBatch batch;
  std::vector<float> out;
  ForEachBatch(model, records, batch_size, &batch, [&](size_t) {
    if (model.is_classifier()) {
      model.Classify(batch, &ws, &out);
      pass.scores.insert(pass.scores.end(), out.begin(), out.end());
    }
    if (embeddings) {
      model.Embed(batch, model.default_pooling(), /*normalize=*/true, &ws, &out);
      pass.embeddings.insert(pass.embeddings.end(), out.begin(), out.end());
    }
  });
  return pass;
}

// The labels of `records` as the model's label indices: one per example
// (single-label) or [examples, labels] 0/1 (multi-label).
struct Truth {
  std::vector<int64_t> single;
  std::vector<uint8_t> multi;
};

Truth ReadTruth(const model::Model& model, const std::vector<data::Record>& records,
                const std::string& path) {
  const std::vector<std::string>& labels = model.config().labels;
  const model::ProblemType problem = model.config().problem_type;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < labels.size(); ++i) index[labels[i]] = i;
  auto label_index = [&](const data::Record& r, const std::string& name) {
    auto it = index.find(name);
    if (it == index.end())
      throw CliError(path + " line " + std::to_string(r.line) + ": label \"" + name +
                     "\" is not one of the model's labels");
    return it->second;
  };
  Truth truth;
  for (const data::Record& r : records) {
    if (!r.label) throw CliError(path + " line " + std::to_string(r.line) + ": missing \"label\"");
    if (problem == model::ProblemType::kSingleLabel) {
      truth.single.push_back(static_cast<int64_t>(label_index(r, *r.label)));
    } else if (problem == model::ProblemType::kMultiLabel) {
      std::vector<uint8_t> row(labels.size(), 0);
      for (const std::string& part : train::SplitLabels(*r.label)) row[label_index(r, part)] = 1;
      truth.multi.insert(truth.multi.end(), row.begin(), row.end());
    }
  }
  return truth;
}

// Predicted label indices (single-label) or 0/1 rows (multi-label) of `scores`.
std::vector<int64_t> Predictions(const model::Model& model, const std::vector<float>& scores) {
  const size_t labels = model.config().labels.size();
  std::vector<int64_t> predicted;
  for (size_t start = 0; start + labels <= scores.size(); start += labels) {
    const float* row = scores.data() + start;
    if (model.config().problem_type == model::ProblemType::kSingleLabel) {
      predicted.push_back(std::max_element(row, row + labels) - row);
    } else {
      for (size_t c = 0; c < labels; ++c) predicted.push_back(row[c] >= 0.5f);
    }
  }
  return predicted;
}

train::ClassificationMetrics Classification(const model::Model& model, const Truth& truth,
                                            const std::vector<int64_t>& predicted) {
  const size_t labels = model.config().labels.size();
  if (model.config().problem_type == model::ProblemType::kSingleLabel)
    return train::SingleLabelMetrics(truth.single, predicted, labels);
  return train::MultiLabelMetrics(truth.multi,
                                  std::vector<uint8_t>(predicted.begin(), predicted.end()), labels);
}

std::string RegressionJson(const Pass& pass, const std::vector<data::Record>& records,
                           const std::string& path) {
  double squared = 0, absolute = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string& label = *records[i].label;
    char* end = nullptr;
    const double want = std::strtod(label.c_str(), &end);
    if (end == label.c_str() || *end != '\0')
      throw CliError(path + " line " + std::to_string(records[i].line) +
                     ": regression label is not a number");
    const double got = pass.scores[i];
    squared += (got - want) * (got - want);
    absolute += std::abs(got - want);
  }
  const double n = static_cast<double>(records.size());
  char buf[160];
  std::snprintf(buf, sizeof(buf), "{\"mse\":%.9g,\"mae\":%.9g,\"count\":%zu}", squared / n,
                absolute / n, records.size());
  return buf;
}

// The metrics JSON of one pass; `accuracy` gets the accuracy (classifiers).
std::string ScoreJson(const model::Model& model, const Pass& pass, const Truth& truth,
                      const std::vector<data::Record>& records, const std::string& path,
                      double* accuracy) {
  if (model.config().problem_type == model::ProblemType::kRegression)
    return RegressionJson(pass, records, path);
  const train::ClassificationMetrics metrics =
      Classification(model, truth, Predictions(model, pass.scores));
  *accuracy = metrics.accuracy;
  return train::MetricsJson(metrics, model.config().labels);
}

void RunSingle(const EvalArgs& args, const std::vector<data::Record>& records, Output* output) {
  auto model = LoadForEval(args.model, args.dtype);
  if (!model->is_classifier())
    throw CliError(args.model + " is not a sequence classifier (no classifier head)");
  const Truth truth = ReadTruth(*model, records, args.data);
  const Pass pass = RunPass(*model, records, args.batch_size, false);
  double accuracy = 0;
  output->Write(ScoreJson(*model, pass, truth, records, args.data, &accuracy) + "\n");
}

std::string Number(double value) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.9g", value);
  return buf;
}

}  // namespace

std::string ComparePrecisions(const PrecisionComparison& args,
                              const std::vector<data::Record>& records) {
  std::string json = "{\"dtype\":\"" + args.dtype + "\",\"compare\":\"" + args.compare +
                     "\",\"examples\":" + std::to_string(records.size());
  // One model in memory at a time: each is loaded, run and freed in turn.
  Pass passes[2];
  double accuracy[2] = {0, 0};
  bool classifier = false;
  std::unique_ptr<model::Model> last;
  for (int run = 0; run < 2; ++run) {
    const std::string& dtype = run == 0 ? args.dtype : args.compare;
    last.reset();
    last = LoadForEval(args.model, dtype);
    classifier = last->is_classifier();
    const bool embeddings = args.embeddings || !classifier;
    passes[run] = RunPass(*last, records, args.batch_size, embeddings);
    if (classifier) {
      const Truth truth = ReadTruth(*last, records, args.data);
      json += ",\"" + dtype +
              "\":" + ScoreJson(*last, passes[run], truth, records, args.data, &accuracy[run]);
    }
  }
  if (classifier && last->config().problem_type != model::ProblemType::kRegression) {
    const std::vector<int64_t> a = Predictions(*last, passes[0].scores);
    const std::vector<int64_t> b = Predictions(*last, passes[1].scores);
    const size_t per_example = a.size() / records.size();
    size_t same = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      same += std::equal(a.begin() + i * per_example, a.begin() + (i + 1) * per_example,
                         b.begin() + i * per_example);
    }
    json += ",\"agreement\":" + Number(static_cast<double>(same) / records.size());
    json += ",\"accuracy_delta\":" + Number(accuracy[0] - accuracy[1]);
  }
  if (!passes[0].embeddings.empty()) {
    const size_t hidden = passes[0].embeddings.size() / records.size();
    double sum = 0, min = 1;
    for (size_t i = 0; i < records.size(); ++i) {
      double dot = 0;
      for (size_t c = 0; c < hidden; ++c)
        dot += static_cast<double>(passes[0].embeddings[i * hidden + c]) *
               passes[1].embeddings[i * hidden + c];
      sum += dot;
      min = std::min(min, dot);
    }
    json +=
        ",\"cosine\":{\"mean\":" + Number(sum / records.size()) + ",\"min\":" + Number(min) + "}";
  }
  return json + "}";
}

namespace {

void RunEval(const EvalArgs& args) {
  kernels::SetThreads(args.threads);
  const auto records = ReadInferenceInput(args.data, args.format, "text");
  if (records.empty()) throw CliError(args.data + ": no examples");
  Output output(args.output);
  if (args.compare.empty()) {
    RunSingle(args, records, &output);
  } else {
    const PrecisionComparison compare{args.model,   args.data,       args.dtype,
                                      args.compare, args.batch_size, args.embeddings};
    output.Write(ComparePrecisions(compare, records) + "\n");
  }
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
      "label; regression models give {\"mse\",\"mae\",\"count\"}.\n"
      "With --compare DTYPE, runs the model in --dtype and in DTYPE and prints both metrics,\n"
      "\"agreement\" of their predictions, \"accuracy_delta\" and, for embedding models (or\n"
      "--embeddings), \"cosine\":{\"mean\",\"min\"} between their sentence embeddings.");
  cmd->add_option("--model", args->model,
                  "Model folder of a *ForSequenceClassification model (with --compare: any "
                  "model folder)")
      ->required();
  cmd->add_option("--data", args->data, "Labelled data (with --compare and no head: any texts)")
      ->required();
  cmd->add_option("--output", args->output, "Write here instead of standard output");
  cmd->add_option("--format", args->format, "Input format: auto, jsonl or csv")
      ->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Texts per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores)")->capture_default_str();
  AddDtypeOption(cmd, &args->dtype);
  AddDtypeOption(cmd, &args->compare, "--compare",
                 "Also run in this precision and compare (agreement, accuracy, cosine)");
  cmd->add_flag("--embeddings", args->embeddings,
                "With --compare: also compare sentence embeddings (cosine)");
  cmd->callback([args] { RunEval(*args); });
}

}  // namespace mg::cli
