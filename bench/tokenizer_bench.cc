// Tokenizer throughput on one thread: tokenizes every text of a JSON-lines
// corpus with special tokens, repeats, and prints the best repetition as one
// JSON line (the same fields as tests/oracle/hf_bench.js prints for Hugging
// Face's tokenizer, so bench/tokenizer_vs_hf.sh can put them side by side).
//
// usage: tokenizer_bench --model SRC [--lowercase true|false] [--reps N] CORPUS.jsonl
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "data/records.h"
#include "text/tokenizer.h"

int main(int argc, char** argv) {
  std::string model, corpus;
  int reps = 5;
  mg::text::TokenizerOverrides overrides;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--model" && i + 1 < argc) {
      model = argv[++i];
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::atoi(argv[++i]);
    } else if (arg == "--lowercase" && i + 1 < argc) {
      overrides.lowercase = std::strcmp(argv[++i], "true") == 0;
    } else {
      corpus = arg;
    }
  }
  if (model.empty() || corpus.empty() || reps < 1) {
    std::fprintf(
        stderr,
        "usage: tokenizer_bench --model SRC [--lowercase true|false] [--reps N] CORPUS.jsonl\n");
    return 2;
  }
  auto tokenizer = mg::text::Tokenizer::Load(model, overrides);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "error: %s\n", tokenizer.status().message().c_str());
    return 1;
  }
  auto records = mg::data::ReadRecords(corpus, mg::data::RecordFormat::kJsonLines);
  if (!records.ok()) {
    std::fprintf(stderr, "error: %s\n", records.status().message().c_str());
    return 1;
  }
  size_t bytes = 0;
  for (const auto& record : *records)
    bytes += record.text.size() + (record.text_pair ? record.text_pair->size() : 0);
  mg::text::Encoding encoding;
  double best = 1e30;
  size_t tokens = 0;
  for (int rep = 0; rep <= reps; ++rep) {  // repetition 0 warms up
    tokens = 0;
    auto start = std::chrono::steady_clock::now();
    for (const auto& record : *records) {
      std::string_view pair;
      if (record.text_pair) pair = *record.text_pair;
      (void)tokenizer->Encode(record.text, record.text_pair ? &pair : nullptr, {}, &encoding);
      tokens += encoding.size();
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (rep > 0 && seconds < best) best = seconds;
  }
  std::printf(
      "{\"tool\":\"modelgate\",\"docs\":%zu,\"bytes\":%zu,\"tokens\":%zu,\"seconds\":%.6f,"
      "\"tokens_per_s\":%.0f,\"mb_per_s\":%.3f}\n",
      records->size(), bytes, tokens, best, tokens / best, bytes / best / 1e6);
  return 0;
}
