// modelgate items add|delete|list: the item catalogue that `modelgate
// recommend` (and POST /v1/recommend) chooses from.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "apps/modelgate/catalogue_cli.h"
#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/progress.h"
#include "base/file.h"
#include "base/json_limits.h"
#include "kernels/gemm.h"
#include "model/model.h"
#include "recommend/catalogue.h"
#include "recommend/text_embedder.h"

namespace mg::cli {
namespace {

using nlohmann::json;

struct ItemsArgs {
  std::string model;
  std::string index;
  std::string input;
  std::vector<std::string> ids;
  size_t batch_size = 32;
  int threads = 0;
};

struct ItemText {
  recommend::Item item;
  std::string text;
};

// JSON lines {"id":"…","text":"…","tags":["…"]}; blank lines skipped.
std::vector<ItemText> ReadItems(const std::string& path) {
  const std::string contents = ValueOrThrow(ReadFile(path));
  std::vector<ItemText> items;
  std::unordered_set<std::string> ids;
  size_t line_number = 0, begin = 0;
  while (begin < contents.size()) {
    size_t end = contents.find('\n', begin);
    if (end == std::string::npos) end = contents.size();
    ++line_number;
    const std::string_view line(contents.data() + begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const std::string where = path + " line " + std::to_string(line_number) + ": ";
    if (Status depth = CheckJsonDepth(line); !depth.ok()) throw CliError(where + depth.message());
    const json object = json::parse(line, nullptr, false);
    if (!object.is_object()) throw CliError(where + "not a JSON object (or not valid UTF-8)");
    ItemText entry;
    if (!object.contains("id") || !object["id"].is_string() ||
        object["id"].get_ref<const std::string&>().empty())
      throw CliError(where + "needs a non-empty string \"id\"");
    if (!object.contains("text") || !object["text"].is_string() ||
        object["text"].get_ref<const std::string&>().empty())
      throw CliError(where + "needs a non-empty string \"text\"");
    entry.item.id = object["id"].get<std::string>();
    entry.text = object["text"].get<std::string>();
    if (object.contains("tags")) {
      if (!object["tags"].is_array())
        throw CliError(where + "\"tags\" must be an array of strings");
      for (const json& tag : object["tags"]) {
        if (!tag.is_string() || tag.get_ref<const std::string&>().empty())
          throw CliError(where + "\"tags\" must be an array of non-empty strings");
        entry.item.tags.push_back(tag.get<std::string>());
      }
    }
    if (!ids.insert(entry.item.id).second)
      throw CliError(where + "id \"" + entry.item.id + "\" appears twice");
    items.push_back(std::move(entry));
  }
  if (items.empty()) throw CliError(path + ": no items");
  return items;
}

void RunAdd(const ItemsArgs& args) {
  kernels::SetThreads(args.threads);
  const std::vector<ItemText> items = ReadItems(args.input);
  auto model = ValueOrThrow(model::Model::Load(args.model));
  for (const std::string& warning : model->warnings())
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  recommend::ModelEmbedder embedder(*model, args.batch_size);
  recommend::CatalogueOptions options;
  options.dim = embedder.dim();
  options.model_id = CatalogueModelId(args.model);
  auto catalogue = ValueOrThrow(recommend::Catalogue::OpenOrCreate(args.index, options));
  CheckCatalogueModel(*catalogue, options.model_id, options.dim);
  ProgressBar progress("items", kItems, items.size());
  size_t replaced = 0;
  std::vector<float> embeddings;
  for (size_t start = 0; start < items.size(); start += args.batch_size) {
    const size_t end = std::min(items.size(), start + args.batch_size);
    std::vector<recommend::Item> batch;
    std::vector<std::string_view> texts;
    for (size_t i = start; i < end; ++i) {
      batch.push_back(items[i].item);
      texts.push_back(items[i].text);
    }
    ThrowIfError(embedder.Embed(texts, &embeddings));
    size_t batch_replaced = 0;
    ThrowIfError(catalogue->Add(batch, embeddings, &batch_replaced));
    replaced += batch_replaced;
    progress.Update(end);
  }
  progress.Finish();
  ThrowIfError(catalogue->Save());
  std::printf(
      "%s\n",
      json{{"added", items.size() - replaced}, {"replaced", replaced}, {"items", catalogue->size()}}
          .dump()
          .c_str());
}

void RunDelete(const ItemsArgs& args) {
  auto catalogue = ValueOrThrow(recommend::Catalogue::Open(args.index));
  const size_t deleted = catalogue->Delete(args.ids);
  if (deleted > 0) ThrowIfError(catalogue->Save());
  std::printf("%s\n", json{{"deleted", deleted}, {"items", catalogue->size()}}.dump().c_str());
}

void RunList(const ItemsArgs& args) {
  auto catalogue = ValueOrThrow(recommend::Catalogue::Open(args.index));
  std::string out;
  for (const recommend::Item& item : catalogue->List()) {
    out += json{{"id", item.id}, {"tags", item.tags}}.dump(-1, ' ', false,
                                                           json::error_handler_t::replace);
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void RegisterItems(CLI::App& app) {
  auto args = std::make_shared<ItemsArgs>();
  CLI::App* cmd = app.add_subcommand(
      "items",
      "The item catalogue for recommendations: embeddings of item texts in an HNSW index\n"
      "kept in a folder (--index DIR). Format: docs/recommend.md.");
  cmd->require_subcommand(1);

  CLI::App* add = cmd->add_subcommand(
      "add",
      "Embed items and add them to the catalogue (created when missing). An id already in\n"
      "the catalogue is replaced. Prints {\"added\":n,\"replaced\":n,\"items\":total}.");
  add->add_option("--model", args->model, "Model folder that embeds the texts")->required();
  add->add_option("--index", args->index, "Catalogue folder")->required();
  add->add_option("--input", args->input,
                  "JSON lines {\"id\":\"…\",\"text\":\"…\",\"tags\":[\"…\"]} (tags optional)")
      ->required();
  add->add_option("--batch-size", args->batch_size, "Texts per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  add->add_option("--threads", args->threads, "Intra-op threads (0 = all cores)")
      ->capture_default_str();
  add->callback([args] { RunAdd(*args); });

  CLI::App* del = cmd->add_subcommand(
      "delete",
      "Delete items by id (unknown ids are ignored). Prints {\"deleted\":n,\"items\":total}.");
  del->add_option("--index", args->index, "Catalogue folder")->required();
  del->add_option("--id", args->ids, "Item ids to delete")->required();
  del->callback([args] { RunDelete(*args); });

  CLI::App* list =
      cmd->add_subcommand("list", "Print every item as a JSON line {\"id\",\"tags\"}.");
  list->add_option("--index", args->index, "Catalogue folder")->required();
  list->callback([args] { RunList(*args); });
}

}  // namespace mg::cli
