#include "release/precision_report.h"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_limits.h"
#include "model/bert_config.h"
#include "model/checkpoint.h"
#include "model/stored_precision.h"

namespace mg::release {

using nlohmann::json;

std::string PrecisionReportToJson(const PrecisionReport& report) {
  json out;
  out["format"] = kPrecisionFormat;
  out["version"] = 1;
  out["dtype"] = std::string(kernels::PrecisionName(report.dtype));
  out["validation"] = {{"data", report.data},
                       {"data_sha256", report.data_sha256},
                       {"examples", report.examples},
                       {"comparison", json::parse(report.comparison_json)}};
  return out.dump(2) + "\n";
}

Result<PrecisionReport> ParsePrecisionReport(std::string_view text, const std::string& where) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext(where));
  const json doc = json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) { return CorruptionError(where + ": " + why); };
  if (doc.is_discarded() || !doc.is_object()) return bad("not a JSON object");
  if (doc.value("format", "") != kPrecisionFormat) return bad("not a modelgate precision report");
  if (!doc.contains("version") || doc["version"] != 1)
    return bad("unsupported version (this modelgate reads version 1)");
  if (!doc.contains("dtype") || !doc["dtype"].is_string()) return bad("no \"dtype\"");
  Result<kernels::Precision> dtype = kernels::ParsePrecision(doc["dtype"].get<std::string>());
  if (!dtype.ok()) return bad(dtype.status().message());
  if (*dtype == kernels::Precision::kF32) return bad("\"dtype\" f32 needs no report");
  if (!doc.contains("validation") || !doc["validation"].is_object())
    return bad("no \"validation\" object");
  const json& v = doc["validation"];
  if (!v.contains("data") || !v["data"].is_string() || !v.contains("data_sha256") ||
      !v["data_sha256"].is_string() || !v.contains("examples") ||
      !v["examples"].is_number_integer() || !v.contains("comparison") ||
      !v["comparison"].is_object()) {
    return bad("\"validation\" needs data, data_sha256, examples and comparison");
  }
  PrecisionReport report;
  report.dtype = *dtype;
  report.data = v["data"].get<std::string>();
  report.data_sha256 = v["data_sha256"].get<std::string>();
  report.examples = v["examples"].get<int64_t>();
  report.comparison_json = v["comparison"].dump();
  return report;
}

std::string DescribePrecisionReport(const PrecisionReport& report) {
  const std::string dtype(kernels::PrecisionName(report.dtype));
  std::string out = dtype + ", validated on " + report.data + " (" +
                    std::to_string(report.examples) + " examples)";
  const json c = json::parse(report.comparison_json, nullptr, false);
  char buf[160];
  auto accuracy = [&](const std::string& name) -> double {
    if (!c.contains(name) || !c[name].is_object() || !c[name].contains("accuracy")) return -1;
    return c[name]["accuracy"].is_number() ? c[name]["accuracy"].get<double>() : -1;
  };
  const double low = accuracy(dtype), full = accuracy("f32");
  if (low >= 0 && full >= 0) {
    std::snprintf(buf, sizeof(buf), ": accuracy %.4f (f32 %.4f)", low, full);
    out += buf;
  }
  if (c.contains("agreement") && c["agreement"].is_number()) {
    std::snprintf(buf, sizeof(buf), ", agreement %.2f %%", 100 * c["agreement"].get<double>());
    out += buf;
  }
  if (c.contains("cosine") && c["cosine"].is_object() && c["cosine"].contains("mean") &&
      c["cosine"]["mean"].is_number() && c["cosine"].contains("min") &&
      c["cosine"]["min"].is_number()) {
    std::snprintf(buf, sizeof(buf), "%s embedding cosine to f32 mean %.8f, min %.8f",
                  low >= 0 ? "," : ":", c["cosine"]["mean"].get<double>(),
                  c["cosine"]["min"].get<double>());
    out += buf;
  }
  return out;
}

Result<std::optional<kernels::Precision>> ValidatedPrecisionOf(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, kPrecisionFile);
  if (!FileExists(path)) return std::optional<kernels::Precision>();
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  MG_ASSIGN_OR_RETURN(PrecisionReport report, ParsePrecisionReport(text, path));
  return std::optional<kernels::Precision>(report.dtype);
}

Result<std::string> StoreWeightsInPrecision(std::string_view weights, std::string_view config_json,
                                            const std::string& where, kernels::Precision precision,
                                            std::vector<std::string>* notes) {
  MG_ASSIGN_OR_RETURN(const model::BertConfig config,
                      model::ParseBertConfig(std::string(config_json), where));
  // Borrowed bytes (a no-op owner): the checkpoint lives only inside this call.
  std::shared_ptr<const void> borrowed(weights.data(), [](const void*) {});
  MG_ASSIGN_OR_RETURN(model::Checkpoint checkpoint,
                      model::Checkpoint::FromSafetensorsMemory(borrowed, weights, where));
  MG_ASSIGN_OR_RETURN(std::string stored,
                      model::SerializeInPrecision(checkpoint, config.family(), precision));
  char line[200];
  std::snprintf(line, sizeof(line), "stored the weights in %s: %.1f MiB (were %.1f MiB)",
                std::string(kernels::PrecisionName(precision)).c_str(),
                static_cast<double>(stored.size()) / (1 << 20),
                static_cast<double>(weights.size()) / (1 << 20));
  notes->push_back(line);
  return stored;
}

}  // namespace mg::release
