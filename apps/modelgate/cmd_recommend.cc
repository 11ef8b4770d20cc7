// modelgate recommend: the catalogue items nearest to a user's history (or a
// query), as JSON lines {"id":"…","score":s}, best first.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apps/modelgate/catalogue_cli.h"
#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "base/file.h"
#include "base/json_limits.h"
#include "base/json_writer.h"
#include "kernels/gemm.h"
#include "model/model.h"
#include "recommend/recommender.h"
#include "recommend/text_embedder.h"

namespace mg::cli {
namespace {

using nlohmann::json;

struct RecommendArgs {
  std::string model;
  std::string index;
  std::string history_file;
  std::string query;
  size_t k = 10;
  std::vector<std::string> tags;
  std::vector<std::string> exclude;
  bool exclude_seen = false;
  double decay = 0.8;
  int threads = 0;
};

// Oldest first. A .txt file holds one text per line; anything else is JSON
// lines with "text" and/or "id" (an id alone uses the item's stored vector).
std::vector<recommend::HistoryEntry> ReadHistory(const std::string& path) {
  const std::string contents = ValueOrThrow(ReadFile(path));
  const bool text_file = path.size() >= 4 && path.compare(path.size() - 4, 4, ".txt") == 0;
  std::vector<recommend::HistoryEntry> history;
  size_t line_number = 0, begin = 0;
  while (begin < contents.size()) {
    size_t end = contents.find('\n', begin);
    if (end == std::string::npos) end = contents.size();
    ++line_number;
    std::string line = contents.substr(begin, end - begin);
    begin = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + " line " + std::to_string(line_number) + ": ";
    recommend::HistoryEntry entry;
    if (text_file) {
      entry.text = line;
    } else {
      if (Status depth = CheckJsonDepth(line); !depth.ok()) throw CliError(where + depth.message());
      const json object = json::parse(line, nullptr, false);
      if (!object.is_object()) throw CliError(where + "not a JSON object (or not valid UTF-8)");
      if (object.contains("text") && object["text"].is_string())
        entry.text = object["text"].get<std::string>();
      if (object.contains("id") && object["id"].is_string())
        entry.id = object["id"].get<std::string>();
      if (entry.text.empty() && entry.id.empty())
        throw CliError(where + "needs a non-empty \"text\" or \"id\"");
    }
    history.push_back(std::move(entry));
  }
  if (history.empty()) throw CliError(path + ": the history is empty");
  return history;
}

void RunRecommend(const RecommendArgs& args) {
  kernels::SetThreads(args.threads);
  recommend::RecommendRequest request;
  if (!args.history_file.empty()) {
    request.history = ReadHistory(args.history_file);
  } else {
    if (args.query.empty()) throw CliError("--query is empty");
    request.query = args.query;
  }
  request.k = args.k;
  request.tags = args.tags;
  request.exclude = args.exclude;
  request.exclude_seen = args.exclude_seen;
  request.decay = args.decay;
  auto catalogue = ValueOrThrow(recommend::Catalogue::Open(args.index));
  auto model = ValueOrThrow(model::Model::Load(args.model));
  recommend::ModelEmbedder embedder(*model);
  CheckCatalogueModel(*catalogue, CatalogueModelId(args.model), embedder.dim());
  const auto found = ValueOrThrow(recommend::Recommend(request, embedder, *catalogue));
  std::string out;
  for (const recommend::ScoredItem& item : found) {
    out.append("{\"id\":");
    AppendJsonString(&out, item.id);
    out.append(",\"score\":");
    AppendJsonFloat(&out, item.score);
    out.append("}\n");
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void RegisterRecommend(CLI::App& app) {
  auto args = std::make_shared<RecommendArgs>();
  CLI::App* cmd = app.add_subcommand(
      "recommend",
      "Recommend catalogue items (see `modelgate items`) for a user's history or a query:\n"
      "JSON lines {\"id\":\"…\",\"score\":cosine}, best first. The user vector is the\n"
      "recency-weighted mean of the history's embeddings (most recent last).");
  cmd->add_option("--model", args->model, "Model folder the catalogue was built with")->required();
  cmd->add_option("--index", args->index, "Catalogue folder")->required();
  auto* history = cmd->add_option(
      "--history-file", args->history_file,
      "Oldest first: .txt with one text per line, or JSON lines with \"text\" and/or \"id\"");
  auto* query = cmd->add_option("--query", args->query, "A text to find similar items for");
  history->excludes(query);
  query->excludes(history);
  cmd->add_option("--k", args->k, "How many items")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--tags", args->tags, "Only items with one of these tags (comma-separated)")
      ->delimiter(',');
  cmd->add_option("--exclude", args->exclude, "Never these item ids (comma-separated)")
      ->delimiter(',');
  cmd->add_flag("--exclude-seen", args->exclude_seen, "Leave out the items named in the history");
  cmd->add_option("--decay", args->decay, "Weight factor per step back in the history")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--threads", args->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  cmd->callback([args, history, query] {
    if (history->count() == 0 && query->count() == 0)
      throw CliError("give --history-file or --query");
    RunRecommend(*args);
  });
}

}  // namespace mg::cli
