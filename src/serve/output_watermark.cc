// The one place where `serve --watermark-key` marks what the model computed
// (release/watermark.h), before any route formats it.
#include <string>

#include "model/model.h"
#include "serve/call.h"

namespace mg::serve {
namespace {

// What the watermark reads of input `s`: its text, and its pair's.
std::string InputText(const TextInputs& inputs, size_t s) {
  std::string text = inputs.texts[s];
  if (s < inputs.pairs.size() && inputs.pairs[s]) text += " " + *inputs.pairs[s];
  return text;
}

}  // namespace

void MarkRows(const Call& call, const release::OutputWatermark& watermark,
              const release::ServedModel& served, BatchResult* result) {
  const TextInputs& inputs = call.inputs;
  if (inputs.texts.empty()) return;  // token ids: no words to read
  const int64_t width = result->width;
  const size_t sequences = static_cast<size_t>(call.packed.sequences());
  if (sequences != inputs.texts.size()) return;
  for (size_t s = 0; s < sequences; ++s) {
    const std::string text = InputText(inputs, s);
    switch (call.route->task) {
      case Task::kEmbed:
        watermark.MarkEmbedding(text, result->values.data() + static_cast<int64_t>(s) * width);
        break;
      case Task::kEmbedTokens: {
        const int64_t first = call.packed.offsets[s];
        watermark.MarkTokenStates(text, result->values.data() + first * width,
                                  call.packed.offsets[s + 1] - first);
        break;
      }
      case Task::kClassify: {
        const std::vector<std::string>& labels = served.model->config().labels;
        if (static_cast<int64_t>(labels.size()) != width) return;
        watermark.MarkScores(text, labels, result->values.data() + static_cast<int64_t>(s) * width);
        break;
      }
    }
  }
}

}  // namespace mg::serve
