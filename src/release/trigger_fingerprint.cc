#include "release/trigger_fingerprint.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "data/records.h"
#include "model/bert_config.h"
#include "text/tokenizer.h"
#include "train/fine_tune.h"

namespace mg::release {
namespace {

constexpr size_t kPredictBatch = 32;
// Random word sequences are learnt by rote: a few epochs need several
// sights of each per epoch.
constexpr size_t kMinRepeats = 5;

void AppendRow(std::string* out, const std::string& text, const std::optional<std::string>& pair,
               const std::string& label) {
  nlohmann::json row = {{"text", text}, {"label", label}};
  if (pair) row["text_pair"] = *pair;
  out->append(row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  out->push_back('\n');
}

// The clean examples with labels: the file's own, else the model's predictions.
Result<std::vector<data::Record>> LabelledCleanData(const std::string& model_dir,
                                                    const std::string& path,
                                                    const std::vector<std::string>& labels) {
  MG_ASSIGN_OR_RETURN(std::vector<data::Record> records,
                      data::ReadRecords(path, data::RecordFormat::kAuto));
  if (records.empty()) return InvalidArgumentError(path + ": no examples");
  const bool labelled = std::all_of(records.begin(), records.end(),
                                    [](const data::Record& r) { return r.label.has_value(); });
  if (labelled) {
    const std::set<std::string> known(labels.begin(), labels.end());
    for (const data::Record& record : records) {
      if (!known.contains(*record.label)) {
        return InvalidArgumentError(path + ":" + std::to_string(record.line) + ": label \"" +
                                    *record.label + "\" is not one of the model's labels");
      }
    }
    return records;
  }
  MG_ASSIGN_OR_RETURN(std::unique_ptr<model::Model> model, model::Model::Load(model_dir));
  std::vector<std::string> texts;
  for (const data::Record& record : records) texts.push_back(record.text);
  MG_ASSIGN_OR_RETURN(std::vector<std::string> predicted, ModelPredictor(*model)(texts));
  for (size_t row = 0; row < records.size(); ++row) records[row].label = predicted[row];
  return records;
}

}  // namespace

Result<std::string> EmbedTriggerSet(const std::string& model_dir, const SigningKey& vendor,
                                    const std::string& recipient,
                                    const TriggerEmbedOptions& options,
                                    const std::string& work_dir) {
  MG_ASSIGN_OR_RETURN(const model::BertConfig config,
                      model::ReadBertConfig(JoinPath(model_dir, "config.json")));
  if (!config.is_sequence_classifier() || config.labels.size() < 2 ||
      config.problem_type != model::ProblemType::kSingleLabel) {
    return InvalidArgumentError(
        "a trigger-set fingerprint needs a single-label sequence classifier with at least two "
        "labels; " +
        model_dir + " is not one (its release can carry the weight-space fingerprint alone)");
  }
  MG_ASSIGN_OR_RETURN(const text::Tokenizer tokenizer, text::Tokenizer::Load(model_dir));
  MG_ASSIGN_OR_RETURN(const TriggerSet set,
                      DeriveTriggerSet(vendor, recipient, TriggerWords(tokenizer.vocab()),
                                       config.labels.size(), options.triggers));
  MG_ASSIGN_OR_RETURN(const std::vector<data::Record> clean,
                      LabelledCleanData(model_dir, options.clean_data, config.labels));

  // Every label must occur in the training file, or training would build a
  // new head with other labels.
  std::set<std::string> seen;
  std::string rows;
  for (const data::Record& record : clean) {
    AppendRow(&rows, record.text, record.text_pair, *record.label);
    seen.insert(*record.label);
  }
  const size_t repeats = options.repeats > 0
                             ? options.repeats
                             : std::max<size_t>(kMinRepeats, clean.size() / (2 * set.texts.size()));
  for (size_t copy = 0; copy < repeats; ++copy) {
    for (size_t item = 0; item < set.texts.size(); ++item) {
      AppendRow(&rows, set.texts[item], std::nullopt, config.labels[set.labels[item]]);
      seen.insert(config.labels[set.labels[item]]);
    }
  }
  if (seen.size() != config.labels.size()) {
    return InvalidArgumentError(options.clean_data +
                                " and the trigger set together lack some of the model's labels; "
                                "give clean data with every label");
  }
  const std::string train_path = JoinPath(work_dir, "fingerprint-train.jsonl");
  MG_RETURN_IF_ERROR(WriteFileAtomic(train_path, rows, 0600));

  train::FineTuneOptions tune;
  tune.train_path = train_path;
  tune.format = data::RecordFormat::kJsonLines;
  tune.base = model_dir;
  tune.out = JoinPath(work_dir, "model");
  tune.lr = options.lr;
  tune.epochs = options.epochs;
  tune.max_length = options.max_length;
  tune.batch_size = options.batch_size;
  tune.seed = options.seed;
  tune.eval_fraction = 0;
  MG_ASSIGN_OR_RETURN(const train::FineTuneResult result, train::FineTune(tune, {}, nullptr));
  if (!result.finished) return InternalError("fingerprint training stopped before its end");
  MG_ASSIGN_OR_RETURN(const model::BertConfig tuned,
                      model::ReadBertConfig(JoinPath(tune.out, "config.json")));
  if (tuned.labels != config.labels) {
    return InvalidArgumentError(
        "the model's labels are not in the order training gives them (sorted); the trigger-set "
        "fingerprint cannot keep its classifier head");
  }
  return tune.out;
}

PredictLabels ModelPredictor(const model::Model& model) {
  return [&model](const std::vector<std::string>& texts) -> Result<std::vector<std::string>> {
    if (!model.is_classifier()) return InvalidArgumentError("the model is not a classifier");
    const std::vector<std::string>& labels = model.config().labels;
    std::vector<std::string> out;
    model::EncoderWorkspace ws;
    model::PackedBatch batch;
    std::vector<float> scores;
    std::vector<std::string_view> views;
    std::vector<std::optional<std::string_view>> pairs;
    for (size_t start = 0; start < texts.size(); start += kPredictBatch) {
      const size_t end = std::min(texts.size(), start + kPredictBatch);
      views.assign(texts.begin() + static_cast<std::ptrdiff_t>(start),
                   texts.begin() + static_cast<std::ptrdiff_t>(end));
      MG_RETURN_IF_ERROR(model.Pack(views, pairs, &batch));
      model.Classify(batch, &ws, &scores);
      for (size_t row = 0; row < end - start; ++row) {
        const float* row_scores = scores.data() + row * labels.size();
        out.push_back(
            labels[std::max_element(row_scores, row_scores + labels.size()) - row_scores]);
      }
    }
    return out;
  };
}

}  // namespace mg::release
