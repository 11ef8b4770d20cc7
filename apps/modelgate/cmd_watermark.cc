// modelgate watermark keygen: a watermark key for `serve --watermark-key`
// (release/watermark.h) whose trigger words come from a corpus's moderate
// frequency band.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "base/bytes.h"
#include "base/env.h"
#include "base/file.h"
#include "data/records.h"
#include "release/watermark.h"

namespace mg::cli {
namespace {

struct WatermarkKeygenArgs {
  std::string out;
  std::vector<std::string> corpus;
  std::string vocab;
  std::string secret_env;
  release::WatermarkOptions options;
};

void RunKeygen(const WatermarkKeygenArgs& args) {
  if (FileExists(args.out)) throw CliError(args.out + " exists; refusing to overwrite it");
  std::vector<std::string> texts;
  for (const std::string& path : args.corpus) {
    for (data::Record& record : ValueOrThrow(data::ReadRecords(path))) {
      texts.push_back(std::move(record.text));
    }
  }
  std::vector<std::string> vocab;
  if (!args.vocab.empty()) {
    const std::string text = ValueOrThrow(ReadFile(args.vocab));
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string token = text.substr(start, end - start);
      if (!token.empty() && token.back() == '\r') token.pop_back();
      vocab.push_back(std::move(token));
      start = end + 1;
    }
  }
  std::string secret(32, '\0');
  if (args.secret_env.empty()) {
    Env::Default()->RandomBytes(secret.data(), secret.size());
  } else {
    const char* hex = std::getenv(args.secret_env.c_str());
    if (hex == nullptr) throw CliError("environment variable " + args.secret_env + " is not set");
    std::optional<std::string> bytes = HexDecode(hex);
    if (!bytes || bytes->size() != 32) {
      throw CliError("environment variable " + args.secret_env + " must hold 64 hex digits");
    }
    secret = std::move(*bytes);
  }
  const release::WatermarkKey key =
      ValueOrThrow(release::GenerateWatermarkKey(texts, vocab, args.options, std::move(secret)));
  ThrowIfError(WriteFileAtomic(args.out, release::WatermarkKeyText(key), 0600));
  std::printf("wrote %s: %zu triggers, %zu control words, %zu label triggers from %zu texts\n",
              args.out.c_str(), key.triggers.size(), key.controls.size(), key.label_triggers.size(),
              texts.size());
}

}  // namespace

void RegisterWatermark(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "watermark", "Output watermarks: keys for serve --watermark-key (traced by modelgate trace)");
  cmd->require_subcommand(1);
  auto args = std::make_shared<WatermarkKeygenArgs>();
  CLI::App* keygen = cmd->add_subcommand(
      "keygen",
      "Write a secret watermark key (mode 0600): a random secret, trigger words drawn from\n"
      "the corpus's moderate document-frequency band, and rarer label triggers.");
  keygen->add_option("--out", args->out, "Key file to create")->required();
  keygen
      ->add_option("--corpus", args->corpus,
                   "Texts the words are counted in (JSON lines, CSV or text; several allowed)")
      ->required();
  keygen->add_option("--vocab", args->vocab,
                     "The model's vocab.txt: keep only words that are one token of it");
  keygen->add_option("--secret-env", args->secret_env,
                     "Environment variable holding the secret as 64 hex digits, instead of a\n"
                     "random one (a reproducible key, for tests and benchmarks)");
  keygen->add_option("--triggers", args->options.triggers, "Embedding trigger words")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  keygen->add_option("--band-low", args->options.band_low, "Lowest document frequency of a trigger")
      ->capture_default_str();
  keygen
      ->add_option("--band-high", args->options.band_high,
                   "Highest document frequency of a trigger")
      ->capture_default_str();
  keygen
      ->add_option("--label-triggers", args->options.label_triggers,
                   "Classifier trigger words (0: none)")
      ->capture_default_str();
  keygen
      ->add_option("--label-band-low", args->options.label_band_low,
                   "Lowest document frequency of a label trigger")
      ->capture_default_str();
  keygen
      ->add_option("--label-band-high", args->options.label_band_high,
                   "Highest document frequency of a label trigger")
      ->capture_default_str();
  keygen
      ->add_option("--threshold", args->options.threshold,
                   "Distinct triggers in a text for the full mark")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  keygen->callback([args] { RunKeygen(*args); });
}

}  // namespace mg::cli
