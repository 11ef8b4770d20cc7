// modelgate train: fine-tunes an encoder sequence classifier (BERT, DistilBERT,
// RoBERTa family) on labelled text
// (from an HF folder with --base, or from scratch with --init PRESET --vocab
// V) and writes an HF folder. The run itself is train::FineTune; this file
// reads the flags and prints. A summary line first, then a progress bar on
// a terminal and one JSON line per epoch (on stdout off a terminal).
// SIGINT/SIGTERM stop after the current step with a checkpoint that
// --resume continues from.
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/progress.h"
#include "base/file.h"
#include "data/records.h"
#include "kernels/gemm.h"
#include "kernels/gemm_bf16.h"
#include "train/fine_tune.h"
#include "train/hf_folder.h"

namespace mg::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

struct TrainArgs {
  std::string train, eval, base, init, vocab, out, format = "auto";
  std::string problem_type = "single_label_classification";
  // Unset: the default of the mode (fine-tuning or from scratch).
  std::optional<int64_t> epochs;
  std::optional<float> lr;
  std::optional<size_t> max_length;
  size_t batch_size = 16;
  double warmup = 0.1;
  float weight_decay = 0.01f;
  uint64_t seed = 42;
  double eval_fraction = 0.1;
  double max_grad_norm = 1.0;
  int64_t save_steps = 0;
  int threads = 0;
  int64_t lora_rank = 0;  // 0: full fine-tuning
  float lora_alpha = 0;   // 0: alpha = rank
  bool lora_rank_given = false, lora_alpha_given = false;
  bool resume = false;
  bool keep_checkpoint = false;
  bool cross_encoder = false;
  std::string dtype = "f32";
};

// Checks the flags that do not need the data; exits with a message naming
// the flag.
void CheckArgs(const TrainArgs& args) {
  if (args.base.empty() == args.init.empty())
    throw CliError("give exactly one of --base DIR (fine-tune) or --init PRESET (from scratch)");
  if (!args.init.empty() && args.vocab.empty())
    throw CliError("--init needs --vocab (a vocab.txt, tokenizer.json or model folder)");
  if (args.cross_encoder && args.problem_type != "single_label_classification")
    throw CliError(
        "--cross-encoder trains one logit with binary cross-entropy; drop --problem-type");
  if (args.lora_alpha_given && !args.lora_rank_given)
    throw CliError("--lora-alpha goes with --lora-rank");
  if (args.lora_rank_given) {
    if (args.lora_rank <= 0)
      throw CliError("--lora-rank must be a positive number of ranks (e.g. 8); got " +
                     std::to_string(args.lora_rank));
    if (args.base.empty())
      throw CliError("--lora-rank adapts a pretrained model: give it with --base (not --init)");
    if (!FileExists(JoinPath(args.base, "model.safetensors")))
      throw CliError("--lora-rank needs a base folder with model.safetensors; " + args.base +
                     " has none");
    if (args.lora_alpha_given && !(std::isfinite(args.lora_alpha) && args.lora_alpha > 0))
      throw CliError("--lora-alpha must be a positive number");
  }
  // Ranges on the command line let NaN through; a NaN or infinite
  // hyper-parameter would quietly train a NaN model.
  auto finite_at_least = [](double value, double low, bool strict, const char* name) {
    if (!std::isfinite(value) || value < low || (strict && value == low)) {
      throw CliError(std::string(name) + " must be a finite number " +
                     (strict ? "above " : "of at least ") + (low == 0 ? "0" : std::to_string(low)));
    }
  };
  if (args.lr) finite_at_least(*args.lr, 0, true, "--lr");
  finite_at_least(args.weight_decay, 0, false, "--weight-decay");
  finite_at_least(args.max_grad_norm, 0, false, "--max-grad-norm");
  finite_at_least(args.warmup, 0, false, "--warmup");
  finite_at_least(args.eval_fraction, 0, false, "--eval-fraction");
}

train::FineTuneOptions ToOptions(const TrainArgs& args) {
  train::FineTuneOptions options;
  options.train_path = args.train;
  options.eval_path = args.eval;
  options.format = ValueOrThrow(data::ParseRecordFormat(args.format));
  options.base = args.base;
  options.init = args.init;
  options.vocab = args.vocab;
  options.out = args.out;
  options.problem = ValueOrThrow(train::ParseProblemType(args.problem_type));
  options.cross_encoder = args.cross_encoder;
  options.lr = args.lr;
  options.epochs = args.epochs;
  options.max_length = args.max_length;
  options.batch_size = args.batch_size;
  options.warmup = args.warmup;
  options.weight_decay = args.weight_decay;
  options.max_grad_norm = args.max_grad_norm;
  options.seed = args.seed;
  options.save_steps = args.save_steps;
  options.eval_fraction = args.eval_fraction;
  options.lora = {args.lora_rank, args.lora_alpha};
  options.resume = args.resume;
  options.keep_checkpoint = args.keep_checkpoint;
  options.dtype = ValueOrThrow(kernels::ParseGemmDtype(args.dtype));
  return options;
}

// "from scratch (tiny preset): 4338 training examples, 480 for evaluation,
// 2 labels; 3 epochs of 272 steps, lr 0.001, up to 256 tokens per example
// (from-scratch defaults of --lr, --epochs and --max-length)"
std::string Summary(const train::FineTunePlan& plan, const TrainArgs& args) {
  std::string line =
      plan.from_scratch ? "from scratch (" + args.init + " preset)" : "fine-tuning " + args.base;
  if (args.lora_rank > 0) line += " with a LoRA adapter of rank " + std::to_string(args.lora_rank);
  char numbers[256];
  std::snprintf(numbers, sizeof(numbers),
                ": %zu training examples, %zu for evaluation, %zu labels; %lld epochs of %lld "
                "steps, lr %g, up to %zu tokens per example, dtype %s",
                plan.train_examples, plan.eval_examples, plan.config.labels.size(),
                static_cast<long long>(plan.train.epochs),
                static_cast<long long>(plan.steps_per_epoch), plan.train.lr, plan.max_length,
                kernels::GemmDtypeName(plan.dtype));
  line += numbers;
  std::string defaulted;
  auto add = [&](bool is_default, const char* flag) {
    if (!is_default) return;
    if (!defaulted.empty()) defaulted += ", ";
    defaulted += flag;
  };
  add(plan.default_lr, "--lr");
  add(plan.default_epochs, "--epochs");
  add(plan.default_max_length, "--max-length");
  if (!defaulted.empty()) {
    const size_t last = defaulted.rfind(", ");
    if (last != std::string::npos) defaulted.replace(last, 2, " and ");
    line += std::string(" (") + (plan.from_scratch ? "from-scratch" : "fine-tuning") +
            " defaults of " + defaulted + ")";
  }
  if (plan.start_step > 0)
    line += "; resuming at step " + std::to_string(plan.start_step) + " of " +
            std::to_string(plan.total_steps);
  return line;
}

std::string EpochLine(const train::EpochReport& r) {
  char line[512];
  std::snprintf(line, sizeof(line),
                "{\"epoch\":%lld,\"step\":%lld,\"train_loss\":%.6g,\"eval_loss\":%.6g,"
                "\"eval_accuracy\":%.6g,\"samples_per_second\":%.4g,\"seconds\":%.4g}",
                static_cast<long long>(r.epoch), static_cast<long long>(r.step), r.train_loss,
                r.eval_loss, r.eval_accuracy, r.samples_per_second, r.seconds);
  return line;
}

void RunTrain(const TrainArgs& args) {
  CheckArgs(args);
  kernels::SetThreads(args.threads);
  const train::FineTuneOptions options = ToOptions(args);

  std::unique_ptr<ProgressBar> bar;
  int64_t epochs = 0;
  train::FineTuneCallbacks callbacks;
  callbacks.plan = [&](const train::FineTunePlan& plan) {
    std::fprintf(stderr, "%s\n", Summary(plan, args).c_str());
    epochs = plan.train.epochs;
    bar = std::make_unique<ProgressBar>("train", kSteps, plan.total_steps, ProgressMode::kAuto,
                                        plan.start_step);
  };
  callbacks.progress = [&](const train::Progress& p) {
    char note[128];
    std::snprintf(note, sizeof(note), "epoch %lld/%lld  loss %.4f  %.1f samples/s",
                  static_cast<long long>(p.epoch), static_cast<long long>(epochs), p.loss,
                  p.samples_per_second);
    bar->Update(static_cast<uint64_t>(p.step), note);
  };
  callbacks.epoch = [&](const train::EpochReport& r) {
    const std::string line = EpochLine(r);
    if (bar->enabled()) {
      bar->Message(line);
    } else {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  };
  g_stop.store(false);
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  struct sigaction old_int = {}, old_term = {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  auto result = train::FineTune(options, callbacks, &g_stop);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (bar) bar->Finish();
  if (!result.ok()) throw CliError(result.status().message());
  if (!result->finished) {
    throw CliError("stopped at step " + std::to_string(result->step) + "; checkpoint in " +
                       result->checkpoint_dir + " (continue with --resume)",
                   130);
  }
  if (bar->enabled()) std::fprintf(stderr, "model written to %s\n", args.out.c_str());
}

std::string ModeDefault(const char* what, const std::string& fine_tune,
                        const std::string& from_scratch) {
  return std::string(what) + " (default: " + fine_tune + " to fine-tune a --base,\n" +
         from_scratch + " from scratch with --init)";
}

}  // namespace

void RegisterTrain(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Fine-tune a sequence classifier (BERT, DistilBERT, RoBERTa, XLM-RoBERTa, CamemBERT)\n"
      "on labelled text (JSON lines or CSV with \"text\", optional \"text_pair\", and \"label\"),\n"
      "or train one from scratch, and write a Hugging Face folder (config.json with id2label,\n"
      "model.safetensors, tokenizer files).\n"
      "Labels: any string (single-label), names joined by '|' (multi-label), or a number\n"
      "(regression). With --cross-encoder, each line is a (query, passage) pair {\"text\",\n"
      "\"text_pair\", \"label\"} whose label is a relevance in [0, 1]: one logit learns it with\n"
      "binary cross-entropy, and the folder (num_labels 1) reranks with sigmoid scores in\n"
      "classify, /predict and /rerank.\n"
      "Without --eval, a fixed share of the training file is held out.\n"
      "On a terminal a progress bar shows loss, throughput and ETA; otherwise one JSON line per\n"
      "epoch goes to standard output. Ctrl-C or SIGTERM stops after the current step and leaves\n"
      "a checkpoint in OUT/checkpoint; run the same command with --resume to continue.\n"
      "--lr, --epochs and --max-length default by mode: a small learning rate for fine-tuning\n"
      "a pretrained --base; a larger one, fewer epochs and longer inputs for --init (from\n"
      "scratch). The first line on stderr says which values are in force.\n"
      "--init presets: tiny (2 layers, 128 hidden), mini (4, 256), small (4, 512), base\n"
      "(12, 768) as BERT; distilbert-SIZE, roberta-SIZE and modernbert-SIZE give the same\n"
      "shape in that family (e.g. --init distilbert-tiny with a vocab.txt, --init\n"
      "roberta-tiny or modernbert-tiny with a byte-level BPE tokenizer.json or folder).\n"
      "With --lora-rank R the base's encoder stays frozen and a low-rank adapter on every\n"
      "layer's query and value projections (ModernBERT: its fused Wqkv) trains with the\n"
      "head; OUT then holds the base's model.safetensors unchanged plus\n"
      "adapter_model.safetensors and adapter_config.json (PEFT's format), which classify,\n"
      "embed, serve and release apply.");
  cmd->add_option("--train", args->train, "Training data (JSON lines or CSV)")->required();
  cmd->add_option("--eval", args->eval, "Evaluation data (default: hold out --eval-fraction)");
  cmd->add_option("--base", args->base, "HF model folder to fine-tune");
  cmd->add_option("--init", args->init,
                  "Train from scratch: tiny, mini, small or base (BERT), or the same size "
                  "with distilbert-, roberta- or modernbert- in front (distilbert-tiny, "
                  "roberta-mini, modernbert-small, ...)");
  cmd->add_option("--vocab", args->vocab,
                  "Vocabulary for --init: vocab.txt, tokenizer.json or "
                  "a model folder");
  cmd->add_option("--out", args->out, "Output folder")->required();
  const train::ModeDefaults tune = train::kFineTuneDefaults, scratch = train::kFromScratchDefaults;
  auto number = [](double value) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%g", value);
    return std::string(buf);
  };
  cmd->add_option_function<int64_t>(
         "--epochs", [args](int64_t epochs) { args->epochs = epochs; },
         ModeDefault("Passes over the training data", number(tune.epochs), number(scratch.epochs)))
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-size", args->batch_size, "Examples per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option_function<float>(
      "--lr", [args](float lr) { args->lr = lr; },
      ModeDefault("Peak learning rate", number(tune.lr), number(scratch.lr)));
  cmd->add_option_function<size_t>(
         "--max-length", [args](size_t length) { args->max_length = length; },
         ModeDefault("Tokens per example, longer are truncated", number(tune.max_length),
                     number(scratch.max_length)))
      ->check(CLI::Range(3, 1 << 20));
  cmd->add_option("--warmup", args->warmup,
                  "Warm-up share of all steps (linear, then linear decay)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--weight-decay", args->weight_decay, "AdamW decoupled weight decay")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of initialisation, order, dropout and split")
      ->capture_default_str();
  cmd->add_option("--problem-type", args->problem_type,
                  "single_label_classification, multi_label_classification or regression")
      ->capture_default_str();
  cmd->add_flag("--cross-encoder", args->cross_encoder,
                "Train a cross-encoder (reranker): one label scoring (text, text_pair) pairs,\n"
                "relevance labels in [0, 1], binary cross-entropy on the logit");
  cmd->add_option("--eval-fraction", args->eval_fraction, "Share held out when --eval is absent")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  cmd->add_option("--max-grad-norm", args->max_grad_norm, "Gradient clipping (0: off)")
      ->capture_default_str();
  cmd->add_option("--save-steps", args->save_steps, "Also checkpoint every N steps (0: per epoch)")
      ->capture_default_str();
  cmd->add_option("--format", args->format, "Input format: auto, jsonl or csv")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option_function<int64_t>(
      "--lora-rank",
      [args](int64_t rank) {
        args->lora_rank = rank;
        args->lora_rank_given = true;
      },
      "Train a LoRA adapter of this rank on the attention query and value projections, the\n"
      "encoder frozen (needs --base with model.safetensors)");
  cmd->add_option_function<float>(
      "--lora-alpha",
      [args](float alpha) {
        args->lora_alpha = alpha;
        args->lora_alpha_given = true;
      },
      "LoRA scale numerator: the update is (alpha / rank) B A (default: alpha = rank)");
  cmd->add_option("--dtype", args->dtype,
                  "Precision of the matrix products: f32, or bf16 (bf16 operands, F32\n"
                  "accumulation; needs AVX512_BF16). Weights, optimizer state, LayerNorm,\n"
                  "softmax and loss stay F32, and the written folder is F32 either way")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "bf16"}));
  cmd->add_flag("--resume", args->resume, "Continue the run checkpointed in OUT/checkpoint");
  cmd->add_flag("--keep-checkpoint", args->keep_checkpoint,
                "Keep OUT/checkpoint (weights and optimizer state) after training");
  cmd->callback([args] { RunTrain(*args); });
}

}  // namespace mg::cli
