// train_step_dump: one training step of a classifier on a fixed batch, for
// comparison with PyTorch (tests/train/grad_vs_torch.py).
//
// usage: train_step_dump MODEL_DIR BATCH_JSON OUT_DIR
//   BATCH_JSON: {"ids":[[…],…], "type_ids":[[…],…], "targets":[…],
//                "lr":…, "weight_decay":…, "max_grad_norm":…, "steps":N}
//   optional "lora": {"rank": R, "alpha": A, "init": "FILE.safetensors"}: a
//   LoRA layout (encoder frozen) whose adapter tensors (layout names, e.g.
//   bert.encoder.layer.0.attention.self.query.lora_A.weight) come from FILE.
// Writes OUT_DIR/grads.safetensors (gradients of the first step, dropout
// off), OUT_DIR/stepped.safetensors (weights after N AdamW steps on the batch)
// and OUT_DIR/loss.json; with "lora" also OUT_DIR/input_grad.safetensors
// (d loss / d encoder input of the first step, packed [tokens, hidden]).
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "model/checkpoint.h"
#include "model/safetensors_writer.h"
#include "train/adamw.h"
#include "train/hf_folder.h"
#include "train/training_net.h"

namespace mg::train {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

int Main(int argc, char** argv) {
  if (argc != 4) return Fail("usage: train_step_dump MODEL_DIR BATCH_JSON OUT_DIR");
  const std::string dir = argv[1], out = argv[3];
  auto config = model::ReadBertConfig(JoinPath(dir, "config.json"));
  if (!config.ok()) return Fail(config.status().message());
  auto checkpoint = model::Checkpoint::OpenFolder(dir);
  if (!checkpoint.ok()) return Fail(checkpoint.status().message());
  auto text = ReadFile(argv[2]);
  if (!text.ok()) return Fail(text.status().message());
  const nlohmann::json spec = nlohmann::json::parse(*text);
  LoraOptions lora;
  if (spec.contains("lora")) {
    lora.rank = spec["lora"]["rank"].get<int64_t>();
    lora.alpha = spec["lora"]["alpha"].get<float>();
  }
  const ParamLayout layout = ParamLayout::For(*config, config->labels.size(), lora);
  std::vector<float> params(layout.total, 0.0f);
  Status status = LoadParams(*checkpoint, *config, layout, &params);
  if (!status.ok()) return Fail(status.message());
  if (layout.has_lora()) {
    auto init = model::Checkpoint::OpenFile(spec["lora"]["init"].get<std::string>());
    if (!init.ok()) return Fail(init.status().message());
    for (const ParamTensor& t : layout.tensors) {
      if (!IsLoraTensor(t.name)) continue;
      const model::TensorRecord* record = init->Find(t.name);
      if (record == nullptr || record->numel() != t.size) return Fail("lora init lacks " + t.name);
      status = init->ReadF32(*record, params.data() + t.offset);
      if (!status.ok()) return Fail(status.message());
    }
  }
  TrainBatch batch;
  for (size_t s = 0; s < spec["ids"].size(); ++s) {
    for (const auto& id : spec["ids"][s]) batch.ids.push_back(id.get<int32_t>());
    for (const auto& t : spec["type_ids"][s]) batch.type_ids.push_back(t.get<int32_t>());
    batch.offsets.push_back(static_cast<int64_t>(batch.ids.size()));
  }
  for (const auto& t : spec["targets"]) batch.targets.push_back(t.get<float>());

  NetOptions options;
  options.layer_norm_eps = config->layer_norm_eps;
  options.problem = config->problem_type;
  options.input_grad = layout.has_lora();
  const std::unique_ptr<TrainingNet> net = MakeTrainingNet(layout, options);
  AdamW optimizer(layout, {0.9f, 0.999f, 1e-8f, spec["weight_decay"].get<float>()});
  std::vector<float> grads(layout.total);
  nlohmann::json losses = nlohmann::json::array();
  const int steps = spec.value("steps", 1);
  for (int step = 0; step < steps; ++step) {
    net->Forward(params.data(), batch, false, 0);
    losses.push_back(net->Backward(params.data(), batch, grads.data()));
    if (step == 0) {
      status = WriteParamsSafetensors(JoinPath(out, "grads.safetensors"), layout, grads.data());
      if (!status.ok()) return Fail(status.message());
      if (layout.has_lora()) {
        model::TensorToWrite input_grad;
        input_grad.name = "input_grad";
        input_grad.shape = {batch.tokens(), layout.hidden};
        input_grad.f32 = net->input_grad().data();
        status = model::WriteSafetensors(JoinPath(out, "input_grad.safetensors"), {input_grad}, {});
        if (!status.ok()) return Fail(status.message());
      }
    }
    ClipGradNorm(grads.data(), grads.size(), spec.value("max_grad_norm", 0.0));
    optimizer.Step(spec["lr"].get<float>(), grads.data(), params.data());
  }
  status = WriteParamsSafetensors(JoinPath(out, "stepped.safetensors"), layout, params.data());
  if (!status.ok()) return Fail(status.message());
  status = WriteFileAtomic(JoinPath(out, "loss.json"), losses.dump() + "\n");
  if (!status.ok()) return Fail(status.message());
  return 0;
}

}  // namespace
}  // namespace mg::train

int main(int argc, char** argv) { return mg::train::Main(argc, argv); }
