// modelgate serve: the HTTP API (SPEC.md, "HTTP API") in the shapes of Hugging
// Face text-embeddings-inference and OpenAI's embeddings API.
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/control_plane_cli.h"
#include "apps/modelgate/dtype_option.h"
#include "apps/modelgate/output.h"
#include "base/env.h"
#include "release/licence_policy.h"
#include "release/served_model.h"
#include "release/watermark.h"
#include "serve/admin_api.h"
#include "serve/gate.h"
#include "serve/gate_factory.h"
#include "serve/http_server.h"
#include "serve/logger.h"
#include "serve/service.h"

namespace mg::cli {
namespace {

struct ServeArgs {
  release::ModelSourceOptions source;
  serve::HttpServerOptions http;
  serve::ServiceOptions service;
  int threads = 0;
  std::string log_level = "info";
  std::string privacy = "log";
  std::vector<std::string> privacy_entities;
  std::string auth;  // default: on with --db, off without
  std::string db;
  std::string audit_key, audit_anchor;
  bool workers_given = false;
  std::string port_file;
  std::string watermark_key;
  bool extraction_alarm = false;
  std::string extraction_action = "none";
  serve::ExtractionOptions extraction;
  std::string dtype;  // empty: the release's validated precision, else f32
};

// Lets the server hold thousands of idle connections.
void RaiseFileLimit() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// A closed bundle (or a hybrid's encrypted head) is decrypted into this
// process: no core dump may hold the weights or the deployment key, and no
// other process of the same user may read its memory through /proc or
// ptrace. Bundles are files; plain and open models are folders.
void KeepOutOfCoreDumps(const std::string& model, serve::Logger* logger) {
  std::error_code ec;
  if (std::filesystem::is_directory(model, ec)) return;
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    logger->Log(serve::LogLevel::kWarn,
                "could not mark the process non-dumpable: a core dump could hold the "
                "decrypted weights",
                {{"error", std::strerror(errno)}});
  }
}

void RunServe(ServeArgs args) {
  RaiseFileLimit();
  args.service.gemm_threads = args.threads;
  serve::Logger logger(ValueOrThrow(serve::ParseLogLevel(args.log_level)));
  if (args.auth.empty()) args.auth = args.db.empty() ? "off" : "on";
  if (args.auth == "on" && args.db.empty()) {
    throw CliError("--auth on needs the control plane: give --db sqlite:PATH or postgresql://…", 2);
  }
  if ((!args.audit_key.empty() || !args.audit_anchor.empty()) && args.db.empty()) {
    throw CliError("--audit-key and --audit-anchor need --db", 2);
  }
  // Admit and Finish hold a worker while they wait for the database: with
  // more workers, concurrent requests share commits (group commit).
  if (args.service.metrics_auth && args.auth != "on") {
    throw CliError("--metrics-auth needs --auth on (and --db)", 2);
  }
  if (args.auth == "on" && !args.workers_given) args.service.tokenization_workers = 32;
  if (args.extraction_alarm) {
    if (args.auth != "on") {
      throw CliError(
          "--extraction-alarm watches each API key's queries: it needs --auth on (and --db)", 2);
    }
    args.service.extraction = args.extraction;
    args.service.extraction_action =
        ValueOrThrow(serve::ParseExtractionAction(args.extraction_action));
  } else if (args.extraction_action != "none") {
    throw CliError("--extraction-action needs --extraction-alarm", 2);
  }
  // Declared before the service, so that it outlives the gate that uses it.
  std::unique_ptr<store::ControlPlane> control_plane;
  if (!args.db.empty()) {
    control_plane = OpenControlPlane(args.db, args.audit_key, args.audit_anchor);
    if (auto warning = MissingAuditKeyWarning(*control_plane, args.audit_key)) {
      logger.Log(serve::LogLevel::kWarn, *warning);
    }
  }
  args.service.privacy = ValueOrThrow(serve::ParsePrivacyMode(args.privacy));
  for (const std::string& name : args.privacy_entities) {
    args.service.privacy_entities.push_back(ValueOrThrow(privacy::ParseEntityType(name)));
  }
  args.service.clock = SecondsClock(Env::Default());
  if (!args.watermark_key.empty()) {
    args.service.watermark = std::make_shared<const release::WatermarkKey>(
        ValueOrThrow(release::LoadWatermarkKey(args.watermark_key)));
  }
  KeepOutOfCoreDumps(args.source.model, &logger);
  args.source.load = LoadOptionsFor(args.dtype);
  args.source.precision_given = !args.dtype.empty();
  auto served = ValueOrThrow(release::LoadServedModel(args.source, args.service.clock()));
  kernels::Precision asked = args.source.load.precision;
  if (served.precision_report) {
    logger.Log(serve::LogLevel::kInfo,
               "the release was validated in " +
                   release::DescribePrecisionReport(*served.precision_report));
    if (!args.source.precision_given) asked = served.precision_report->dtype;
  }
  if (served.model->precision() != asked) {
    logger.Log(serve::LogLevel::kWarn, "note: oneDNN has no " +
                                           std::string(kernels::PrecisionName(asked)) +
                                           " kernels on this CPU; running in f32");
  }
  for (const std::string& note : served.notes) logger.Log(serve::LogLevel::kWarn, "note: " + note);
  for (const std::string& warning : served.model->warnings()) {
    logger.Log(serve::LogLevel::kWarn, warning);
  }
  const std::string model_id = served.model_id;
  serve::GateOptions gate_options;
  gate_options.auth = args.auth == "on";
  gate_options.request_timeout_s = args.service.request_timeout_s;
  gate_options.clock = args.service.clock;
  std::unique_ptr<serve::Gate> gate = ValueOrThrow(serve::MakeGate(
      gate_options, release::LicencePolicy::For(served), control_plane.get(), &logger));
  auto service = ValueOrThrow(
      serve::Service::Create(args.service, std::move(served), std::move(gate), &logger));
  std::unique_ptr<serve::AdminApi> admin;
  if (control_plane) {
    admin = std::make_unique<serve::AdminApi>(control_plane.get(), args.audit_anchor);
    service->SetAdminHandler(
        [api = admin.get()](const serve::HttpRequest& request) { return api->Handle(request); });
  }
  auto server = ValueOrThrow(serve::HttpServer::Create(args.http, service.get(), &logger));
  if (!args.port_file.empty()) {
    Output port_file(args.port_file);
    port_file.Write(std::to_string(server->port()) + "\n");
    port_file.Commit();
  }
  logger.Log(serve::LogLevel::kInfo, "listening",
             {{"host", args.http.host},
              {"port", server->port()},
              {"tls", args.http.tls_cert.empty() ? "off" : "on"},
              {"model_id", model_id},
              {"privacy", args.privacy},
              {"auth", args.auth},
              {"watermark", args.watermark_key.empty() ? "off" : "on"}});
  server->Run();
  service->Stop();
  logger.Log(serve::LogLevel::kInfo, "stopped");
}

}  // namespace

void RegisterServe(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "HTTP server for the model, compatible with Hugging Face text-embeddings-inference\n"
      "(/embed, /predict, /similarity, /embed_all, /tokenize, /decode, POST /, /info,\n"
      "/health, /ping) and OpenAI (/v1/embeddings), with\n"
      "Prometheus /metrics. Requests from many clients are batched dynamically.\n"
      "SIGTERM stops accepting, finishes the requests in flight and exits 0.");
  cmd->add_option("--model", args->source.model,
                  "Model source: model folder, open release, closed bundle (.mgb)")
      ->required();
  cmd->add_option("--base", args->source.base, "Hybrid release: the open base folder");
  cmd->add_option("--key", args->source.deploy_key, "Deployment key (closed and hybrid releases)");
  cmd->add_option("--license", args->source.licence, "Licence file, when the release needs one");
  cmd->add_option("--vendor-pub", args->source.vendor_pub,
                  "The vendor's public key (signatures and licences are checked against it)");
  cmd->add_option("--host", args->http.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", args->http.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--port-file", args->port_file, "Write the port listened on to this file");
  cmd->add_option("--tls-cert", args->http.tls_cert, "PEM certificate chain: serve HTTPS");
  cmd->add_option("--tls-key", args->http.tls_key, "PEM private key of --tls-cert");
  cmd->add_option("--threads", args->threads, "GEMM threads of the inference thread (0: all)")
      ->capture_default_str();
  AddDtypeOption(cmd, &args->dtype, "--dtype", kSourceDtypeHelp);
  cmd->add_option("--io-threads", args->http.io_threads, "HTTP I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--tokenization-workers", args->service.tokenization_workers,
                  "Threads that parse, tokenise, check keys and format replies (default 2; 32\n"
                  "with --auth on, as they wait on the control-plane database)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-concurrent-requests", args->service.max_concurrent_requests,
                  "Inference requests in flight; beyond it 503 \"overloaded\" at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-batch-tokens", args->service.max_batch_tokens,
                  "Tokens per forward pass; a request with more runs in several (/embed_all:\n"
                  "at most this many per request)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_option("--max-batch-requests", args->service.max_batch_requests,
                  "Requests per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-client-batch-size", args->service.max_client_batch_size,
                  "Inputs per request; more get 422. Default: as many as fit, at --max-input-\n"
                  "length tokens each, in 64 MiB of request memory and 64 batches of\n"
                  "--max-batch-tokens (2048 with the defaults and a 512-token model; /info\n"
                  "shows it); requests are run in batches of --max-batch-tokens")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-input-length", args->service.max_input_length,
                  "Tokens per input (0: the model's limit); longer inputs are truncated, or get "
                  "422 when the request says \"truncate\": false (or with --no-auto-truncate)")
      ->capture_default_str();
  cmd->add_flag("--auto-truncate,!--no-auto-truncate", args->service.auto_truncate,
                "Requests that do not say \"truncate\" truncate inputs over --max-input-length\n"
                "(default on, as TEI 1.9); --no-auto-truncate refuses them with 422. Replies\n"
                "with truncated inputs carry x-truncated-inputs: N");
  cmd->add_option("--max-body-bytes", args->http.max_body_bytes, "Largest request body (413)")
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", args->http.max_header_bytes, "Largest header block (431)")
      ->capture_default_str();
  cmd->add_option("--max-connections", args->http.max_connections,
                  "Connections open at once; more are answered 503 and closed (0: what the open-"
                  "file limit allows, less 128)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("--idle-timeout", args->http.idle_timeout_s,
                  "Seconds a connection has to deliver a whole request, counted from connect or "
                  "the previous reply (idle and slow clients are disconnected)")
      ->capture_default_str();
  cmd->add_option("--request-timeout", args->service.request_timeout_s,
                  "Seconds a request may wait for inference before 503")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", args->http.drain_timeout_s,
                  "On SIGTERM, seconds to let requests in flight finish")
      ->capture_default_str();
  cmd->add_option("--log-level", args->log_level, "debug, info, warn, error or off")
      ->capture_default_str();
  cmd->add_option("--privacy", args->privacy,
                  "off; log (request text never logged, PII only counted); redact (PII replaced "
                  "before the model sees it); block (requests with PII refused with 422)")
      ->capture_default_str();
  cmd->add_option("--privacy-entities", args->privacy_entities,
                  "PII types looked for (default: all), e.g. EMAIL_ADDRESS PHONE_NUMBER")
      ->delimiter(',');
  cmd->add_option("--db", args->db,
                  "Control plane (API keys, limits, ledger, audit; /admin/* routes): sqlite:PATH\n"
                  "or postgresql://USER@HOST:PORT/DB, which several replicas may share");
  cmd->add_option("--auth", args->auth,
                  "on: every inference request needs an API key of --db (the default with --db);\n"
                  "off: admit every request (the default without --db)")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_flag("--metrics-auth", args->service.metrics_auth,
                "/metrics needs a key with the admin scope (default: public)");
  AddAuditSigningOptions(cmd, args->audit_key, args->audit_anchor);
  cmd->add_option("--index", args->service.catalogue_dir,
                  "Recommendation catalogue folder (created when missing) behind /v1/items, "
                  "/v1/items/delete and /v1/recommend; without it those routes answer 404");
  cmd->add_option("--watermark-key", args->watermark_key,
                  "Watermark key (modelgate watermark keygen): marks embeddings and scores so\n"
                  "that a model distilled from the answers can be traced (modelgate trace\n"
                  "--endpoint URL --watermark KEY); off by default")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--extraction-alarm", args->extraction_alarm,
                "Watch each API key's queries for model extraction (docs/serving.md, \"Extraction\n"
                "alarm\"): PRADA's normality test of the distances between its queries, and the\n"
                "share of tokens it never sent before; an alarm is counted in /metrics, logged\n"
                "and audited (needs --auth on)");
  cmd->add_option("--extraction-action", args->extraction_action,
                  "What an alarm does besides: none; throttle (the key gets\n"
                  "--extraction-throttle-rpm requests a minute for --extraction-throttle-seconds,\n"
                  "then 429, in this server's memory); degrade (the key's output policy becomes\n"
                  "\"label,no-embed\" in this server's memory: the best label without its score,\n"
                  "embedding routes refused);\n"
                  "suspend (the key is revoked in --db, with\n"
                  "the alarm as reason, so every server refuses it)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "throttle", "degrade", "suspend"}));
  cmd->add_option("--extraction-warmup", args->extraction.warmup,
                  "Queries of a key before its first test")
      ->capture_default_str()
      ->check(CLI::Range(20, 5000));
  cmd->add_option("--extraction-w-threshold", args->extraction.w_threshold,
                  "Shapiro-Wilk W below which a key alarms (PRADA's delta)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--extraction-novelty-threshold", args->extraction.novelty_threshold,
                  "Share of a key's last 100 queries' tokens never sent before above which it "
                  "alarms (1: never)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--extraction-max-keys", args->extraction.max_keys,
                  "Keys followed at once; the one idle longest is forgotten to make room")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  args->extraction.throttle_per_minute = 6;
  cmd->add_option("--extraction-throttle-rpm", args->extraction.throttle_per_minute,
                  "Requests a minute left to a key that alarmed (--extraction-action throttle)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--extraction-throttle-seconds", args->extraction.throttle_seconds,
                  "How long the throttle lasts after the alarm")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 32));
  cmd->callback([args, cmd] {
    args->workers_given = cmd->count("--tokenization-workers") > 0;
    RunServe(*args);
  });
}

}  // namespace mg::cli
