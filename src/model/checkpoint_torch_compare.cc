// checkpoint_torch_compare: reads the checkpoints tests/model/make_checkpoints.py
// wrote with PyTorch and compares every tensor, bit for bit, with the
// reference dumps listed in its manifest; files the manifest marks as refused
// must fail with the expected message. Prints one line per case; exits 0 only
// when every case matches.
//
// usage: checkpoint_torch_compare OUT_DIR
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/file.h"
#include "model/checkpoint.h"

namespace mg::model {
namespace {

// Compares one tensor with its reference dumps; empty when it matches.
std::string CompareTensor(const Checkpoint& checkpoint, const nlohmann::json& expected,
                          const std::string& dir) {
  const std::string name = expected.at("name");
  const TensorRecord* record = checkpoint.Find(name);
  if (record == nullptr) return "missing tensor '" + name + "'";
  if (DTypeName(record->dtype) != expected.at("dtype").get<std::string>()) {
    return "'" + name + "': dtype " + std::string(DTypeName(record->dtype)) + ", expected " +
           expected.at("dtype").get<std::string>();
  }
  if (record->shape != expected.at("shape").get<std::vector<int64_t>>()) {
    return "'" + name + "': shape differs";
  }
  Result<std::string> raw = ReadFile(JoinPath(dir, expected.at("raw")));
  if (!raw.ok()) return raw.status().ToString();
  if (raw->size() != record->size_bytes ||
      (record->size_bytes > 0 && std::memcmp(raw->data(), record->data, raw->size()) != 0)) {
    return "'" + name + "': stored bytes differ from torch's";
  }
  if (expected.at("f32").is_null()) return "";
  Result<std::string> f32 = ReadFile(JoinPath(dir, expected.at("f32")));
  if (!f32.ok()) return f32.status().ToString();
  Result<std::vector<float>> values = checkpoint.ReadF32(*record);
  if (!values.ok()) return values.status().ToString();
  if (f32->size() != values->size() * sizeof(float) ||
      (!values->empty() && std::memcmp(f32->data(), values->data(), f32->size()) != 0)) {
    return "'" + name + "': float32 conversion differs from torch's";
  }
  return "";
}

// Runs one manifest case; empty when it behaves as expected.
std::string RunCase(const nlohmann::json& spec, const std::string& dir) {
  const std::string path = JoinPath(dir, spec.at("path"));
  Result<Checkpoint> checkpoint =
      spec.at("open") == "folder" ? Checkpoint::OpenFolder(path) : Checkpoint::OpenFile(path);
  if (!spec.at("error").is_null()) {
    const std::string needle = spec.at("error");
    if (checkpoint.ok()) return "loaded, but should fail with \"" + needle + "\"";
    if (checkpoint.status().message().find(needle) == std::string::npos) {
      return "wrong error: " + checkpoint.status().ToString();
    }
    return "";
  }
  if (!checkpoint.ok()) return checkpoint.status().ToString();
  const nlohmann::json& tensors = spec.at("tensors");
  if (checkpoint->tensors().size() != tensors.size()) {
    return std::to_string(checkpoint->tensors().size()) + " tensors, torch wrote " +
           std::to_string(tensors.size());
  }
  for (const nlohmann::json& expected : tensors) {
    std::string problem = CompareTensor(*checkpoint, expected, dir);
    if (!problem.empty()) return problem;
  }
  return "";
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  Result<std::string> text = ReadFile(JoinPath(dir, "manifest.json"));
  if (!text.ok()) {
    std::fprintf(stderr, "error: %s\n", text.status().ToString().c_str());
    return 1;
  }
  const nlohmann::json manifest = nlohmann::json::parse(*text);
  int failures = 0;
  size_t tensors = 0;
  for (const nlohmann::json& spec : manifest.at("cases")) {
    const std::string problem = RunCase(spec, dir);
    tensors += spec.at("tensors").size();
    std::printf("%s  %s\n", problem.empty() ? "ok  " : "FAIL",
                spec.at("name").get<std::string>().c_str());
    if (!problem.empty()) {
      std::printf("      %s\n", problem.c_str());
      ++failures;
    }
  }
  std::printf("%zu cases, %zu tensors compared bit for bit, %d failed\n",
              manifest.at("cases").size(), tensors, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace mg::model

int main(int argc, char** argv) {
  try {
    return mg::model::Main(argc, argv);
  } catch (const std::exception& error) {  // a malformed manifest
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}
