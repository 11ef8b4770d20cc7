// modelgate redact: anonymise the PII in a text file or a JSON-lines data set
// before it is stored or trained on, streaming line by line. With --decrypt,
// restores what the encrypt operator replaced.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/output.h"
#include "apps/modelgate/progress.h"
#include "data/records.h"
#include "privacy/analyzer.h"
#include "privacy/anonymizer.h"
#include "privacy/key.h"
#include "privacy/line_redactor.h"
#include "text/unicode.h"

namespace mg::cli {
namespace {

struct RedactArgs {
  std::string input;
  std::string output;
  std::string op = "replace";
  std::vector<std::string> entities;
  float threshold = 0.5f;
  std::string format = "auto";
  std::string field = "text";
  std::string key_file;
  bool decrypt = false;
  std::string mask_char = "*";
  size_t mask_keep = 4;
};

// Reads lines of any length from a file or standard input.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path) {
    if (path == "-") {
      file_ = stdin;
      return;
    }
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw CliError("cannot open " + path + ": " + std::strerror(errno));
    struct stat info;
    if (::fstat(::fileno(file_), &info) == 0 && S_ISREG(info.st_mode)) {
      size_ = static_cast<uint64_t>(info.st_size);
    }
  }
  ~LineReader() {
    if (file_ && file_ != stdin) std::fclose(file_);
    std::free(buffer_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its '\n'; `*newline` says whether it had one.
  bool Next(std::string_view* line, bool* newline) {
    const ssize_t length = ::getline(&buffer_, &capacity_, file_);
    if (length < 0) {
      if (std::ferror(file_)) throw CliError("cannot read " + path_ + ": " + std::strerror(errno));
      return false;
    }
    bytes_read_ += static_cast<uint64_t>(length);
    *newline = length > 0 && buffer_[length - 1] == '\n';
    *line = std::string_view(buffer_, static_cast<size_t>(length) - (*newline ? 1 : 0));
    return true;
  }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t size() const { return size_; }  // 0 when unknown

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  char* buffer_ = nullptr;
  size_t capacity_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t size_ = 0;
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool JsonLinesFormat(const RedactArgs& args) {
  if (args.format == "jsonl") return true;
  if (args.format == "text") return false;
  if (args.format != "auto") throw CliError("--format must be text, jsonl or auto");
  return EndsWith(args.input, ".jsonl") || EndsWith(args.input, ".ndjson");
}

char32_t MaskChar(const std::string& text) {
  size_t length = 0;
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  if (text.empty()) throw CliError("--mask-char must be one character");
  const char32_t cp = text::DecodeUtf8(data, text.size(), &length);
  if (cp == text::kInvalidCodePoint || length != text.size()) {
    throw CliError("--mask-char must be one character");
  }
  return cp;
}

std::optional<privacy::PrivacyKey> LoadKey(const RedactArgs& args, bool needed) {
  if (!args.key_file.empty()) return ValueOrThrow(privacy::PrivacyKey::FromFile(args.key_file));
  Result<privacy::PrivacyKey> key = privacy::PrivacyKey::FromEnvironment();
  if (key.ok()) return *std::move(key);
  if (key.status().code() != StatusCode::kNotFound || needed) {
    throw CliError(key.status().code() == StatusCode::kNotFound
                       ? "this needs a key: --key-file FILE or " +
                             std::string(privacy::kPrivacyKeyEnv)
                       : key.status().message());
  }
  return std::nullopt;
}

void PrintSummary(const privacy::RedactionCounts& counts, uint64_t lines, uint64_t bytes,
                  double seconds, bool decrypt) {
  std::fprintf(stderr, "%s %llu lines (%.1f MB) in %.2f s: ", decrypt ? "decrypted" : "redacted",
               static_cast<unsigned long long>(lines), bytes / 1e6, seconds);
  if (decrypt) {
    std::fprintf(stderr, "%llu values restored\n",
                 static_cast<unsigned long long>(counts.decrypted));
    return;
  }
  std::fprintf(stderr, "%llu entities\n", static_cast<unsigned long long>(counts.Total()));
  for (privacy::EntityType type : privacy::AllEntityTypes()) {
    const uint64_t count = counts.by_type[static_cast<size_t>(type)];
    if (count == 0) continue;
    std::fprintf(stderr, "  %-16s %llu\n", std::string(privacy::EntityTypeName(type)).c_str(),
                 static_cast<unsigned long long>(count));
  }
}

void RunRedact(const RedactArgs& args) {
  const bool json_lines = JsonLinesFormat(args);
  privacy::AnalyzerOptions analyzer_options;
  for (const std::string& name : args.entities) {
    analyzer_options.entities.push_back(ValueOrThrow(privacy::ParseEntityType(name)));
  }
  analyzer_options.threshold = args.threshold;
  privacy::OperatorOptions operator_options;
  operator_options.op = ValueOrThrow(privacy::ParseOperator(args.op));
  operator_options.mask_char = MaskChar(args.mask_char);
  operator_options.mask_keep_last = args.mask_keep;
  const bool needs_key = args.decrypt || privacy::OperatorNeedsKey(operator_options.op);
  const std::optional<privacy::PrivacyKey> key =
      needs_key ? LoadKey(args, true) : std::optional<privacy::PrivacyKey>();

  const auto analyzer = ValueOrThrow(privacy::Analyzer::Create(analyzer_options));
  const auto anonymizer = ValueOrThrow(privacy::Anonymizer::Create(operator_options, key));
  const auto redactor = ValueOrThrow(privacy::LineRedactor::Create(*analyzer, *anonymizer));

  LineReader reader(args.input);
  Output output(args.output);
  ProgressBar progress("redact", kMegabytes, reader.size());
  const auto start = std::chrono::steady_clock::now();
  std::string_view line;
  bool newline = false;
  uint64_t line_number = 0;
  std::string rewritten;
  std::string cleaned;
  while (reader.Next(&line, &newline)) {
    ++line_number;
    Status status;
    if (json_lines) {
      if (line.find("\\u") != std::string_view::npos) {
        cleaned = data::ReplaceLoneSurrogateEscapes(line);
        line = cleaned;
      }
      status = args.decrypt ? redactor->DecryptJsonLine(line, args.field, &rewritten)
                            : redactor->RedactJsonLine(line, args.field, &rewritten);
    } else {
      status = args.decrypt ? redactor->DecryptText(line, &rewritten)
                            : redactor->RedactText(line, &rewritten);
    }
    if (!status.ok()) {
      progress.Finish();
      throw CliError(args.input + " line " + std::to_string(line_number) + ": " + status.message());
    }
    if (newline) rewritten.push_back('\n');
    output.Write(rewritten);
    progress.Update(reader.bytes_read());
  }
  output.Commit();
  progress.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(redactor->counts(), line_number, reader.bytes_read(), seconds, args.decrypt);
}

}  // namespace

void RegisterRedact(CLI::App& app) {
  auto args = std::make_shared<RedactArgs>();
  CLI::App* cmd = app.add_subcommand(
      "redact",
      "Find PII (e-mail addresses, phone numbers, payment cards, IBANs, IP addresses, URLs,\n"
      "US SSNs, Chinese resident IDs and social credit codes, dates of birth, API keys and\n"
      "private keys) and anonymise it, streaming line by line. Text files are rewritten\n"
      "line by line; in JSON lines only the --field member of each object is rewritten and\n"
      "every other byte is kept. A summary of counts per entity type (never the values)\n"
      "goes to stderr. Names, addresses and organisations are not detected (see\n"
      "docs/privacy.md).");
  cmd->add_option("--input", args->input, "Input file (- for standard input)")->required();
  cmd->add_option("--output", args->output,
                  "Output file, written only on success (default: standard output)");
  cmd->add_option("--operator", args->op,
                  "redact: remove | replace: <EMAIL_ADDRESS> | mask: ****1234 |\n"
                  "hash: HMAC-SHA256 hex (key) | pseudonymize: stable realistic fake (key) |\n"
                  "encrypt: <ENC:...>, reversible with --decrypt (key)")
      ->capture_default_str();
  cmd->add_option("--entities", args->entities,
                  "Comma-separated types to look for (default: all): EMAIL_ADDRESS,\n"
                  "PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, IP_ADDRESS, URL, US_SSN,\n"
                  "CN_RESIDENT_ID, CN_USCC, DATE_TIME (dates of birth), SECRET")
      ->delimiter(',');
  cmd->add_option("--threshold", args->threshold,
                  "Minimum confidence in [0,1]; lower finds more, with more false alarms")
      ->capture_default_str()
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--format", args->format,
                  "text, jsonl, or auto (jsonl for .jsonl/.ndjson files, else text)")
      ->capture_default_str();
  cmd->add_option("--field", args->field, "The JSON member to rewrite in --format jsonl")
      ->capture_default_str();
  cmd->add_option("--key-file", args->key_file,
                  "File with the 32-byte key (raw, or 64 hex digits) for hash, pseudonymize,\n"
                  "encrypt and --decrypt; default: the MODELGATE_PRIVACY_KEY variable (hex)");
  cmd->add_flag("--decrypt", args->decrypt,
                "Restore the values the encrypt operator replaced (needs the same key)");
  cmd->add_option("--mask-char", args->mask_char, "Character of the mask operator")
      ->capture_default_str();
  cmd->add_option("--mask-keep", args->mask_keep,
                  "Characters the mask operator leaves visible at the end")
      ->capture_default_str();
  cmd->callback([args] { RunRedact(*args); });
}

}  // namespace mg::cli
