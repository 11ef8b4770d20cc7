#include "train/trainer.h"

#include <charconv>
#include <chrono>
#include <cmath>

#include "base/file.h"
#include "model/checkpoint.h"
#include "model/safetensors_writer.h"
#include "train/loss.h"

namespace mg::train {
namespace {

constexpr char kStateFile[] = "trainer_state.safetensors";
constexpr uint64_t kStepDropoutSalt = 0x5eed;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

Status SaveTrainState(const std::string& dir, const TrainState& state, uint64_t fingerprint,
                      kernels::GemmDtype dtype) {
  const int64_t n = static_cast<int64_t>(state.params.size());
  std::vector<model::TensorToWrite> tensors(3);
  const std::vector<float>* sources[] = {&state.params, &state.adam_m, &state.adam_v};
  const char* names[] = {"params", "adam_m", "adam_v"};
  for (int i = 0; i < 3; ++i) {
    tensors[i].name = names[i];
    tensors[i].shape = {n};
    tensors[i].f32 = sources[i]->data();
  }
  return model::WriteSafetensors(JoinPath(dir, kStateFile), tensors,
                                 {{"step", std::to_string(state.step)},
                                  {"fingerprint", std::to_string(fingerprint)},
                                  {"dtype", kernels::GemmDtypeName(dtype)}});
}

Result<TrainState> LoadTrainState(const std::string& dir, size_t params, uint64_t fingerprint,
                                  kernels::GemmDtype dtype) {
  const std::string path = JoinPath(dir, kStateFile);
  if (!FileExists(path)) return NotFoundError("no checkpoint to resume from: " + path);
  MG_ASSIGN_OR_RETURN(model::Checkpoint checkpoint, model::Checkpoint::OpenFile(path));
  auto meta = checkpoint.metadata();
  // Checkpoints from before the dtype was recorded are f32 runs.
  const std::string saved_dtype = meta.count("dtype") ? meta["dtype"] : "f32";
  if (saved_dtype != kernels::GemmDtypeName(dtype))
    return InvalidArgumentError(path + " was written by a --dtype " + saved_dtype +
                                " run; a resumed run keeps its dtype: resume with --dtype " +
                                saved_dtype + " (not " + kernels::GemmDtypeName(dtype) + ")");
  if (meta["fingerprint"] != std::to_string(fingerprint))
    return InvalidArgumentError(path +
                                " was written for other data, model or options; start afresh "
                                "without --resume or give the original arguments");
  TrainState state;
  std::vector<float>* targets[] = {&state.params, &state.adam_m, &state.adam_v};
  const char* names[] = {"params", "adam_m", "adam_v"};
  for (int i = 0; i < 3; ++i) {
    const model::TensorRecord* record = checkpoint.Find(names[i]);
    if (record == nullptr || record->numel() != params)
      return CorruptionError(path + ": tensor \"" + names[i] + "\" missing or of the wrong size");
    MG_ASSIGN_OR_RETURN(*targets[i], checkpoint.ReadF32(*record));
  }
  const std::string& step = meta["step"];
  const auto [step_end, step_error] =
      std::from_chars(step.data(), step.data() + step.size(), state.step);
  if (step.empty() || step_error != std::errc() || step_end != step.data() + step.size() ||
      state.step < 0)
    return CorruptionError(path + ": bad step in metadata");
  return state;
}

Trainer::Trainer(ParamLayout layout, NetOptions net_options, TrainOptions options)
    : layout_(layout),
      net_options_(net_options),
      options_(options),
      net_(MakeTrainingNet(layout, net_options)) {}

void Trainer::Evaluate(const float* params, const LabelledSet& set, double* loss,
                       double* accuracy) {
  std::vector<size_t> order(set.examples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  TrainBatch batch;
  std::vector<float> dlogits;
  double total_loss = 0;
  size_t correct = 0;
  const size_t step = 64;
  for (size_t begin = 0; begin < order.size(); begin += step) {
    const size_t end = std::min(order.size(), begin + step);
    PackBatch(set, order, begin, end, &batch);
    if (begin == 0) net_->SetWeights(params);
    net_->Forward(params, batch, false, 0);
    const int64_t n = batch.sequences(), labels = layout_.labels;
    dlogits.resize(n * labels);
    total_loss += n * LossAndGradient(net_options_.problem, net_->logits().data(),
                                      batch.targets.data(), n, labels, dlogits.data());
    if (net_options_.problem != model::ProblemType::kSingleLabel) continue;
    for (int64_t s = 0; s < n; ++s) {
      const float* row = net_->logits().data() + s * labels;
      const int64_t best = std::max_element(row, row + labels) - row;
      correct += best == static_cast<int64_t>(batch.targets[s]);
    }
  }
  const double count = static_cast<double>(std::max<size_t>(1, order.size()));
  *loss = total_loss / count;
  *accuracy = net_options_.problem == model::ProblemType::kSingleLabel ? correct / count : -1;
}

Result<bool> Trainer::Run(const LabelledSet& train, const LabelledSet& eval,
                          const std::string& checkpoint_dir, uint64_t fingerprint,
                          TrainState* state, const Callbacks& callbacks,
                          const std::atomic<bool>* stop) {
  const size_t count = train.examples.size();
  if (count == 0) return InvalidArgumentError("no training examples");
  const int64_t per_epoch =
      static_cast<int64_t>((count + options_.batch_size - 1) / options_.batch_size);
  const int64_t total = per_epoch * options_.epochs;
  const int64_t warmup = static_cast<int64_t>(std::ceil(options_.warmup * total));
  if (state->step > total)
    return InvalidArgumentError("the checkpoint is at step " + std::to_string(state->step) +
                                ", past the " + std::to_string(total) + " steps of this run");
  AdamW optimizer(layout_, {0.9f, 0.999f, 1e-8f, options_.weight_decay});
  if (!state->adam_m.empty()) {
    optimizer.m() = state->adam_m;
    optimizer.v() = state->adam_v;
  }
  optimizer.set_step(state->step);
  std::vector<float> grads(layout_.total);
  auto save = [&]() -> Status {
    state->adam_m = optimizer.m();
    state->adam_v = optimizer.v();
    MG_RETURN_IF_ERROR(SaveTrainState(checkpoint_dir, *state, fingerprint, net_options_.dtype));
    if (callbacks.saved) return callbacks.saved(state->params);
    return Status::Ok();
  };
  TrainBatch batch;
  const auto started = std::chrono::steady_clock::now();
  int64_t steps_here = 0;
  size_t samples_here = 0;
  while (state->step < total) {
    const int64_t epoch = state->step / per_epoch;
    const std::vector<size_t> order = EpochOrder(count, options_.seed, epoch);
    const auto epoch_started = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t loss_count = 0;
    size_t epoch_samples = 0;
    for (int64_t b = state->step % per_epoch; b < per_epoch; ++b) {
      if (stop != nullptr && stop->load()) {
        MG_RETURN_IF_ERROR(save());
        return false;
      }
      const size_t begin = static_cast<size_t>(b) * options_.batch_size;
      const size_t end = std::min(count, begin + options_.batch_size);
      PackBatch(train, order, begin, end, &batch);
      // The weights changed in the last step (or were loaded): a bf16 net
      // rounds them once here.
      net_->SetWeights(state->params.data());
      net_->Forward(
          state->params.data(), batch, true,
          DropoutKey(options_.seed, static_cast<uint64_t>(state->step), kStepDropoutSalt));
      loss_sum += net_->Backward(state->params.data(), batch, grads.data());
      ++loss_count;
      const float clip =
          ClipCoefficient(GradNorm(grads.data(), grads.size()), options_.max_grad_norm);
      optimizer.Step(LinearScheduleLr(options_.lr, state->step, warmup, total), grads.data(),
                     state->params.data(), clip);
      ++state->step;
      ++steps_here;
      samples_here += end - begin;
      epoch_samples += end - begin;
      if (callbacks.progress) {
        Progress p;
        p.step = state->step;
        p.total_steps = total;
        p.epoch = epoch + 1;
        p.loss = loss_sum / loss_count;
        const double elapsed = Seconds(started);
        p.samples_per_second = samples_here / std::max(elapsed, 1e-9);
        p.eta_seconds = elapsed / steps_here * (total - state->step);
        callbacks.progress(p);
      }
      if (options_.save_steps > 0 && state->step % options_.save_steps == 0 &&
          state->step % per_epoch != 0)
        MG_RETURN_IF_ERROR(save());
    }
    EpochReport report;
    report.epoch = epoch + 1;
    report.step = state->step;
    report.train_loss = loss_count > 0 ? loss_sum / loss_count : 0;
    report.seconds = Seconds(epoch_started);
    report.samples_per_second = epoch_samples / std::max(report.seconds, 1e-9);
    if (!eval.examples.empty())
      Evaluate(state->params.data(), eval, &report.eval_loss, &report.eval_accuracy);
    MG_RETURN_IF_ERROR(save());
    if (callbacks.epoch) callbacks.epoch(report);
  }
  return true;
}

}  // namespace mg::train
