// modelgate cost: what serving a model costs on this machine. Measures the
// encoder's throughput here (one request at a time, and with requests batched
// as the server's dynamic batcher does) and turns a price per machine-hour
// into a cost per million requests and per million tokens, beside the price
// per 1,000 tokens the owner charges, so serving the model closed can be
// weighed against releasing it. With --dtype f32,int8 (or all) it measures
// each precision, so the owner sees what bf16 or int8 saves.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/dtype_option.h"
#include "apps/modelgate/encoder_timing.h"
#include "base/env.h"
#include "base/json_writer.h"
#include "kernels/gemm.h"
#include "release/served_model.h"

namespace mg::cli {
namespace {

struct CostArgs {
  release::ModelSourceOptions source;
  double price_per_hour = 0;
  double price_per_1k_tokens = -1;  // < 0: not given
  int64_t tokens_per_request = 128;
  int64_t batch = 32;
  int threads = 0;
  double seconds = 3;
  std::string format = "table";
  std::string dtypes = "f32";  // comma-separated, or "all"
};

// The precisions --dtype names, in the order given ("all": f32, bf16, int8).
Result<std::vector<kernels::Precision>> ParseDtypeList(const std::string& text) {
  if (text == "all")
    return std::vector<kernels::Precision>{kernels::Precision::kF32, kernels::Precision::kBf16,
                                           kernels::Precision::kInt8};
  std::vector<kernels::Precision> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    MG_ASSIGN_OR_RETURN(kernels::Precision precision,
                        kernels::ParsePrecision(text.substr(start, comma - start)));
    for (kernels::Precision seen : out) {
      if (seen == precision)
        return InvalidArgumentError("--dtype names " + text.substr(start, comma - start) +
                                    " twice");
    }
    out.push_back(precision);
    start = comma + 1;
  }
  return out;
}

struct CostRow {
  std::string mode;   // "one at a time" or "batched"
  std::string dtype;  // the precision the layers ran in
  EncoderTiming timing;
  double usd_per_million_requests = 0;
  double usd_per_million_tokens = 0;
};

CostRow PriceOf(std::string mode, kernels::Precision precision, const EncoderTiming& timing,
                const CostArgs& args) {
  CostRow row{std::move(mode), std::string(kernels::PrecisionName(precision)), timing, 0, 0};
  const double usd_per_second = args.price_per_hour / 3600.0;
  row.usd_per_million_requests = usd_per_second / timing.seq_per_s * 1e6;
  row.usd_per_million_tokens =
      usd_per_second / (timing.seq_per_s * static_cast<double>(timing.seq)) * 1e6;
  return row;
}

void PrintJson(const std::string& model_id, const std::vector<CostRow>& rows,
               const CostArgs& args) {
  std::string out;
  JsonWriter json(&out);
  json.BeginObject();
  json.Key("model").String(model_id);
  json.Key("price_per_hour_usd").Float(args.price_per_hour);
  json.Key("tokens_per_request").Int(args.tokens_per_request);
  json.Key("threads").Int(kernels::Threads());
  if (args.price_per_1k_tokens >= 0) {
    json.Key("price_per_1k_tokens_usd").Float(args.price_per_1k_tokens);
    json.Key("revenue_per_million_tokens_usd").Float(args.price_per_1k_tokens * 1000);
  }
  json.Key("rows").BeginArray();
  for (const CostRow& row : rows) {
    json.BeginObject();
    json.Key("mode").String(row.mode);
    json.Key("dtype").String(row.dtype);
    json.Key("batch").Int(row.timing.batch);
    json.Key("requests_per_s").Float(row.timing.seq_per_s);
    json.Key("tokens_per_s").Float(row.timing.seq_per_s * static_cast<double>(row.timing.seq));
    json.Key("usd_per_million_requests").Float(row.usd_per_million_requests);
    json.Key("usd_per_million_tokens").Float(row.usd_per_million_tokens);
    json.EndObject();
  }
  json.EndArray().EndObject();
  out.push_back('\n');
  std::fputs(out.c_str(), stdout);
}

void PrintTable(const std::string& model_id, const std::vector<CostRow>& rows,
                const CostArgs& args) {
  std::printf("model %s, %ld tokens per request, %d threads, $%.4f per machine-hour\n",
              model_id.c_str(), static_cast<long>(args.tokens_per_request), kernels::Threads(),
              args.price_per_hour);
  std::printf("%-14s %5s %6s %12s %14s %18s %16s\n", "serving", "dtype", "batch", "requests/s",
              "tokens/s", "$ / 1M requests", "$ / 1M tokens");
  for (const CostRow& row : rows) {
    std::printf("%-14s %5s %6ld %12.1f %14.0f %18.4f %16.4f\n", row.mode.c_str(), row.dtype.c_str(),
                static_cast<long>(row.timing.batch), row.timing.seq_per_s,
                row.timing.seq_per_s * static_cast<double>(row.timing.seq),
                row.usd_per_million_requests, row.usd_per_million_tokens);
  }
  if (args.price_per_1k_tokens >= 0) {
    const double revenue = args.price_per_1k_tokens * 1000;
    std::printf("charged: $%.4f per 1M tokens ($%.6f per 1,000)\n", revenue,
                args.price_per_1k_tokens);
    for (const CostRow& row : rows) {
      std::printf("  margin %-20s $%.4f per 1M tokens (%.1f%% of the price)\n",
                  (row.mode + " " + row.dtype + ":").c_str(), revenue - row.usd_per_million_tokens,
                  revenue > 0 ? 100.0 * (revenue - row.usd_per_million_tokens) / revenue : 0.0);
    }
  }
  // What each precision saves against F32 in the same serving mode.
  for (const CostRow& row : rows) {
    if (row.dtype == "f32") continue;
    for (const CostRow& f32 : rows) {
      if (f32.dtype != "f32" || f32.mode != row.mode) continue;
      std::printf("%s %s costs %.1f%% of f32 (%.2fx the requests per second)\n", row.mode.c_str(),
                  row.dtype.c_str(),
                  100.0 * row.usd_per_million_requests / f32.usd_per_million_requests,
                  row.timing.seq_per_s / f32.timing.seq_per_s);
    }
  }
  std::printf(
      "an open release moves this compute cost to the customer; serving closed keeps it, "
      "and the price above has to cover it\n");
}

void RunCost(const CostArgs& args) {
  kernels::SetThreads(args.threads);
  const std::vector<kernels::Precision> precisions = ValueOrThrow(ParseDtypeList(args.dtypes));
  std::vector<CostRow> rows;
  std::string model_id;
  for (kernels::Precision precision : precisions) {
    release::ModelSourceOptions source = args.source;
    source.load.precision = precision;
    source.precision_given = true;
    auto served = ValueOrThrow(release::LoadServedModel(source, Env::Default()->NowSeconds()));
    NoteFallback(*served.model, source.load);
    model_id = served.model_id;
    const auto& config = served.model->config();
    if (args.tokens_per_request < 1 || args.tokens_per_request > config.max_position_embeddings) {
      throw CliError("--tokens-per-request must be between 1 and " +
                     std::to_string(config.max_position_embeddings));
    }
    const kernels::Precision ran = served.model->precision();
    rows.push_back(PriceOf("one at a time", ran,
                           TimeEncoder(*served.model, 1, args.tokens_per_request, args.seconds),
                           args));
    if (args.batch > 1) {
      rows.push_back(PriceOf(
          "batched", ran,
          TimeEncoder(*served.model, args.batch, args.tokens_per_request, args.seconds), args));
    }
  }
  if (args.format == "json") {
    PrintJson(model_id, rows, args);
  } else {
    PrintTable(model_id, rows, args);
  }
}

}  // namespace

void RegisterCost(CLI::App& app) {
  auto args = std::make_shared<CostArgs>();
  CLI::App* cmd = app.add_subcommand(
      "cost",
      "Cost of serving a model on this machine: measures the encoder's throughput here\n"
      "(one request at a time and batched) and converts a price per machine-hour into\n"
      "dollars per million requests and per million tokens, beside what you charge.");
  cmd->add_option("--model", args->source.model, "Model folder, release or bundle")->required();
  cmd->add_option("--base", args->source.base, "Open base folder of a hybrid head bundle");
  cmd->add_option("--key", args->source.deploy_key, "Deployment secret key (closed bundles)");
  cmd->add_option("--license", args->source.licence, "Licence file, when the release needs one");
  cmd->add_option("--vendor-pub", args->source.vendor_pub, "Pinned vendor public key");
  cmd->add_option("--price-per-hour", args->price_per_hour, "What one machine-hour costs, USD")
      ->required()
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--price-per-1k-tokens", args->price_per_1k_tokens,
                  "What you charge per 1,000 tokens, USD (shows the margin)")
      ->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--tokens-per-request", args->tokens_per_request, "Tokens in a typical request")
      ->capture_default_str();
  cmd->add_option("--batch", args->batch, "Requests the batcher groups when busy (1 = no batching)")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", args->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  cmd->add_option("--seconds", args->seconds, "Measuring time per row")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--dtype", args->dtypes,
                  "Precisions to measure, comma-separated (f32, bf16, int8) or all: one row "
                  "pair each, and what each saves against f32")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& value) {
            const auto parsed = ParseDtypeList(value);
            return parsed.ok() ? std::string() : parsed.status().message();
          },
          "LIST", "dtype list"));
  cmd->add_option("--format", args->format, "table or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
  cmd->callback([args] { RunCost(*args); });
}

}  // namespace mg::cli
