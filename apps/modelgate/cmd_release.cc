// modelgate release open|closed|hybrid: a signed open release of a Hugging
// Face folder, an encrypted bundle only one deployment opens, or both halves
// of a hybrid release (docs/release-formats.md).
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/dtype_option.h"
#include "apps/modelgate/inference_input.h"
#include "apps/modelgate/precision_compare.h"
#include "base/env.h"
#include "base/file.h"
#include "kernels/gemm.h"
#include "release/closed_release.h"
#include "release/encoding.h"
#include "release/keys.h"
#include "release/open_release.h"
#include "release/precision_report.h"

namespace mg::cli {
namespace {

void PrintNotes(const std::vector<std::string>& notes) {
  for (const std::string& note : notes) std::fprintf(stderr, "note: %s\n", note.c_str());
}

// --dtype and --validate: quantise-then-validate (release/precision_report.h).
struct PrecisionArgs {
  std::string dtype;     // empty: the release runs in F32 unless the deployment says otherwise
  std::string validate;  // labelled data (or texts, for an encoder)
  std::string format = "auto";
  double max_accuracy_drop = 0.5;  // points
  double min_cosine = -1;          // < 0: 0.99 for int8, 0.999 for bf16
  size_t batch_size = 32;
};

void AddPrecisionOptions(CLI::App* cmd, PrecisionArgs* args) {
  cmd->add_option("--dtype", args->dtype,
                  "Validated precision of the release: bf16 or int8. Needs --validate; the\n"
                  "signed release records it with the report, and deployments run in it unless\n"
                  "their --dtype says otherwise")
      ->check(CLI::IsMember({"bf16", "int8"}));
  cmd->add_option("--validate", args->validate,
                  "Data (JSON lines or CSV with \"text\" and, for a classifier, \"label\") on\n"
                  "which the model is run in F32 and in --dtype before release; the comparison\n"
                  "is signed into the release (precision.json)");
  cmd->add_option("--validate-format", args->format, "Format of --validate: auto, jsonl or csv")
      ->capture_default_str();
  cmd->add_option("--max-accuracy-drop", args->max_accuracy_drop,
                  "Refuse to release when --dtype loses more accuracy than this, in points")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--min-cosine", args->min_cosine,
                  "Refuse to release when an embedding's cosine to F32 is below this (default "
                  "0.99 for int8, 0.999 for bf16)")
      ->check(CLI::Range(-1.0, 1.0));
}

// A scratch copy of a model folder, removed when it goes out of scope.
class ScratchCopy {
 public:
  ~ScratchCopy() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  void Create(const std::string& from) {
    path_ = ValueOrThrow(CreateTempDirectory(
        (std::filesystem::temp_directory_path() / "modelgate-validated-").string()));
    std::error_code ec;
    std::filesystem::copy(from, path_, std::filesystem::copy_options::recursive, ec);
    if (ec) throw CliError("cannot copy " + from + ": " + ec.message());
  }

 private:
  std::string path_;
};

std::string FolderName(const std::string& dir) {
  std::filesystem::path path(dir);
  if (!path.has_filename()) path = path.parent_path();
  return path.filename().string();
}

// With --dtype: runs the model in F32 and in the dtype on the validation
// data, refuses a release that loses more than the limits allow, and returns
// a copy of the folder with the signed-to-be precision.json in `scratch`.
// Without: the folder as it is.
std::string ValidatedFolder(const PrecisionArgs& args, const std::string& model_dir,
                            ScratchCopy* scratch) {
  if (args.dtype.empty() != args.validate.empty())
    throw CliError(
        "--dtype and --validate go together: a release in reduced precision ships "
        "with the measured comparison to F32");
  if (args.dtype.empty()) return model_dir;
  if (FileExists(JoinPath(model_dir, release::kPrecisionFile)))
    throw CliError(model_dir + " already holds " + release::kPrecisionFile +
                   "; release from the F32 training output");
  const auto records = ReadInferenceInput(args.validate, args.format, "text");
  if (records.empty()) throw CliError(args.validate + ": no examples");
  std::fprintf(stderr, "validating %s against f32 on %zu examples of %s\n", args.dtype.c_str(),
               records.size(), args.validate.c_str());
  const PrecisionComparison compare{model_dir,           args.validate, args.dtype, "f32",
                                    args.batch_size,
                                    /*embeddings=*/false};
  release::PrecisionReport report;
  report.dtype = ValueOrThrow(kernels::ParsePrecision(args.dtype));
  report.comparison_json = ComparePrecisions(compare, records);
  report.examples = static_cast<int64_t>(records.size());
  report.data = FolderName(args.validate);
  uint64_t size = 0;
  report.data_sha256 = ValueOrThrow(release::Sha256FileHex(args.validate, &size));
  std::fprintf(stderr, "%s\n", release::DescribePrecisionReport(report).c_str());

  const nlohmann::json c = nlohmann::json::parse(report.comparison_json);
  if (c.contains("accuracy_delta")) {
    const double drop = -100.0 * c["accuracy_delta"].get<double>();
    if (drop > args.max_accuracy_drop) {
      char buf[200];
      std::snprintf(buf, sizeof(buf),
                    "%s loses %.2f points of accuracy on %s (limit %.2f, --max-accuracy-drop); "
                    "nothing released",
                    args.dtype.c_str(), drop, args.validate.c_str(), args.max_accuracy_drop);
      throw CliError(buf);
    }
  }
  if (c.contains("cosine")) {
    const double floor =
        args.min_cosine >= 0 ? args.min_cosine : (args.dtype == "int8" ? 0.99 : 0.999);
    const double min = c["cosine"]["min"].get<double>();
    if (min < floor) {
      char buf[200];
      std::snprintf(buf, sizeof(buf),
                    "%s embeddings reach cosine %.8f to F32 on %s (limit %.8f, --min-cosine); "
                    "nothing released",
                    args.dtype.c_str(), min, args.validate.c_str(), floor);
      throw CliError(buf);
    }
  }
  scratch->Create(model_dir);
  ThrowIfError(WriteFileAtomic(JoinPath(scratch->path(), release::kPrecisionFile),
                               release::PrecisionReportToJson(report), 0644));
  return scratch->path();
}

struct OpenArgs {
  std::string model;
  std::string out;
  std::string license;
  std::string sign;
  std::string model_id;
  std::string base_model;
  std::string passphrase_env;
  std::string fingerprint;
  std::string fingerprint_data;
  std::string registry;
  size_t triggers = release::kDefaultTriggers;
  int64_t fingerprint_epochs = 5;
  std::optional<float> fingerprint_lr;
  int threads = 0;
  PrecisionArgs precision;
};

void RunOpen(const OpenArgs& args) {
  const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  const release::SigningKey key = ValueOrThrow(release::SigningKey::Load(args.sign, passphrase));
  kernels::SetThreads(args.threads);
  ScratchCopy scratch;
  release::OpenReleaseOptions options;
  options.model_dir = ValidatedFolder(args.precision, args.model, &scratch);
  options.out_dir = args.out;
  options.spdx_license = args.license;
  options.model_id = args.model_id.empty() ? FolderName(args.model) : args.model_id;
  options.base_model = args.base_model;
  options.fingerprint = args.fingerprint;
  options.registry = args.registry;
  if (!args.fingerprint_data.empty()) {
    release::TriggerEmbedOptions trigger;
    trigger.clean_data = args.fingerprint_data;
    trigger.triggers = args.triggers;
    trigger.epochs = args.fingerprint_epochs;
    trigger.lr = args.fingerprint_lr;
    options.trigger_set = trigger;
  }
  kernels::SetThreads(args.threads);
  options.now = Env::Default()->NowSeconds();
  std::vector<std::string> notes;
  const release::Manifest manifest = ValueOrThrow(release::CreateOpenRelease(options, key, &notes));
  PrintNotes(notes);
  std::printf("released %s (open, %s) to %s: %zu files, manifest signed by key %s\n",
              manifest.model_id.c_str(), manifest.license.c_str(), args.out.c_str(),
              manifest.files.size(), key.key_id().c_str());
}

struct BundleArgs {
  std::string model;
  std::string out;
  std::string base_out;
  std::string license;
  std::string sign;
  std::string to;
  std::string model_id;
  std::string passphrase_env;
  bool require_licence = false;
  PrecisionArgs precision;
};

std::chrono::sys_seconds Now() { return Env::Default()->NowSeconds(); }

release::SigningKey LoadVendorKey(const BundleArgs& args) {
  const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  return ValueOrThrow(release::SigningKey::Load(args.sign, passphrase));
}

void RunClosed(const BundleArgs& args) {
  const release::SigningKey key = LoadVendorKey(args);
  const release::DeployPublicKey deploy = ValueOrThrow(release::DeployPublicKey::Load(args.to));
  ScratchCopy scratch;
  release::ClosedReleaseOptions options;
  options.model_dir = ValidatedFolder(args.precision, args.model, &scratch);
  options.out_path = args.out;
  options.model_id = args.model_id.empty() ? FolderName(args.model) : args.model_id;
  options.license = args.license;
  options.require_licence = args.require_licence;
  options.now = Now();
  std::vector<std::string> notes;
  const release::BundleMetadata m =
      ValueOrThrow(release::CreateClosedRelease(options, key, deploy, &notes));
  PrintNotes(notes);
  std::printf(
      "released %s (closed%s) to %s: %zu files sealed to deployment key %s, signed by "
      "key %s\n",
      m.model_id.c_str(), m.require_licence ? ", licence required" : "", args.out.c_str(),
      m.files.size(), m.deploy_key_id.c_str(), key.key_id().c_str());
}

void RunHybrid(const BundleArgs& args) {
  const release::SigningKey key = LoadVendorKey(args);
  const release::DeployPublicKey deploy = ValueOrThrow(release::DeployPublicKey::Load(args.to));
  ScratchCopy scratch;
  release::HybridReleaseOptions options;
  options.model_dir = ValidatedFolder(args.precision, args.model, &scratch);
  options.base_out = args.base_out;
  options.head_out = args.out;
  options.model_id = args.model_id.empty() ? FolderName(args.model) : args.model_id;
  options.license = args.license;
  options.require_licence = args.require_licence;
  options.now = Now();
  std::vector<std::string> notes;
  const release::BundleMetadata m =
      ValueOrThrow(release::CreateHybridRelease(options, key, deploy, &notes));
  PrintNotes(notes);
  std::printf(
      "released %s (hybrid): open base %s to %s, head sealed to deployment key %s in %s, "
      "signed by key %s\n",
      m.model_id.c_str(), m.base_model_id.c_str(), args.base_out.c_str(), m.deploy_key_id.c_str(),
      args.out.c_str(), key.key_id().c_str());
}

}  // namespace

void RegisterRelease(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("release", "Release a model (open, closed or hybrid)");
  cmd->require_subcommand(1);
  auto args = std::make_shared<OpenArgs>();
  CLI::App* open = cmd->add_subcommand(
      "open",
      "Copy a Hugging Face model folder to --out with LICENSE, a README.md model card and a\n"
      "manifest.json of every file's size and SHA-256, signed (manifest.sig) with --sign.\n"
      "A LoRA adapter (adapter_config.json, adapter_model.safetensors) is carried as it is,\n"
      "for PEFT's PeftModel.from_pretrained; modelgate merges it on load.");
  open->add_option("--model", args->model, "Model folder (config.json, weights, tokenizer files)")
      ->required();
  open->add_option("--out", args->out, "Release folder to create (must not exist, or be empty)")
      ->required();
  open->add_option("--license", args->license, "SPDX licence id, e.g. Apache-2.0 or MIT")
      ->required();
  open->add_option("--sign", args->sign, "Vendor secret key (from keygen)")->required();
  open->add_option("--model-id", args->model_id, "Model id (default: the model folder's name)");
  open->add_option("--base-model", args->base_model, "Base model named in the model card");
  open->add_option("--passphrase-env", args->passphrase_env,
                   "Environment variable holding the --sign key's passphrase");
  open->add_option("--fingerprint", args->fingerprint,
                   "Hide this recipient's name (1-32 bytes) in the weights, so a leaked copy\n"
                   "can be traced with `modelgate trace`. Alone: an exact mark in the low\n"
                   "mantissa bits, lost to any edit of the weights. With --fingerprint-data\n"
                   "(classifiers): also a trigger set of keyed texts the copy is trained to\n"
                   "answer with keyed labels, which survives F16/BF16/int8 conversion, noise,\n"
                   "pruning and fine-tuning (docs/threat-model.md)");
  open->add_option("--fingerprint-data", args->fingerprint_data,
                   "Clean texts (JSON lines or CSV, as for train) mixed with the trigger set;\n"
                   "the training data keeps accuracy best. Without labels, the model's own\n"
                   "predictions label them");
  open->add_option("--fingerprint-registry", args->registry,
                   "Vendor's recipient registry (JSON) to record the recipient in; trace\n"
                   "--registry reads it. Keep it private: it names every recipient");
  open->add_option("--fingerprint-triggers", args->triggers, "Trigger texts per recipient")
      ->capture_default_str()
      ->check(CLI::Range(16, 100000));
  open->add_option("--fingerprint-epochs", args->fingerprint_epochs,
                   "Epochs of trigger-set training")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  open->add_option("--fingerprint-lr", args->fingerprint_lr,
                   "Learning rate of trigger-set training (default: train's fine-tuning rate)")
      ->check(CLI::PositiveNumber);
  open->add_option("--threads", args->threads, "Training threads (0 = all cores)")
      ->capture_default_str();
  AddPrecisionOptions(open, &args->precision);
  open->callback([args] { RunOpen(*args); });

  auto bundle = std::make_shared<BundleArgs>();
  CLI::App* closed = cmd->add_subcommand(
      "closed",
      "Encrypt every file of a Hugging Face model folder into one bundle (--out FILE.mgb) that\n"
      "only the deployment key of --to opens, signed with --sign. Serving decrypts it in\n"
      "memory only; no command writes the plaintext back out.");
  closed->add_option("--model", bundle->model, "Model folder (config.json, model.safetensors)")
      ->required();
  closed->add_option("--out", bundle->out, "Bundle file to create (must not exist)")->required();
  closed->add_option("--sign", bundle->sign, "Vendor secret key (from keygen)")->required();
  closed->add_option("--to", bundle->to, "Deployment public key (from keygen --type deploy)")
      ->required();
  closed->add_option("--model-id", bundle->model_id, "Model id (default: the model folder's name)");
  closed->add_option("--license", bundle->license, "SPDX licence id recorded in the metadata");
  closed->add_flag("--require-license", bundle->require_licence,
                   "Serving refuses to start without a valid licence for this model");
  closed->add_option("--passphrase-env", bundle->passphrase_env,
                     "Environment variable holding the --sign key's passphrase");
  AddPrecisionOptions(closed, &bundle->precision);
  closed->callback([bundle] { RunClosed(*bundle); });

  CLI::App* hybrid = cmd->add_subcommand(
      "hybrid",
      "Release a sequence classifier in two halves: its encoder as a signed open release\n"
      "(--base-out) and its head (pooler and classifier) as a bundle for one deployment\n"
      "(--head-out), bound to exactly that base by the SHA-256 of its weights. For a folder\n"
      "with a LoRA adapter (train --lora-rank) the open base is the untouched base and the\n"
      "bundle carries the adapter and the trained head.");
  hybrid->add_option("--model", bundle->model, "Model folder of a *ForSequenceClassification model")
      ->required();
  hybrid->add_option("--base-out", bundle->base_out, "Open base folder to create")->required();
  hybrid->add_option("--head-out", bundle->out, "Head bundle to create")->required();
  hybrid->add_option("--sign", bundle->sign, "Vendor secret key (from keygen)")->required();
  hybrid->add_option("--to", bundle->to, "Deployment public key")->required();
  hybrid->add_option("--license", bundle->license, "SPDX licence id of the open base")->required();
  hybrid->add_option("--model-id", bundle->model_id,
                     "Model id (default: the model folder's name; the base is ID-base)");
  hybrid->add_flag("--require-license", bundle->require_licence,
                   "Serving the head refuses to start without a valid licence");
  hybrid->add_option("--passphrase-env", bundle->passphrase_env,
                     "Environment variable holding the --sign key's passphrase");
  AddPrecisionOptions(hybrid, &bundle->precision);
  hybrid->callback([bundle] { RunHybrid(*bundle); });
}

}  // namespace mg::cli
