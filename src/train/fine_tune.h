// FineTune: one training run of a sequence classifier, from labelled files
// to a Hugging Face folder. It reads and encodes the data (holding out a
// share for evaluation when no eval file is given), builds the model from a
// base folder (fine-tuning, optionally with a LoRA adapter) or a size preset
// (from scratch), picks the defaults that fit that mode, checks that a
// checkpoint to resume belongs to this very run, trains (trainer.h), and
// keeps the output folder current after every checkpoint.
//
// Prints nothing: the caller learns the plan, each step and each epoch
// through callbacks, on the calling thread. A stop request is seen between
// steps; the run then saves a checkpoint and returns unfinished. Option
// values are assumed checked by the caller (finite, positive where a rate);
// everything read from files is checked here and fails with a clear Status.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "data/records.h"
#include "kernels/gemm_bf16.h"
#include "model/bert_config.h"
#include "train/dataset.h"
#include "train/params.h"
#include "train/trainer.h"

namespace mg::train {

// The hyper-parameters that depend on the mode. Fine-tuning a pretrained
// encoder wants a small learning rate; a model trained from scratch learns
// nothing useful at that rate and needs a larger one and longer inputs.
struct ModeDefaults {
  float lr = 0;
  int64_t epochs = 0;
  size_t max_length = 0;
};
inline constexpr ModeDefaults kFineTuneDefaults{5e-5f, 5, 128};
inline constexpr ModeDefaults kFromScratchDefaults{1e-3f, 3, 256};

struct FineTuneOptions {
  std::string train_path;
  std::string eval_path;  // empty: hold out eval_fraction of train_path
  data::RecordFormat format = data::RecordFormat::kAuto;
  // Exactly one of: a base folder to fine-tune, or a size preset ("tiny",
  // "mini", "small", "base") to train from scratch with `vocab`.
  std::string base;
  std::string init;
  std::string vocab;  // vocab.txt, tokenizer.json or a model folder (with `init`)
  std::string out;    // the output folder; its checkpoint/ subfolder holds the run's state
  model::ProblemType problem = model::ProblemType::kSingleLabel;
  // A cross-encoder: one label ("LABEL_0") scoring (text, text_pair) with a
  // relevance label in [0, 1], trained with binary cross-entropy on its one
  // logit (sigmoid at inference). Overrides `problem` (multi-label).
  bool cross_encoder = false;
  // Unset: the mode's default (kFineTuneDefaults or kFromScratchDefaults).
  std::optional<float> lr;
  std::optional<int64_t> epochs;
  std::optional<size_t> max_length;  // tokens per example; capped at the model's positions
  size_t batch_size = 16;
  double warmup = 0.1;  // share of all steps
  float weight_decay = 0.01f;
  double max_grad_norm = 1.0;
  uint64_t seed = 42;
  int64_t save_steps = 0;  // also checkpoint every this many steps (0: epoch ends only)
  double eval_fraction = 0.1;
  LoraOptions lora;  // rank > 0: a LoRA adapter on a frozen base (needs `base`)
  // Precision of the linear layers' products (NetOptions::dtype); weights,
  // optimizer state and the written folder are F32 either way.
  kernels::GemmDtype dtype = kernels::GemmDtype::kF32;
  bool resume = false;           // continue from out/checkpoint
  bool keep_checkpoint = false;  // keep out/checkpoint after a finished run
};

// What a run will do, known before its first step.
struct FineTunePlan {
  bool from_scratch = false;
  model::BertConfig config;  // with the labels
  size_t train_examples = 0, eval_examples = 0;
  TrainOptions train;     // the options in force (mode defaults filled in)
  size_t max_length = 0;  // in force
  kernels::GemmDtype dtype = kernels::GemmDtype::kF32;
  // Which of lr, epochs and max_length came from the mode's defaults.
  bool default_lr = false, default_epochs = false, default_max_length = false;
  int64_t steps_per_epoch = 0, total_steps = 0;
  int64_t start_step = 0;  // > 0 when resumed
  std::string checkpoint_dir;
};

struct FineTuneCallbacks {
  std::function<void(const FineTunePlan&)> plan;  // once, before the first step
  std::function<void(const Progress&)> progress;  // after every step
  std::function<void(const EpochReport&)> epoch;  // after every epoch
};

struct FineTuneResult {
  bool finished = false;  // false: stopped; the checkpoint holds the last complete step
  int64_t step = 0;
  std::string checkpoint_dir;
};

// Runs training as described above. Errors: unreadable or bad data (named by
// file and line), an unknown preset, a LoRA rank the model cannot take, an
// output folder that holds an unfinished run (without `resume`), a
// checkpoint written by another run or past this run's end (with `resume`),
// a bf16 run on a CPU without AVX512_BF16, and failed writes.
Result<FineTuneResult> FineTune(const FineTuneOptions& options, const FineTuneCallbacks& callbacks,
                                const std::atomic<bool>* stop);

// The identity of a run, stored in its checkpoints: a hash of the model's
// configuration and labels, the encoded training data and every option that
// changes the weights. A checkpoint resumes only a run with the same value.
uint64_t RunFingerprint(const model::BertConfig& config, const std::vector<std::string>& labels,
                        const LabelledSet& train_set, const FineTuneOptions& options,
                        const TrainOptions& train, size_t max_length, const ParamLayout& layout);

// Loads the checkpoint in `checkpoint_dir` for a run of `total_steps` steps
// over `params` parameters in `dtype`. Refuses one written in another dtype,
// with another fingerprint, of another size, or whose step lies past the
// run's end.
Result<TrainState> LoadResumeState(const std::string& checkpoint_dir, size_t params,
                                   uint64_t fingerprint, int64_t total_steps,
                                   kernels::GemmDtype dtype = kernels::GemmDtype::kF32);

// Steps in one epoch over `examples` examples.
int64_t StepsPerEpoch(size_t examples, size_t batch_size);

}  // namespace mg::train
