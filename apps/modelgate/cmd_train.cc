// modelgate train: fine-tunes a BERT sequence classifier on labelled text
// (from an HF folder with --base, or from scratch with --init PRESET --vocab
// V) and writes an HF folder. Progress bar on a terminal, one JSON line per
// epoch otherwise. SIGINT/SIGTERM stop after the current step with a
// checkpoint that --resume continues from.
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "base/file.h"
#include "data/records.h"
#include "kernels/gemm.h"
#include "model/checkpoint.h"
#include "text/tokenizer.h"
#include "train/dataset.h"
#include "train/hf_folder.h"
#include "train/lora_folder.h"
#include "train/params.h"
#include "train/trainer.h"

namespace mg::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

struct TrainArgs {
  std::string train, eval, base, init, vocab, out, format = "auto";
  std::string problem_type = "single_label_classification";
  int64_t epochs = 5;
  size_t batch_size = 16;
  float lr = 5e-5f;
  size_t max_length = 128;
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
};

uint64_t Fnv(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string Clock(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

void PrintBar(const train::Progress& p, int64_t epochs) {
  const int width = 30;
  const int filled = static_cast<int>(width * p.step / std::max<int64_t>(1, p.total_steps));
  std::string bar(filled, '#');
  bar.append(width - filled, '.');
  std::fprintf(stderr, "\repoch %lld/%lld [%s] %lld/%lld loss %.4f %.1f samples/s ETA %s ",
               static_cast<long long>(p.epoch), static_cast<long long>(epochs), bar.c_str(),
               static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss,
               p.samples_per_second, Clock(p.eta_seconds).c_str());
  std::fflush(stderr);
}

void RunTrain(const TrainArgs& args) {
  if (args.base.empty() == args.init.empty())
    throw CliError("give exactly one of --base DIR (fine-tune) or --init PRESET (from scratch)");
  if (!args.init.empty() && args.vocab.empty())
    throw CliError("--init needs --vocab (a vocab.txt, tokenizer.json or model folder)");
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
  finite_at_least(args.lr, 0, true, "--lr");
  finite_at_least(args.weight_decay, 0, false, "--weight-decay");
  finite_at_least(args.max_grad_norm, 0, false, "--max-grad-norm");
  finite_at_least(args.warmup, 0, false, "--warmup");
  finite_at_least(args.eval_fraction, 0, false, "--eval-fraction");
  kernels::SetThreads(args.threads);
  const model::ProblemType problem = ValueOrThrow(train::ParseProblemType(args.problem_type));
  const data::RecordFormat format = ValueOrThrow(data::ParseRecordFormat(args.format));
  std::vector<data::Record> train_records = ValueOrThrow(data::ReadRecords(args.train, format));
  std::vector<data::Record> eval_records;
  if (!args.eval.empty()) {
    eval_records = ValueOrThrow(data::ReadRecords(args.eval, format));
  } else if (args.eval_fraction > 0) {
    train::SplitForEval(&train_records, args.eval_fraction, args.seed, &eval_records);
  }
  if (train_records.empty()) throw CliError(args.train + ": no training examples");

  const std::string tokenizer_source = args.base.empty() ? args.vocab : args.base;
  const text::Tokenizer tokenizer = ValueOrThrow(text::Tokenizer::Load(tokenizer_source));
  model::BertConfig config;
  std::vector<std::string> base_labels;
  if (!args.base.empty()) {
    config = ValueOrThrow(model::ReadBertConfig(JoinPath(args.base, "config.json")));
    base_labels = config.labels;
  } else {
    config = ValueOrThrow(train::PresetConfig(args.init, tokenizer.vocab().size()));
    config.pad_token_id = tokenizer.pad_id();
  }
  config.problem_type = problem;
  const std::vector<std::string> labels =
      ValueOrThrow(train::CollectLabels(train_records, problem, args.train));
  config.labels = labels;
  const size_t max_length =
      std::min(args.max_length, static_cast<size_t>(config.max_position_embeddings));
  const train::LabelledSet train_set = ValueOrThrow(
      train::EncodeRecords(train_records, tokenizer, labels, problem, max_length, args.train));
  const std::string eval_name = args.eval.empty() ? args.train + " (held out)" : args.eval;
  const train::LabelledSet eval_set = ValueOrThrow(
      train::EncodeRecords(eval_records, tokenizer, labels, problem, max_length, eval_name));

  if (args.lora_rank > config.hidden_size)
    throw CliError("--lora-rank " + std::to_string(args.lora_rank) +
                   " exceeds the model's hidden_size (" + std::to_string(config.hidden_size) +
                   "); a low-rank adapter needs a rank below it");
  const train::ParamLayout layout =
      train::ParamLayout::For(config, labels.size(), {args.lora_rank, args.lora_alpha});
  train::TrainOptions options;
  options.epochs = args.epochs;
  options.batch_size = args.batch_size;
  options.lr = args.lr;
  options.warmup = args.warmup;
  options.weight_decay = args.weight_decay;
  options.max_grad_norm = args.max_grad_norm;
  options.seed = args.seed;
  options.save_steps = args.save_steps;
  train::NetOptions net_options;
  net_options.layer_norm_eps = config.layer_norm_eps;
  net_options.problem = problem;

  uint64_t data_hash = 1469598103934665603ULL;
  for (const auto& e : train_set.examples) {
    for (int32_t id : e.ids) data_hash = (data_hash ^ static_cast<uint32_t>(id)) * 1099511628211ULL;
    data_hash = (data_hash ^ 0xffffffffu) * 1099511628211ULL;
  }
  std::string identity = train::ConfigJson(config, labels);
  identity.append(std::to_string(data_hash) + "/" + std::to_string(args.epochs) + "/" +
                  std::to_string(args.batch_size) + "/" + std::to_string(args.lr) + "/" +
                  std::to_string(args.seed) + "/" + std::to_string(args.warmup) + "/" +
                  std::to_string(max_length) + "/" + args.base + "/" + args.init);
  if (layout.has_lora())
    identity.append("/lora/" + std::to_string(layout.lora_rank) + "/" +
                    std::to_string(layout.lora_alpha));
  const uint64_t fingerprint = Fnv(identity);

  const std::string checkpoint_dir = JoinPath(args.out, "checkpoint");
  std::error_code ec;
  std::filesystem::create_directories(checkpoint_dir, ec);
  if (ec) throw CliError("cannot create " + checkpoint_dir + ": " + ec.message());
  // A run killed mid-save leaves hidden temporary files; they are never
  // read, and cleared here so they do not pile up.
  RemoveStaleTempFiles(args.out);
  RemoveStaleTempFiles(checkpoint_dir);
  train::TrainState state;
  if (args.resume) {
    state = ValueOrThrow(train::LoadTrainState(checkpoint_dir, layout.total, fingerprint));
  } else {
    if (FileExists(JoinPath(checkpoint_dir, "trainer_state.safetensors")))
      throw CliError(args.out +
                     " holds an unfinished run; continue it with --resume or choose "
                     "another --out");
    train::InitParams(layout, config.pad_token_id, args.seed, &state.params);
    if (!args.base.empty()) {
      const model::Checkpoint checkpoint = ValueOrThrow(model::Checkpoint::OpenFolder(args.base));
      // The base's classifier head is kept only for the very same labels.
      ThrowIfError(
          train::LoadParams(checkpoint, config, layout, &state.params, base_labels == labels));
    }
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  train::Trainer::Callbacks callbacks;
  if (tty) callbacks.progress = [&](const train::Progress& p) { PrintBar(p, args.epochs); };
  callbacks.epoch = [&](const train::EpochReport& r) {
    char line[512];
    std::snprintf(line, sizeof(line),
                  "{\"epoch\":%lld,\"step\":%lld,\"train_loss\":%.6g,\"eval_loss\":%.6g,"
                  "\"eval_accuracy\":%.6g,\"samples_per_second\":%.4g,\"seconds\":%.4g}",
                  static_cast<long long>(r.epoch), static_cast<long long>(r.step), r.train_loss,
                  r.eval_loss, r.eval_accuracy, r.samples_per_second, r.seconds);
    if (tty) {
      std::fprintf(stderr, "\n%s\n", line);
    } else {
      std::printf("%s\n", line);
      std::fflush(stdout);
    }
  };
  callbacks.saved = [&](const std::vector<float>& params) {
    if (layout.has_lora()) {
      return train::WriteLoraFolder(args.out, args.base, config, labels, layout, params.data(),
                                    tokenizer, tokenizer_source);
    }
    return train::WriteHfFolder(args.out, config, labels, layout, params.data(), tokenizer,
                                tokenizer_source);
  };
  g_stop.store(false);
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  struct sigaction old_int = {}, old_term = {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  train::Trainer trainer(layout, net_options, options);
  auto finished =
      trainer.Run(train_set, eval_set, checkpoint_dir, fingerprint, &state, callbacks, &g_stop);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!finished.ok()) throw CliError(finished.status().message());
  if (!*finished) {
    throw CliError("stopped at step " + std::to_string(state.step) + "; checkpoint in " +
                       checkpoint_dir + " (continue with --resume)",
                   130);
  }
  if (!args.keep_checkpoint) std::filesystem::remove_all(checkpoint_dir, ec);
  if (tty) std::fprintf(stderr, "model written to %s\n", args.out.c_str());
}

}  // namespace

void RegisterTrain(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Fine-tune a BERT sequence classifier on labelled text (JSON lines or CSV with \"text\",\n"
      "optional \"text_pair\", and \"label\"), or train one from scratch, and write a Hugging "
      "Face\n"
      "folder (config.json with id2label, model.safetensors, tokenizer files).\n"
      "Labels: any string (single-label), names joined by '|' (multi-label), or a number\n"
      "(regression). Without --eval, a fixed share of the training file is held out.\n"
      "On a terminal a progress bar shows loss, throughput and ETA; otherwise one JSON line per\n"
      "epoch goes to standard output. Ctrl-C or SIGTERM stops after the current step and leaves\n"
      "a checkpoint in OUT/checkpoint; run the same command with --resume to continue.\n"
      "With --lora-rank R the base's encoder stays frozen and a low-rank adapter on every\n"
      "layer's query and value projections trains with the head; OUT then holds the base's\n"
      "model.safetensors unchanged plus adapter_model.safetensors and adapter_config.json\n"
      "(PEFT's format), which classify, embed, serve and release apply.");
  cmd->add_option("--train", args->train, "Training data (JSON lines or CSV)")->required();
  cmd->add_option("--eval", args->eval, "Evaluation data (default: hold out --eval-fraction)");
  cmd->add_option("--base", args->base, "HF model folder to fine-tune");
  cmd->add_option("--init", args->init, "Train from scratch: tiny, mini, small or base");
  cmd->add_option("--vocab", args->vocab,
                  "Vocabulary for --init: vocab.txt, tokenizer.json or "
                  "a model folder");
  cmd->add_option("--out", args->out, "Output folder")->required();
  cmd->add_option("--epochs", args->epochs, "Passes over the training data")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-size", args->batch_size, "Examples per step")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--lr", args->lr, "Peak learning rate")->capture_default_str();
  cmd->add_option("--max-length", args->max_length, "Tokens per example (longer are truncated)")
      ->capture_default_str()
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
  cmd->add_flag("--resume", args->resume, "Continue the run checkpointed in OUT/checkpoint");
  cmd->add_flag("--keep-checkpoint", args->keep_checkpoint,
                "Keep OUT/checkpoint (weights and optimizer state) after training");
  cmd->callback([args] { RunTrain(*args); });
}

}  // namespace mg::cli
