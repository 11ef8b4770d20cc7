// Closed-bundle load time against the same model as an open folder.
//
// Seals MODEL_DIR into a bundle under WORK_DIR, then, alternating RUNS
// times (best of each counts; the machine may be shared): loading the open
// folder (Model::Load), opening the bundle (signature over every byte and
// decryption of every chunk, in memory) and loading the model from the
// bundle (LoadServedModel: open + build). Prints one JSON line.
//
// usage: bundle_bench MODEL_DIR WORK_DIR [RUNS]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "model/model.h"
#include "release/bundle.h"
#include "release/closed_release.h"
#include "release/keys.h"
#include "release/served_model.h"

namespace {

using Clock = std::chrono::steady_clock;

// User + system CPU seconds of this process so far (all threads).
double CpuSeconds() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bundle_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mg;
  if (argc < 3) Die("usage: bundle_bench MODEL_DIR WORK_DIR [RUNS]");
  const std::string model_dir = argv[1];
  const std::string work = argv[2];
  const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  std::filesystem::create_directories(work);
  const std::string bundle = work + "/model.mgb";
  const std::string deploy = work + "/deploy";
  std::filesystem::remove(bundle);
  std::filesystem::remove(deploy + ".key");
  std::filesystem::remove(deploy + ".pub");
  if (!release::WriteNewKeyPair(deploy, release::KeyKind::kDeploy).ok()) Die("keygen failed");
  release::KeyPairFiles vendor_files = release::GenerateKeyPair(release::KeyKind::kSign);
  const release::SigningKey vendor = *release::SigningKey::Parse(vendor_files.secret_text);
  const release::DeploySecretKey deploy_key = *release::DeploySecretKey::Load(deploy + ".key");

  release::ClosedReleaseOptions options;
  options.model_dir = model_dir;
  options.out_path = bundle;
  options.now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<std::string> notes;
  auto start = Clock::now();
  auto sealed = release::CreateClosedRelease(options, vendor, deploy_key.public_key(), &notes);
  if (!sealed.ok()) Die(sealed.status().ToString());
  const double seal_s = Seconds(start);
  const double bytes = static_cast<double>(std::filesystem::file_size(bundle));

  double open_folder = 1e9, open_bundle = 1e9, load_bundle = 1e9, open_cpu = 1e9;
  bool locked = false;
  for (int run = 0; run < runs; ++run) {
    start = Clock::now();
    auto folder = model::Model::Load(model_dir);
    if (!folder.ok()) Die(folder.status().ToString());
    open_folder = std::min(open_folder, Seconds(start));
    folder->reset();

    start = Clock::now();
    const double cpu = CpuSeconds();
    auto contents = release::OpenBundle(bundle, &vendor.public_key(), &deploy_key);
    if (!contents.ok()) Die(contents.status().ToString());
    open_bundle = std::min(open_bundle, Seconds(start));
    open_cpu = std::min(open_cpu, CpuSeconds() - cpu);
    locked = contents->memory_locked;
    contents->files.clear();

    release::ModelSourceOptions source;
    source.model = bundle;
    source.deploy_key = deploy + ".key";
    start = Clock::now();
    auto served = release::LoadServedModel(source, options.now);
    if (!served.ok()) Die(served.status().ToString());
    load_bundle = std::min(load_bundle, Seconds(start));
  }
  std::printf(
      "{\"bundle_bytes\":%.0f,\"seal_s\":%.3f,\"open_folder_load_s\":%.3f,"
      "\"bundle_decrypt_verify_s\":%.3f,\"bundle_decrypt_verify_gb_s\":%.2f,"
      "\"bundle_decrypt_verify_cpu_s\":%.3f,\"gb_per_cpu_s\":%.2f,\"cores\":%u,"
      "\"bundle_load_s\":%.3f,\"bundle_vs_folder\":%.2f,\"buffers_locked\":%s}\n",
      bytes, seal_s, open_folder, open_bundle, bytes / open_bundle / 1e9, open_cpu,
      bytes / open_cpu / 1e9, std::thread::hardware_concurrency(), load_bundle,
      load_bundle / open_folder, locked ? "true" : "false");
  return 0;
}
