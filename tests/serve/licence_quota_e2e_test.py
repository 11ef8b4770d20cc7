"""End-to-end test of licence quotas in `modelgate serve` over real HTTP: a
closed release that requires a licence, served with licences that limit
requests (max_requests) and tokens per UTC day (max_tokens_per_day).

Without --db the counts live in the process; with --db (SQLite, and
PostgreSQL when a URL is given) they live in the control plane: they survive
a restart, two replicas on one database share them, the refusal is in the
key's ledger and the audit chain verifies. The daily limit ends at the next
midnight UTC of the system clock. Batch commands refuse a licence with
quotas, since only the server counts them.

Usage: licence_quota_e2e_test.py MODELGATE [POSTGRES_URL]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import ROOT, Checks, Server, EMBED_MODEL  # noqa: E402

BINARY = sys.argv[1]
PG_URL = sys.argv[2] if len(sys.argv) > 2 else ""
WORK = tempfile.mkdtemp(prefix="mg-licq-")
checks = Checks()
TEXT = "hello world"  # [CLS] hello world [SEP]: 4 tokens


def cli(*args):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def must(*args):
    code, out, err = cli(*args)
    if code != 0:
        raise SystemExit(f"modelgate {' '.join(args)} failed: {err}")
    return out


def path(name):
    return os.path.join(WORK, name)


def licence(name, *limits):
    must("license", "issue", "--sign", path("vendor.key"), "--licensee", "Acme Bank",
         "--model", "quota-model", "--expires", "2099-12-31", "--not-before", "2026-01-01",
         "--out", path(name), *limits)
    return path(name)


def serve(licence_file, *extra):
    return Server(BINARY, "--model", path("c.mgb"), "--key", path("deploy.key"),
                  "--license", licence_file, "--vendor-pub", path("vendor.pub"),
                  "--log-level", "warn", *extra)


def predict(server, key=None):
    headers = {"Authorization": "Bearer " + key} if key else {}
    status, hdrs, body = server.request("POST", "/predict", {"inputs": TEXT}, headers=headers)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    return status, hdrs, parsed


def statuses(server, count, key=None):
    return [predict(server, key)[0] for _ in range(count)]


subprocess.run([sys.executable, os.path.join(ROOT, "tests", "cli", "make_classifier.py"),
                EMBED_MODEL, path("cls")], check=True, capture_output=True)
must("keygen", "--out", path("vendor"))
must("keygen", "--out", path("deploy"), "--type", "deploy")
must("release", "closed", "--model", path("cls"), "--out", path("c.mgb"), "--sign",
     path("vendor.key"), "--to", path("deploy.pub"), "--model-id", "quota-model",
     "--require-license")
requests_licence = licence("requests.lic", "--max-requests", "5")
tokens_licence = licence("tokens.lic", "--max-tokens-per-day", "10")

# Batch commands do not count quotas, so they refuse such a licence.
open(path("in.txt"), "w").write(TEXT + "\n")
code, out, err = cli("classify", "--model", path("c.mgb"), "--key", path("deploy.key"),
                     "--license", requests_licence, "--vendor-pub", path("vendor.pub"),
                     "--input", path("in.txt"))
checks.check("classify refuses a licence with quotas", code != 0 and "only `modelgate serve`" in err
             and out == "", err)

# In the process: five requests, then 429; /tokenize is not counted.
server = serve(requests_licence)
try:
    status, _, body = server.request("GET", "/info")
    info = json.loads(body)["licence"]
    checks.check("/info shows the request limit", info.get("max_requests") == 5, info)
    status, hdrs, first = predict(server)
    checks.check("4 tokens per request", status == 200 and hdrs.get("x-compute-tokens") == "4",
                 f"{status} {hdrs.get('x-compute-tokens')}")
    checks.check("five requests allowed", statuses(server, 4) == [200] * 4)
    status, hdrs, body = predict(server)
    checks.check("sixth refused with 429", status == 429, status)
    checks.check("refusal names the licence", body and body.get("error_type") == "Overloaded"
                 and body.get("error_code") == "licence_quota_exceeded"
                 and "allows 5 requests" in body.get("error", ""), body)
    checks.check("no Retry-After for a used-up licence", "retry-after" not in hdrs, hdrs)
    checks.check("x-should-retry: false for a used-up licence",
                 hdrs.get("x-should-retry") == "false", hdrs)
    status, hdrs, body = server.request("POST", "/v1/embeddings", {"input": TEXT})
    error = json.loads(body).get("error", {}) if status == 429 else {}
    checks.check("OpenAI style: insufficient_quota, x-should-retry false", status == 429
                 and error.get("code") == "insufficient_quota"
                 and error.get("type") == "insufficient_quota"
                 and hdrs.get("x-should-retry") == "false", (status, body, hdrs))
    status, _, _ = server.request("POST", "/tokenize", {"inputs": TEXT})
    checks.check("/tokenize not counted", status == 200, status)
    status, _, metrics = server.request("GET", "/metrics")
    metrics = metrics.decode()
    checks.check("metrics: requests used", 'modelgate_licence_requests_used{licence_id="' in metrics
                 and "} 5\n" in metrics.split("modelgate_licence_requests_used")[-1][:80], metrics[-600:])
    checks.check("log warns that counts are per process",
                 "counted in this process only" in server.read_log(), server.read_log()[-400:])
finally:
    checks.check("server stops cleanly", server.stop() == 0)

def seconds_to_utc_midnight():
    return 86400 - int(time.time()) % 86400


# Daily tokens against the licence clock (the system's): 10 tokens a day, 4
# per request.
server = serve(tokens_licence)
try:
    checks.check("two requests fit in 10 tokens", statuses(server, 2) == [200, 200])
    latest = seconds_to_utc_midnight()
    status, hdrs, body = predict(server)
    earliest = seconds_to_utc_midnight()
    retry = int(hdrs.get("retry-after", "0"))
    checks.check("third refused until midnight UTC", status == 429 and
                 earliest - 1 <= retry <= latest + 1, f"{status} {retry} not in "
                 f"[{earliest - 1}, {latest + 1}]")
    checks.check("daily limit named", body and "10 tokens per day" in body.get("error", ""), body)
    checks.check("daily limit: x-should-retry false", hdrs.get("x-should-retry") == "false", hdrs)
finally:
    server.stop()


def with_database(label, db):
    key = must("keys", "create", "--db", db, "--name", "acme", "--scopes", "classify").strip()
    lic = licence(f"db-{label}.lic", "--max-requests", "6")
    server = serve(lic, "--db", db)
    try:
        checks.check(f"{label}: no key -> 401, not counted", statuses(server, 3) == [401] * 3)
        checks.check(f"{label}: four allowed", statuses(server, 4, key) == [200] * 4)
    finally:
        server.stop()
    # The counts survive a restart: two more, then the licence is used up.
    server = serve(lic, "--db", db)
    try:
        checks.check(f"{label}: counts kept across restart",
                     statuses(server, 3, key) == [200, 200, 429])
        status, _, body = predict(server, key)
        checks.check(f"{label}: refusal names the licence", status == 429 and body and
                     body.get("error_code") == "licence_quota_exceeded", body)
    finally:
        server.stop()
    usage = json.loads(must("usage", "--db", db, "--format", "json"))
    rows = usage if isinstance(usage, list) else usage.get("rows", usage)
    acme = [row for row in rows if row.get("key") == "acme" or row.get("key_name") == "acme"]
    checks.check(f"{label}: ledger has the 6 served", len(acme) == 1 and
                 acme[0].get("requests") == 6 and acme[0].get("errors") == 0, rows)
    code, out, err = cli("audit", "export", "--db", db)
    entries = [json.loads(line) for line in out.splitlines() if line.strip()]
    refused = [e for e in entries if e.get("status") == 429 and
               e.get("detail") == "licence_quota_exceeded" and e.get("actor") == "acme"]
    checks.check(f"{label}: audit chain verifies", code == 0, err)
    checks.check(f"{label}: both refusals audited", len(refused) == 2, entries[-4:])

    # Two replicas on one database share one licence.
    lic2 = licence(f"shared-{label}.lic", "--max-requests", "7")
    first = serve(lic2, "--db", db)
    second = serve(lic2, "--db", db)
    try:
        results = []
        for _ in range(6):
            results += [predict(first, key)[0], predict(second, key)[0]]
        checks.check(f"{label}: replicas share the licence's 7 requests",
                     results.count(200) == 7 and results.count(429) == 5, results)
    finally:
        first.stop()
        second.stop()


with_database("SQLite", "sqlite:" + path("cp.db"))
if PG_URL:
    with_database("PostgreSQL", PG_URL)
else:
    print("PostgreSQL part skipped: no URL given")
sys.exit(checks.finish())
