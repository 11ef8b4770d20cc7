#include "train/fine_tune.h"

#include <algorithm>
#include <filesystem>

#include "base/file.h"
#include "model/checkpoint.h"
#include "text/tokenizer.h"
#include "train/hf_folder.h"
#include "train/lora_folder.h"

namespace mg::train {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv(const std::string& s) {
  uint64_t h = kFnvOffset;
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}

}  // namespace

int64_t StepsPerEpoch(size_t examples, size_t batch_size) {
  return static_cast<int64_t>((examples + batch_size - 1) / batch_size);
}

uint64_t RunFingerprint(const model::BertConfig& config, const std::vector<std::string>& labels,
                        const LabelledSet& train_set, const FineTuneOptions& options,
                        const TrainOptions& train, size_t max_length, const ParamLayout& layout) {
  uint64_t data_hash = kFnvOffset;
  for (const Example& e : train_set.examples) {
    for (int32_t id : e.ids) data_hash = (data_hash ^ static_cast<uint32_t>(id)) * kFnvPrime;
    data_hash = (data_hash ^ 0xffffffffu) * kFnvPrime;
  }
  std::string identity = ConfigJson(config, labels);
  identity.append(std::to_string(data_hash) + "/" + std::to_string(train.epochs) + "/" +
                  std::to_string(train.batch_size) + "/" + std::to_string(train.lr) + "/" +
                  std::to_string(train.seed) + "/" + std::to_string(train.warmup) + "/" +
                  std::to_string(max_length) + "/" + options.base + "/" + options.init);
  // f32 adds nothing: checkpoints of runs from before the option resume.
  if (options.dtype != kernels::GemmDtype::kF32)
    identity.append(std::string("/dtype/") + kernels::GemmDtypeName(options.dtype));
  if (layout.has_lora())
    identity.append("/lora/" + std::to_string(layout.lora_rank) + "/" +
                    std::to_string(layout.lora_alpha));
  return Fnv(identity);
}

Result<TrainState> LoadResumeState(const std::string& checkpoint_dir, size_t params,
                                   uint64_t fingerprint, int64_t total_steps,
                                   kernels::GemmDtype dtype) {
  MG_ASSIGN_OR_RETURN(TrainState state, LoadTrainState(checkpoint_dir, params, fingerprint, dtype));
  if (state.step > total_steps)
    return InvalidArgumentError("the checkpoint is at step " + std::to_string(state.step) +
                                ", past the " + std::to_string(total_steps) + " steps of this run");
  return state;
}

Result<FineTuneResult> FineTune(const FineTuneOptions& options, const FineTuneCallbacks& callbacks,
                                const std::atomic<bool>* stop) {
  FineTunePlan plan;
  plan.from_scratch = options.base.empty();
  const ModeDefaults defaults = plan.from_scratch ? kFromScratchDefaults : kFineTuneDefaults;
  plan.default_lr = !options.lr.has_value();
  plan.default_epochs = !options.epochs.has_value();
  plan.default_max_length = !options.max_length.has_value();
  TrainOptions& train = plan.train;
  train.epochs = options.epochs.value_or(defaults.epochs);
  train.batch_size = options.batch_size;
  train.lr = options.lr.value_or(defaults.lr);
  train.warmup = options.warmup;
  train.weight_decay = options.weight_decay;
  train.max_grad_norm = options.max_grad_norm;
  train.seed = options.seed;
  train.save_steps = options.save_steps;
  plan.dtype = options.dtype;
  if (options.dtype == kernels::GemmDtype::kBf16) MG_RETURN_IF_ERROR(kernels::Bf16GemmSupported());

  std::vector<data::Record> train_records;
  MG_ASSIGN_OR_RETURN(train_records, data::ReadRecords(options.train_path, options.format));
  std::vector<data::Record> eval_records;
  if (!options.eval_path.empty()) {
    MG_ASSIGN_OR_RETURN(eval_records, data::ReadRecords(options.eval_path, options.format));
  } else if (options.eval_fraction > 0) {
    SplitForEval(&train_records, options.eval_fraction, options.seed, &eval_records);
  }
  if (train_records.empty())
    return InvalidArgumentError(options.train_path + ": no training examples");

  const std::string tokenizer_source = plan.from_scratch ? options.vocab : options.base;
  MG_ASSIGN_OR_RETURN(const text::Tokenizer tokenizer, text::Tokenizer::Load(tokenizer_source));
  model::BertConfig& config = plan.config;
  std::vector<std::string> base_labels;
  if (!plan.from_scratch) {
    MG_ASSIGN_OR_RETURN(config, model::ReadBertConfig(JoinPath(options.base, "config.json")));
    base_labels = config.labels;
  } else {
    MG_ASSIGN_OR_RETURN(config,
                        PresetConfig(options.init, tokenizer.vocab().size(), tokenizer.pad_id()));
  }
  // A cross-encoder is a one-label multi-label classifier: binary
  // cross-entropy on its logit, as sentence-transformers trains one.
  const model::ProblemType problem =
      options.cross_encoder ? model::ProblemType::kMultiLabel : options.problem;
  config.problem_type = problem;
  std::vector<std::string> labels = {kCrossEncoderLabel};
  if (!options.cross_encoder) {
    MG_ASSIGN_OR_RETURN(labels, CollectLabels(train_records, problem, options.train_path));
  }
  config.labels = labels;
  plan.max_length = std::min(options.max_length.value_or(defaults.max_length),
                             static_cast<size_t>(config.max_tokens()));
  const std::string eval_name =
      options.eval_path.empty() ? options.train_path + " (held out)" : options.eval_path;
  auto encode = [&](const std::vector<data::Record>& records, const std::string& name) {
    return options.cross_encoder
               ? EncodeRelevancePairs(records, tokenizer, plan.max_length, name)
               : EncodeRecords(records, tokenizer, labels, problem, plan.max_length, name);
  };
  MG_ASSIGN_OR_RETURN(const LabelledSet train_set, encode(train_records, options.train_path));
  MG_ASSIGN_OR_RETURN(const LabelledSet eval_set, encode(eval_records, eval_name));
  plan.train_examples = train_set.examples.size();
  plan.eval_examples = eval_set.examples.size();

  if (options.lora.rank > config.hidden_size)
    return InvalidArgumentError(
        "--lora-rank " + std::to_string(options.lora.rank) + " exceeds the model's hidden_size (" +
        std::to_string(config.hidden_size) + "); a low-rank adapter needs a rank below it");
  const ParamLayout layout = ParamLayout::For(config, labels.size(), options.lora);
  NetOptions net_options;
  net_options.layer_norm_eps = config.layer_norm_eps;
  net_options.problem = problem;
  net_options.dtype = options.dtype;
  if (config.family_id == model::FamilyId::kModernBert) {
    // As ModernBERT's configs: embedding, attention, MLP and classifier
    // dropout all 0.
    net_options.hidden_dropout = 0.0f;
    net_options.attention_dropout = 0.0f;
  }
  plan.steps_per_epoch = StepsPerEpoch(plan.train_examples, train.batch_size);
  plan.total_steps = plan.steps_per_epoch * train.epochs;
  const uint64_t fingerprint =
      RunFingerprint(config, labels, train_set, options, train, plan.max_length, layout);

  plan.checkpoint_dir = JoinPath(options.out, "checkpoint");
  std::error_code ec;
  std::filesystem::create_directories(plan.checkpoint_dir, ec);
  if (ec) return IoError("cannot create " + plan.checkpoint_dir + ": " + ec.message());
  // A run killed mid-save leaves hidden temporary files; they are never
  // read, and cleared here so they do not pile up.
  RemoveStaleTempFiles(options.out);
  RemoveStaleTempFiles(plan.checkpoint_dir);
  TrainState state;
  if (options.resume) {
    MG_ASSIGN_OR_RETURN(state, LoadResumeState(plan.checkpoint_dir, layout.total, fingerprint,
                                               plan.total_steps, options.dtype));
  } else {
    if (FileExists(JoinPath(plan.checkpoint_dir, "trainer_state.safetensors")))
      return InvalidArgumentError(options.out +
                                  " holds an unfinished run; continue it with --resume or "
                                  "choose another --out");
    InitParams(layout, config.pad_token_id, train.seed, &state.params);
    if (!plan.from_scratch) {
      MG_ASSIGN_OR_RETURN(const model::Checkpoint checkpoint,
                          model::Checkpoint::OpenFolder(options.base));
      // The base's classifier head is kept only for the very same labels.
      MG_RETURN_IF_ERROR(
          LoadParams(checkpoint, config, layout, &state.params, base_labels == labels));
    }
  }
  plan.start_step = state.step;
  if (callbacks.plan) callbacks.plan(plan);

  Trainer::Callbacks trainer_callbacks;
  trainer_callbacks.progress = callbacks.progress;
  trainer_callbacks.epoch = callbacks.epoch;
  trainer_callbacks.saved = [&](const std::vector<float>& params) {
    if (layout.has_lora()) {
      return WriteLoraFolder(options.out, options.base, config, labels, layout, params.data(),
                             tokenizer, tokenizer_source);
    }
    return WriteHfFolder(options.out, config, labels, layout, params.data(), tokenizer,
                         tokenizer_source);
  };
  Trainer trainer(layout, net_options, train);
  MG_ASSIGN_OR_RETURN(const bool finished,
                      trainer.Run(train_set, eval_set, plan.checkpoint_dir, fingerprint, &state,
                                  trainer_callbacks, stop));
  FineTuneResult result;
  result.finished = finished;
  result.step = state.step;
  result.checkpoint_dir = plan.checkpoint_dir;
  if (finished && !options.keep_checkpoint) std::filesystem::remove_all(plan.checkpoint_dir, ec);
  return result;
}

}  // namespace mg::train
