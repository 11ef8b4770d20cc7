// /v1/items, /v1/items/delete and /v1/recommend: the recommendation API of
// src/recommend (api.h) over HTTP, on the catalogue given with --index.
//
// A request's texts are embedded by the served model on the batcher's
// inference thread, like /embed, so no second model instance runs. Steps,
// all on the tokenisation workers except the forward pass:
//   1. once the key is known to be valid (Service::Process), the api runs
//      with an embedder that only records the texts it is asked to embed
//      (the api validates the whole body first, so a bad body gets 422
//      before anything else happens);
//   2. the privacy mode screens the texts (as on /embed), they are
//      tokenised, the gate admits the request with their token
//      count, and they join the batcher's queue as embedding jobs;
//   3. with the rows back, the api runs again with an embedder that hands
//      them out, and its reply is sent.
// /v1/items/delete embeds nothing: admitted, then run.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "recommend/api.h"
#include "recommend/catalogue.h"
#include "recommend/text_embedder.h"
#include "recommend/vector_math.h"
#include "serve/batcher.h"
#include "serve/call.h"
#include "serve/service.h"
#include "serve/worker_pool.h"

namespace mg::serve {

struct RecommendState {
  std::unique_ptr<recommend::Catalogue> catalogue;
};

namespace {

using nlohmann::json;

// Records the texts and refuses, so that the api stops before it changes
// anything (step 1).
class RecordingEmbedder final : public recommend::TextEmbedder {
 public:
  explicit RecordingEmbedder(size_t dim) : dim_(dim) {}
  size_t dim() const override { return dim_; }
  Status Embed(const std::vector<std::string_view>& texts,
               std::vector<float>* /*out*/) const override {
    called_ = true;
    texts_.assign(texts.begin(), texts.end());
    return InternalError("texts recorded");
  }
  bool called() const { return called_; }
  std::vector<std::string>& texts() const { return texts_; }

 private:
  size_t dim_;
  mutable bool called_ = false;
  mutable std::vector<std::string> texts_;
};

// Hands out the rows computed for exactly these texts (step 3); in
// --privacy redact mode the rows are those of the redacted texts.
class PrecomputedEmbedder final : public recommend::TextEmbedder {
 public:
  PrecomputedEmbedder(const std::vector<std::string>* texts, std::vector<float>* rows, size_t dim)
      : texts_(texts), rows_(rows), dim_(dim) {}
  size_t dim() const override { return dim_; }
  Status Embed(const std::vector<std::string_view>& texts, std::vector<float>* out) const override {
    if (texts.size() != texts_->size()) return InternalError("the texts to embed changed");
    for (size_t i = 0; i < texts.size(); ++i) {
      if (texts[i] != (*texts_)[i]) return InternalError("the texts to embed changed");
    }
    out->assign(rows_->begin(), rows_->end());
    for (size_t row = 0; row < texts.size(); ++row) {
      if (!recommend::NormalizeInPlace(out->data() + row * dim_, dim_)) {
        return InvalidArgumentError("text " + std::to_string(row) +
                                    " has a zero or non-finite embedding");
      }
    }
    return Status::Ok();
  }

 private:
  const std::vector<std::string>* texts_;
  std::vector<float>* rows_;
  size_t dim_;
};

ApiError ApiErrorOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return Validation(status.message());
    default:
      return {500, "internal", status.message()};
  }
}

// Runs one api handler.
Result<json> RunApi(CatalogueOp op, const recommend::RecommendApi& api, const json& body) {
  switch (op) {
    case CatalogueOp::kAddItems:
      return api.AddItems(body);
    case CatalogueOp::kDeleteItems:
      return api.DeleteItems(body);
    case CatalogueOp::kRecommend:
    case CatalogueOp::kNone:
      break;
  }
  return api.Recommend(body);
}

// A /v1/recommend reply ([{"id", "score"}, ...]) cut to the output policy:
// scores rounded, or null when the policy withholds them.
void CutScores(const OutputPolicy& policy, CatalogueOp op, json* reply) {
  if (op != CatalogueOp::kRecommend || !reply->is_array()) return;
  for (json& item : *reply) {
    if (!item.is_object() || !item.contains("score") || !item["score"].is_number()) continue;
    if (!policy.scores) {
      item["score"] = nullptr;
    } else if (policy.score_decimals >= 0) {
      const double scale = std::pow(10.0, policy.score_decimals);
      item["score"] = std::round(item["score"].get<double>() * scale) / scale;
    }
  }
}

// Rows gathered from several batcher jobs.
struct Gather {
  std::mutex mutex;
  std::vector<float> rows;  // guarded by mutex
  int64_t width = 0;        // guarded by mutex
  Status status;            // guarded by mutex; the first failure
  size_t pending = 0;       // guarded by mutex
};

}  // namespace

Status Service::OpenCatalogue() {
  if (options_.catalogue_dir.empty()) return Status::Ok();
  recommend::CatalogueOptions options;
  options.dim = static_cast<size_t>(served_.model->config().hidden_size);
  options.model_id = served_.model_id;
  MG_ASSIGN_OR_RETURN(auto catalogue,
                      recommend::Catalogue::OpenOrCreate(options_.catalogue_dir, options));
  if (catalogue->dim() != options.dim || catalogue->model_id() != options.model_id) {
    return InvalidArgumentError("the catalogue in " + options_.catalogue_dir +
                                " holds embeddings of model \"" + catalogue->model_id() + "\" (" +
                                std::to_string(catalogue->dim()) + " values); this server runs \"" +
                                options.model_id + "\" (" + std::to_string(options.dim) + ")");
  }
  recommend_ = std::make_shared<RecommendState>();
  recommend_->catalogue = std::move(catalogue);
  return Status::Ok();
}

void Service::ProcessRecommend(std::shared_ptr<Call> call) {
  if (!recommend_) {
    return Fail(*call, {404, "no_catalogue",
                        "this server was started without a catalogue (modelgate serve --index "
                        "DIR): " +
                            std::string(call->route->name) + " is not available"});
  }
  const json body = json::parse(call->request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return Fail(*call, {400, "bad_request", "the body is not valid JSON (or not valid UTF-8)"});
  }
  if (!LicenceAllows(*call)) return;
  const size_t dim = static_cast<size_t>(served_.model->config().hidden_size);
  if (call->route->catalogue == CatalogueOp::kDeleteItems) {
    if (!Admit(*call)) return;
    const recommend::RecommendApi api(recommend_->catalogue.get(), nullptr);
    auto reply = api.DeleteItems(body);
    if (!reply.ok()) return Fail(*call, ApiErrorOf(reply.status()));
    HttpResponse response;
    response.body = reply->dump();
    return Reply(*call, std::move(response));
  }
  // Step 1: validate and learn which texts need embedding.
  RecordingEmbedder recorder(dim);
  const recommend::RecommendApi recording_api(recommend_->catalogue.get(), &recorder);
  auto first = RunApi(call->route->catalogue, recording_api, body);
  if (!recorder.called()) {
    if (!first.ok()) return Fail(*call, ApiErrorOf(first.status()));
    // Nothing to embed (a history of catalogue ids only): the reply is ready.
    if (!Admit(*call)) return;
    CutScores(call->output, call->route->catalogue, &*first);
    HttpResponse response;
    response.body = first->dump();
    return Reply(*call, std::move(response));
  }
  // Step 2: tokenise in jobs of at most --max-batch-tokens, admit, queue.
  // The privacy mode applies as on /embed: counted, replaced or refused.
  auto originals = std::make_shared<const std::vector<std::string>>(std::move(recorder.texts()));
  call->inputs.texts = *originals;
  if (!ScreenPrivacy(*call)) return;
  const std::vector<std::string>* texts = &call->inputs.texts;
  const model::Model& model = *served_.model;
  std::vector<model::PackedBatch> jobs(1);
  model::PackedBatch one;
  for (const std::string& text : *texts) {
    const std::string_view view = text;
    Status status = model.Pack({view}, {std::nullopt}, &one);
    if (!status.ok()) return Fail(*call, Validation(status.message()));
    if (jobs.back().sequences() > 0 &&
        jobs.back().tokens() + one.tokens() > options_.max_batch_tokens) {
      jobs.emplace_back();
    }
    model::PackedBatch& job = jobs.back();
    const int64_t base = job.tokens();
    job.ids.insert(job.ids.end(), one.ids.begin(), one.ids.end());
    job.type_ids.insert(job.type_ids.end(), one.type_ids.begin(), one.type_ids.end());
    job.offsets.push_back(base + one.tokens());
    call->packed.ids.insert(call->packed.ids.end(), one.ids.begin(), one.ids.end());
    call->packed.type_ids.insert(call->packed.type_ids.end(), one.type_ids.begin(),
                                 one.type_ids.end());
    call->packed.offsets.push_back(call->packed.tokens());
  }
  if (!Admit(*call)) return;
  auto gather = std::make_shared<Gather>();
  gather->pending = jobs.size();
  // Each job's rows go to their place: the row offset of every job.
  std::vector<int64_t> first_row(jobs.size(), 0);
  for (size_t j = 1; j < jobs.size(); ++j)
    first_row[j] = first_row[j - 1] + jobs[j - 1].sequences();
  gather->rows.assign(texts->size() * dim, 0.0f);
  const auto deadline =
      call->start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(options_.request_timeout_s));
  for (size_t j = 0; j < jobs.size(); ++j) {
    auto job = std::make_unique<BatchJob>();
    job->task = Task::kEmbed;
    job->sequences = std::move(jobs[j]);
    job->deadline = deadline;
    job->done = [this, call, gather, originals, row0 = first_row[j], dim](BatchResult result) {
      bool last = false;
      {
        std::lock_guard<std::mutex> lock(gather->mutex);
        if (!result.status.ok() && gather->status.ok()) gather->status = result.status;
        if (result.status.ok()) {
          gather->width = result.width;
          std::copy(result.values.begin(), result.values.end(),
                    gather->rows.begin() + row0 * static_cast<int64_t>(dim));
        }
        last = --gather->pending == 0;
      }
      if (!last) return;
      workers_->Post([this, call, gather, originals] {
        if (!gather->status.ok()) {
          return Fail(*call, {503, "unavailable", gather->status.message()});
        }
        FinishRecommend(call, *originals, std::move(gather->rows), gather->width);
      });
    };
    batcher_->Submit(std::move(job));  // from here on the call belongs to the batcher's side
  }
}

void Service::FinishRecommend(std::shared_ptr<Call> call, const std::vector<std::string>& texts,
                              std::vector<float> rows, int64_t width) {
  const size_t dim = static_cast<size_t>(served_.model->config().hidden_size);
  if (width != static_cast<int64_t>(dim)) {
    return Fail(*call, {500, "internal", "the model returned rows of the wrong width"});
  }
  const json body = json::parse(call->request.body, nullptr, /*allow_exceptions=*/false);
  PrecomputedEmbedder embedder(&texts, &rows, dim);
  const recommend::RecommendApi api(recommend_->catalogue.get(), &embedder);
  auto reply = RunApi(call->route->catalogue, api, body);
  if (!reply.ok()) return Fail(*call, ApiErrorOf(reply.status()));
  CutScores(call->output, call->route->catalogue, &*reply);
  HttpResponse response;
  response.body = reply->dump();
  Reply(*call, std::move(response));
}

}  // namespace mg::serve
