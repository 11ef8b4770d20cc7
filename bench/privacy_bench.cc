// PII detection throughput and latency on one thread: analyses every text of
// a JSON-lines corpus with all pattern detectors (throughput in MB/s, best of
// --reps repetitions; "mb_per_s" with the texts coming from main memory,
// "mb_per_s_in_cache" with each text read once before it is analysed, as a
// server that has just received it), then the corpus cut into 10 KB
// documents one at a time (latency per document: median and p99). Prints
// one JSON line.
//
// usage: privacy_bench [--reps N] [--doc-bytes N] CORPUS.jsonl
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "data/records.h"
#include "privacy/analyzer.h"

namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string corpus;
  int reps = 5;
  size_t doc_bytes = 10 * 1024;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (arg == "--doc-bytes" && i + 1 < argc) {
      doc_bytes = static_cast<size_t>(std::atol(argv[++i]));
    } else {
      corpus = arg;
    }
  }
  if (corpus.empty() || reps < 1 || doc_bytes == 0) {
    std::fprintf(stderr, "usage: privacy_bench [--reps N] [--doc-bytes N] CORPUS.jsonl\n");
    return 2;
  }
  auto records = mg::data::ReadRecords(corpus, mg::data::RecordFormat::kJsonLines);
  if (!records.ok()) {
    std::fprintf(stderr, "error: %s\n", records.status().message().c_str());
    return 1;
  }
  auto analyzer = mg::privacy::Analyzer::Create();
  if (!analyzer.ok()) {
    std::fprintf(stderr, "error: %s\n", analyzer.status().message().c_str());
    return 1;
  }
  auto scratch = (*analyzer)->NewScratch();
  size_t bytes = 0;
  std::string all;
  for (const auto& record : *records) {
    bytes += record.text.size();
    all += record.text;
    all += '\n';
  }

  // Throughput over the corpus, one text at a time: as stored (the texts
  // come from main memory), and just received (each text was read once, as a
  // server or a line reader has it in cache, before it is timed).
  double best = 1e30;
  double best_in_cache = 1e30;
  size_t findings = 0;
  unsigned touched = 0;
  for (int rep = 0; rep <= reps; ++rep) {  // repetition 0 warms up
    findings = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& record : *records) {
      findings += (*analyzer)->Analyze(record.text, scratch->get())->size();
    }
    const double seconds = Seconds(std::chrono::steady_clock::now() - start);
    double in_cache = 0;
    for (const auto& record : *records) {
      for (char c : record.text) touched += static_cast<unsigned char>(c);
      const auto begin = std::chrono::steady_clock::now();
      const auto found = (*analyzer)->Analyze(record.text, scratch->get());
      in_cache += Seconds(std::chrono::steady_clock::now() - begin);
      if (!found.ok()) return 1;
    }
    if (rep > 0) {
      best = std::min(best, seconds);
      best_in_cache = std::min(best_in_cache, in_cache);
    }
  }

  // Latency of single documents of doc_bytes.
  std::vector<double> latencies;
  for (size_t offset = 0; offset + doc_bytes <= all.size(); offset += doc_bytes) {
    const std::string_view doc(all.data() + offset, doc_bytes);
    const auto start = std::chrono::steady_clock::now();
    const auto found = (*analyzer)->Analyze(doc, scratch->get());
    latencies.push_back(Seconds(std::chrono::steady_clock::now() - start) * 1e3);
    if (!found.ok()) return 1;
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1,
                                                  static_cast<size_t>(p * latencies.size()))];
  };
  std::printf(
      "{\"tool\":\"modelgate-privacy\",\"texts\":%zu,\"bytes\":%zu,\"findings\":%zu,"
      "\"seconds\":%.4f,\"mb_per_s\":%.1f,\"mb_per_s_in_cache\":%.1f,\"doc_bytes\":%zu,"
      "\"docs\":%zu,\"doc_ms_median\":%.4f,\"doc_ms_p99\":%.4f,\"checksum\":%u}\n",
      records->size(), bytes, findings, best, bytes / best / 1e6, bytes / best_in_cache / 1e6,
      doc_bytes, latencies.size(), percentile(0.5), percentile(0.99), touched & 1);
  return 0;
}
