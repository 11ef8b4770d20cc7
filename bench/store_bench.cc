// store_bench: the control plane's cost per request, Admit + Finish on a
// real database, at several concurrencies, so the server's overhead target
// (the control plane adds <= 10 % with SQLite, <= 15 % with PostgreSQL to a
// request's latency) can be reasoned about before the end-to-end benchmark.
//
//   store_bench --db sqlite:/tmp/b.db --threads 1,32 --requests 4000
//
// Prints one line per concurrency: requests/s and Admit+Finish latency
// percentiles in microseconds, then the totals the ledger must hold and
// whether the audit chain verifies.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "store/control_plane.h"

namespace {

using Clock = std::chrono::steady_clock;

int Fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db, threads_list = "1,32";
  int64_t requests = 4000, tokens = 64, keys = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--db") {
      db = value;
    } else if (flag == "--threads") {
      threads_list = value;
    } else if (flag == "--requests") {
      requests = std::atoll(value.c_str());
    } else if (flag == "--tokens") {
      tokens = std::atoll(value.c_str());
    } else if (flag == "--keys") {
      keys = std::atoll(value.c_str());
    } else {
      return Fail("unknown flag " + flag + " (--db --threads --requests --tokens --keys)");
    }
  }
  if (db.empty() || requests <= 0 || keys <= 0) {
    return Fail(
        "usage: store_bench --db DB [--threads 1,32] [--requests N] [--tokens N] [--keys N]");
  }
  std::vector<int> concurrencies;
  for (size_t start = 0; start < threads_list.size();) {
    size_t end = threads_list.find(',', start);
    if (end == std::string::npos) end = threads_list.size();
    concurrencies.push_back(std::atoi(threads_list.substr(start, end - start).c_str()));
    start = end + 1;
  }
  const int max_threads = *std::max_element(concurrencies.begin(), concurrencies.end());
  // SQLite has one writer: one connection serves best (the default).
  const bool sqlite = db.rfind("sqlite:", 0) == 0;
  auto opened = mg::store::ControlPlane::Open(db, {.pool_size = sqlite ? 0 : max_threads});
  if (!opened.ok()) return Fail(opened.status().ToString());
  mg::store::ControlPlane& cp = **opened;
  std::vector<std::string> secrets;
  for (int64_t k = 0; k < keys; ++k) {
    mg::store::KeySpec spec;
    spec.name = "bench-" + std::to_string(getpid()) + "-" + std::to_string(k);
    spec.scopes = {"embed"};
    spec.rpm = 1'000'000'000;
    spec.quota_tokens = 1'000'000'000'000;
    auto created = cp.CreateKey(spec, "store_bench");
    if (!created.ok()) return Fail(created.status().ToString());
    secrets.push_back(created->secret);
  }
  if (!cp.SetRoutePrice("/v1/embeddings", 20'000, "store_bench").ok()) return Fail("price");

  std::atomic<int64_t> total_requests{0}, total_tokens{0}, failures{0};
  std::printf("%-10s %8s %10s %12s %10s %10s %10s\n", "backend", "threads", "requests", "req/s",
              "p50_us", "p99_us", "mean_us");
  for (int threads : concurrencies) {
    std::vector<std::vector<double>> latencies(threads);
    std::atomic<int64_t> next{0};
    const auto start = Clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        while (true) {
          const int64_t n = next.fetch_add(1);
          if (n >= requests) break;
          const std::string id = "bench-" + std::to_string(n);
          mg::store::AdmitRequest request{secrets[n % secrets.size()], "/v1/embeddings", "embed",
                                          id, tokens};
          const auto begin = Clock::now();
          mg::store::Admission admission = cp.Admit(request);
          bool ok = admission.status == 200;
          if (ok) ok = cp.Finish(admission, request, {200, tokens, 1.0}).ok();
          latencies[t].push_back(
              std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
          if (ok) {
            total_requests.fetch_add(1);
            total_tokens.fetch_add(tokens);
          } else {
            failures.fetch_add(1);
          }
        }
      });
    }
    for (auto& worker : workers) worker.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (const auto& per_thread : latencies)
      all.insert(all.end(), per_thread.begin(), per_thread.end());
    std::sort(all.begin(), all.end());
    double sum = 0;
    for (double v : all) sum += v;
    std::printf("%-10s %8d %10lld %12.0f %10.0f %10.0f %10.0f\n",
                db.rfind("sqlite:", 0) == 0 ? "sqlite" : "postgresql", threads,
                static_cast<long long>(all.size()), static_cast<double>(all.size()) / seconds,
                all[all.size() / 2], all[std::min(all.size() - 1, all.size() * 99 / 100)],
                sum / static_cast<double>(all.size()));
  }
  auto verdict = cp.VerifyAudit();
  std::printf("admitted=%lld tokens=%lld failures=%lld audit=%s\n",
              static_cast<long long>(total_requests.load()),
              static_cast<long long>(total_tokens.load()), static_cast<long long>(failures.load()),
              verdict.ok() && verdict->intact ? "intact" : "BROKEN");
  return failures.load() == 0 && verdict.ok() && verdict->intact ? 0 : 1;
}
