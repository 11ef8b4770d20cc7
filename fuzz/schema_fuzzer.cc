// The JSON request bodies of the inference routes (/embed, /predict,
// /v1/embeddings, /tokenize): every parser sees every input.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "serve/schema.h"

namespace {

void CheckInputs(const mg::serve::TextInputs& inputs, const mg::serve::SchemaLimits& limits) {
  if (inputs.texts.size() > limits.max_inputs) mg::fuzz::Fail("more inputs than the limit");
  if (!inputs.pairs.empty() && inputs.pairs.size() != inputs.texts.size()) {
    mg::fuzz::Fail("pairs do not match texts");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = mg::fuzz::AsText(data, size);
  const mg::serve::SchemaLimits limits;
  mg::serve::EmbedRequest embed;
  if (!mg::serve::ParseEmbedRequest(body, limits, &embed)) CheckInputs(embed.inputs, limits);
  mg::serve::PredictRequest predict;
  if (!mg::serve::ParsePredictRequest(body, limits, &predict)) CheckInputs(predict.inputs, limits);
  mg::serve::OpenAiEmbedRequest openai;
  if (!mg::serve::ParseOpenAiEmbedRequest(body, limits, &openai)) {
    CheckInputs(openai.inputs, limits);
  }
  mg::serve::TokenizeRequest tokenize;
  if (!mg::serve::ParseTokenizeRequest(body, limits, &tokenize)) {
    CheckInputs(tokenize.inputs, limits);
  }
  return 0;
}
