// Trainer: the fine-tuning loop of a sequence classifier — seeded epoch
// order, forward/backward, gradient clipping, AdamW on a linear warm-up and
// decay schedule, evaluation after each epoch, and resumable checkpoints.
//
// Determinism: the same data, options, seed and thread count give the same
// weights, and a run resumed from a checkpoint ends with the same weights as
// an uninterrupted one. A stop request (e.g. from a signal handler) is seen
// between steps: the trainer saves the last complete step and returns.
// Checkpoints are written atomically; a crash at any moment leaves the last
// complete one readable. One Trainer per run; not thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "train/adamw.h"
#include "train/dataset.h"
#include "train/training_net.h"

namespace mg::train {

struct TrainOptions {
  int64_t epochs = 5;
  size_t batch_size = 16;
  float lr = 5e-5f;
  double warmup = 0.1;  // fraction of all steps
  float weight_decay = 0.01f;
  double max_grad_norm = 1.0;
  uint64_t seed = 42;
  int64_t save_steps = 0;  // also checkpoint every this many steps (0: epoch ends only)
};

struct Progress {
  int64_t step = 0, total_steps = 0, epoch = 0;
  double loss = 0;  // running mean over the epoch so far
  double samples_per_second = 0;
  double eta_seconds = 0;
};

struct EpochReport {
  int64_t epoch = 0, step = 0;
  double train_loss = 0, eval_loss = 0, eval_accuracy = -1;  // accuracy -1: not single-label
  double samples_per_second = 0, seconds = 0;
};

// The state a checkpoint holds besides the parameters.
struct TrainState {
  std::vector<float> params;
  std::vector<float> adam_m, adam_v;
  int64_t step = 0;
};

// Writes/reads `dir`/trainer_state.safetensors (atomic write), with the
// precision of the run's products (`dtype`, recorded in the metadata).
Status SaveTrainState(const std::string& dir, const TrainState& state, uint64_t fingerprint,
                      kernels::GemmDtype dtype = kernels::GemmDtype::kF32);
// Fails unless the checkpoint's dtype (f32 when it records none), size and
// fingerprint match the run's; a dtype mismatch says which dtype to resume with.
Result<TrainState> LoadTrainState(const std::string& dir, size_t params, uint64_t fingerprint,
                                  kernels::GemmDtype dtype = kernels::GemmDtype::kF32);

class Trainer {
 public:
  struct Callbacks {
    std::function<void(const Progress&)> progress;  // after every step
    std::function<void(const EpochReport&)> epoch;  // after every epoch
    // After each checkpoint of the weights (e.g. to refresh the output folder).
    std::function<Status(const std::vector<float>& params)> saved;
  };

  Trainer(ParamLayout layout, NetOptions net_options, TrainOptions options);

  // Trains from `state` (fresh or loaded) until all epochs are done or `stop`
  // turns true; checkpoints into `checkpoint_dir`. On return `state` holds
  // the final weights. Returns true when training finished.
  Result<bool> Run(const LabelledSet& train, const LabelledSet& eval,
                   const std::string& checkpoint_dir, uint64_t fingerprint, TrainState* state,
                   const Callbacks& callbacks, const std::atomic<bool>* stop);

  // Mean loss and (single-label) accuracy of `params` over `set`.
  void Evaluate(const float* params, const LabelledSet& set, double* loss, double* accuracy);

 private:
  ParamLayout layout_;
  NetOptions net_options_;
  TrainOptions options_;
  std::unique_ptr<TrainingNet> net_;
};

}  // namespace mg::train
