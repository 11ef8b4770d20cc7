"""End-to-end test of what `modelgate serve --auth on` does for clients without
a valid API key, over real HTTP on loopback with a SQLite control plane.

A request without a key anyone holds (missing, malformed, unknown) is refused
with 401 before its body is read: no parsing, licence, privacy or catalogue
verdict leaks, no PII metric moves, and nothing is stored for it (no audit or
ledger row: a flood of them cannot fill the disk). Such refusals are counted
in a metric and logged at most once a minute. Audit rows name routes, never
raw paths; /tokenize counts its tokens against the key's limits.

Usage: keyless_e2e_test.py MODELGATE
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Checks, Server, EMBED_MODEL  # noqa: E402

BINARY = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="mg-keyless-")
DB_PATH = os.path.join(WORK, "cp.db")
DB = "sqlite:" + DB_PATH
checks = Checks()
PII_TEXT = "mail alice.smith@example.com or call +1 415 555 0134"
UNKNOWN_KEY = "mg_" + "A" * 43


def must(*args):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"modelgate {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def bearer(key):
    return {"Authorization": "Bearer " + key}


def rows(table, where=""):
    with sqlite3.connect(DB_PATH) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table} {where}").fetchone()[0]


def metric(server, name):
    """The summed values of the lines of `name` in /metrics."""
    _, _, body = server.request("GET", "/metrics")
    total = 0
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


admin_key = must("keys", "create", "--db", DB, "--name", "root",
                 "--scopes", "admin,embed,recommend")
tpm_key = must("keys", "create", "--db", DB, "--name", "tpm5", "--scopes", "embed", "--tpm", "5")
STARTED = time.monotonic()
server = Server(BINARY, "--model", EMBED_MODEL, "--db", DB, "--log-level", "info",
                "--index", os.path.join(WORK, "catalogue"))
try:
    status, _, body = server.post("/v1/items", {"items": [{"id": "refund", "text": "a refund"}]},
                                  headers=bearer(admin_key))
    checks.check("catalogue item added", status == 200, body)

    # Keyless requests: 401 before anything else happens.
    pii_before = metric(server, "modelgate_pii_detections_total")
    for headers in [{}, bearer("not-a-key"), bearer(UNKNOWN_KEY)]:
        status, _, body = server.post("/embed", {"inputs": PII_TEXT}, headers=headers)
        checks.check("keyless PII request -> 401", status == 401, body)
    checks.check("keyless PII requests move no PII metric",
                 metric(server, "modelgate_pii_detections_total") == pii_before,
                 f"{pii_before} -> {metric(server, 'modelgate_pii_detections_total')}")
    status, _, body = server.post("/embed", {"inputs": PII_TEXT}, headers=bearer(admin_key))
    checks.check("the same request with a key is scanned",
                 status == 200 and metric(server, "modelgate_pii_detections_total") > pii_before,
                 body)

    status, _, body = server.request("POST", "/embed", body="{not json")
    checks.check("malformed body without a key -> 401, not 422", status == 401, body)
    status, _, body = server.request("POST", "/v1/recommend", body="{not json")
    checks.check("malformed recommend body without a key -> 401", status == 401, body)

    existing = server.request("POST", "/v1/recommend", {"history": [{"id": "refund"}], "k": 1})
    missing = server.request("POST", "/v1/recommend", {"history": [{"id": "no-such"}], "k": 1})
    checks.check("keyless: existing and missing items answered alike",
                 existing[0] == missing[0] == 401 and existing[2] == missing[2],
                 f"{existing[0]} {existing[2][:200]} / {missing[0]} {missing[2][:200]}")
    status, _, body = server.request("POST", "/v1/recommend", {"history": [{"id": "no-such"}]},
                                     headers=bearer(admin_key))
    checks.check("with a key, a missing item is reported", status == 422, body)

    # A flood of keyless requests stores nothing, is counted, and logged once.
    audit_before, ledger_before = rows("audit_log"), rows("usage_ledger")
    refused_before = metric(server, "modelgate_unauthenticated_requests_total")
    flood = 0
    for path in ["/embed", "/predict", "/tokenize", "/v1/embeddings", "/v1/recommend",
                 "/admin/keys"]:
        for headers in [{}, bearer("not-a-key"), bearer(UNKNOWN_KEY)]:
            method = "GET" if path == "/admin/keys" else "POST"
            status, _, _ = server.request(method, path, {"inputs": "hi"}, headers=headers)
            checks.check(f"flood {path} -> 401", status == 401, status)
            flood += 1
    checks.check("no audit rows for keyless requests", rows("audit_log") == audit_before,
                 f"{audit_before} -> {rows('audit_log')}")
    checks.check("no ledger rows for keyless requests", rows("usage_ledger") == ledger_before,
                 f"{ledger_before} -> {rows('usage_ledger')}")
    refused = metric(server, "modelgate_unauthenticated_requests_total") - refused_before
    checks.check("keyless requests counted in a metric", refused == flood, f"{refused} != {flood}")
    log = [json.loads(line) for line in server.read_log().splitlines() if line.startswith("{")]
    sampled = [entry for entry in log if "without a valid API key" in entry.get("msg", "")]
    per_request = [entry for entry in log if entry.get("msg") == "request" and
                   entry.get("status") == 401]
    # One line a minute at most (the first at once), whatever the machine's speed.
    allowed = 1 + int((time.monotonic() - STARTED) // 60)
    checks.check("keyless requests: one log line a minute at most",
                 1 <= len(sampled) <= allowed and
                 sum(entry["count"] for entry in sampled) <=
                 metric(server, "modelgate_unauthenticated_requests_total"), sampled)
    checks.check("keyless requests: no line per request", per_request == [], per_request[:3])

    # A known key's refusal is still audited, under its name.
    tokenize = {"inputs": "hello world"}  # [CLS] hello world [SEP]: 4 tokens
    status, _, body = server.post("/predict", {"inputs": "hi"}, headers=bearer(tpm_key))
    checks.check("known key, wrong scope -> 403", status == 403, body)
    with sqlite3.connect(DB_PATH) as db:
        last = db.execute("SELECT actor, status FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    checks.check("known key's refusal audited", last == ("tpm5", 403), last)

    # Audit rows name routes, never the raw path.
    odd = "/admin/keys%2F..%2Fsecret-path-" + "x" * 40
    status, _, body = server.request("GET", odd, headers=bearer(admin_key))
    checks.check("odd admin path -> 404", status == 404, body)
    with sqlite3.connect(DB_PATH) as db:
        routes = [r[0] for r in db.execute("SELECT route FROM audit_log WHERE action = 'request'")]
        ledger_routes = [r[0] for r in db.execute("SELECT route FROM usage_ledger")]
    checks.check("audit names the route, not the raw path",
                 routes and routes[-1] == "unknown" and
                 not any("secret-path" in (r or "") for r in routes + ledger_routes),
                 routes[-3:])

    # /tokenize counts its tokens against the key's tokens per minute.
    status, _, body = server.post("/tokenize", tokenize, headers=bearer(tpm_key))
    checks.check("/tokenize within tpm -> 200", status == 200 and len(body[0]) == 4, body)
    status, hdrs, body = server.post("/tokenize", tokenize, headers=bearer(tpm_key))
    checks.check("/tokenize over tpm -> 429", status == 429 and
                 "tokens-per-minute" in (body or {}).get("error", ""), body)
    with sqlite3.connect(DB_PATH) as db:
        tokens = db.execute("SELECT tokens FROM usage_ledger WHERE route = '/tokenize' "
                            "AND status = 200").fetchall()
    checks.check("/tokenize's tokens in the ledger", tokens == [(4,)], tokens)
finally:
    checks.check("server exits 0", server.stop() == 0, server.read_log()[-2000:])

code = subprocess.run([BINARY, "audit", "verify", "--db", DB], capture_output=True, text=True)
checks.check("audit chain verifies", code.returncode == 0, code.stdout + code.stderr)
sys.exit(checks.finish())
