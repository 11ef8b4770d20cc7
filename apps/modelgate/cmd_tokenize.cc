// modelgate tokenize: tokenization identical to Hugging Face's fast tokenizers
// (WordPiece, byte-level BPE and Unigram), one JSON line per text.
#include <optional>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/encoding_json.h"
#include "apps/modelgate/output.h"
#include "data/records.h"
#include "text/tokenizer.h"

namespace mg::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::optional<std::string> text;
  std::optional<std::string> pair;
  std::string input;
  std::string output;
  std::string format = "auto";
  std::string field = "text";
  std::string fields = "ids,tokens,type_ids,offsets";
  size_t max_length = 0;
  size_t pad_to = 0;
  bool no_special_tokens = false;
  std::optional<bool> lowercase;
  std::optional<bool> strip_accents;
};

void RunTokenize(const TokenizeArgs& args) {
  if (args.text.has_value() == !args.input.empty()) {
    throw CliError("give exactly one of --text or --input");
  }
  if (args.pair && !args.text) throw CliError("--pair goes with --text");
  text::TokenizerOverrides overrides;
  overrides.lowercase = args.lowercase;
  overrides.strip_accents = args.strip_accents;
  const EncodingFields fields = ParseEncodingFields(args.fields);
  const text::Tokenizer tokenizer = ValueOrThrow(text::Tokenizer::Load(args.model, overrides));
  const EncodingJsonWriter writer(tokenizer, fields);

  text::EncodeOptions options;
  options.add_special_tokens = !args.no_special_tokens;
  options.max_length = args.max_length;
  options.pad_to = args.pad_to;

  Output output(args.output);
  text::Encoding encoding;
  if (args.text) {
    const std::string_view pair_view =
        args.pair ? std::string_view(*args.pair) : std::string_view();
    ThrowIfError(
        tokenizer.Encode(*args.text, args.pair ? &pair_view : nullptr, options, &encoding));
    const std::string_view texts[2] = {*args.text, args.pair ? pair_view : std::string_view()};
    writer.WriteLine(encoding, texts, std::nullopt, &output);
    output.Commit();
    return;
  }
  const data::RecordFormat format = ValueOrThrow(data::ParseRecordFormat(args.format));
  const std::vector<data::Record> records =
      ValueOrThrow(data::ReadRecords(args.input, format, args.field));
  for (const data::Record& record : records) {
    std::string_view pair_view;
    if (record.text_pair) pair_view = *record.text_pair;
    Status status =
        tokenizer.Encode(record.text, record.text_pair ? &pair_view : nullptr, options, &encoding);
    if (!status.ok()) {
      throw CliError(args.input + " line " + std::to_string(record.line) + ": " + status.message());
    }
    const std::string_view texts[2] = {record.text,
                                       record.text_pair ? pair_view : std::string_view()};
    writer.WriteLine(encoding, texts, record.id, &output);
  }
  output.Commit();
}

}  // namespace

void RegisterTokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize",
      "Tokenize text exactly like Hugging Face's fast tokenizers (WordPiece, byte-level BPE,\n"
      "Unigram: BERT, RoBERTa, ModernBERT, T5, XLM-RoBERTa) and print JSON lines\n"
      "{\"ids\",\"tokens\",\"type_ids\",\"offsets\"}; offsets are byte ranges in the UTF-8 input.");
  cmd->add_option("--model", args->model,
                  "Model folder (tokenizer.json; else vocab.txt or vocab.json + merges.txt, with\n"
                  "tokenizer_config.json), or a tokenizer.json / vocab.txt / vocab.json file")
      ->required();
  cmd->add_option("--text", args->text, "Text to tokenize");
  cmd->add_option("--pair", args->pair, "Second text of a pair (with --text)");
  cmd->add_option(
      "--input", args->input,
      "File of texts: JSON lines with \"text\" (and \"text_pair\"), CSV with a header,\n"
      "or .txt with one text per line");
  cmd->add_option("--format", args->format, "Input format: auto, jsonl, csv or text")
      ->capture_default_str();
  cmd->add_option("--field", args->field, "Name of the text field in JSON lines or CSV")
      ->capture_default_str();
  cmd->add_option("--fields", args->fields,
                  "Fields of each line, comma-separated: ids, tokens, type_ids, offsets\n"
                  "(always printed in that order; \"id\" comes first when the input has one)")
      ->capture_default_str();
  cmd->add_option("--output", args->output, "Write here instead of standard output");
  cmd->add_option(
      "--max-length", args->max_length,
      "Truncate to this many tokens, special tokens included (longest first for pairs)");
  cmd->add_option("--pad-to", args->pad_to, "Pad with the padding token up to this length");
  cmd->add_flag("--no-special-tokens", args->no_special_tokens, "Do not add [CLS]/[SEP]");
  cmd->add_option("--lowercase", args->lowercase,
                  "Override the tokenizer's lower-casing (true/false)");
  cmd->add_option("--strip-accents", args->strip_accents,
                  "Override accent stripping (true/false; default follows lower-casing)");
  cmd->callback([args] { RunTokenize(*args); });
}

}  // namespace mg::cli
