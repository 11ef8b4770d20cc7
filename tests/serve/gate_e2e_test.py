"""End-to-end test of `modelgate serve --db` over real HTTP on loopback: API
keys, scopes, limits, the ledger, the audit chain and the /admin routes,
against a SQLite file or a PostgreSQL database (the same checks for both).

Usage: gate_e2e_test.py MODELGATE DB_URL [PG_DATA_DIR]
With PG_DATA_DIR (a server this test may stop and restart with pg_ctl), the
database is stopped mid-run: requests must fail closed with 503 and recover
once it is back, with the ledger still equal to what the client received.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Checks, Server, EMBED_MODEL  # noqa: E402

BINARY, DB = sys.argv[1], sys.argv[2]
PG_DATA = sys.argv[3] if len(sys.argv) > 3 else ""
checks = Checks()
INJECTION = "x'); DROP TABLE api_keys; --"


def cli(*args):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def bearer(key):
    return {"Authorization": "Bearer " + key}


class Client:
    """Counts what the server answered, per key: 200s and their tokens."""

    def __init__(self, server):
        self.server = server
        self.ok = {}
        self.tokens = {}

    def embed(self, name, key, text="hello world"):
        status, headers, body = self.server.request("POST", "/embed", {"inputs": text},
                                                    headers=bearer(key))
        if status == 200:
            self.ok[name] = self.ok.get(name, 0) + 1
            self.tokens[name] = self.tokens.get(name, 0) + int(headers["x-compute-tokens"])
        return status, headers, body


def error_of(body):
    return json.loads(body).get("error", "")


def pg_ctl(*args):
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    subprocess.run(prefix + ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", os.path.join(PG_DATA, "data"),
                             "-w", *args], check=True, capture_output=True)


code, admin_key, err = cli("keys", "create", "--db", DB, "--name", "root", "--scopes", "admin")
admin_key = admin_key.strip()
checks.check("admin key created", code == 0 and admin_key.startswith("mg_"), err)
server = Server(BINARY, "--model", EMBED_MODEL, "--db", DB, "--log-level", "warn")
client = Client(server)
admin = bearer(admin_key)

try:
    # Public routes stay public.
    checks.check("/health public", server.request("GET", "/health")[0] == 200)
    # Unknown, malformed and missing keys.
    for label, headers in [("none", {}), ("malformed", bearer("not-a-key")),
                           ("unknown", bearer("mg_" + "A" * 40)), ("injection", bearer(INJECTION))]:
        status, _, body = server.request("POST", "/embed", {"inputs": "hi"}, headers=headers)
        checks.check(f"{label} key -> 401", status == 401, f"{status} {body[:200]}")
        checks.check(f"{label} key: TEI error_code", status == 401
                     and json.loads(body).get("error_code") == "invalid_api_key", body)
    status, _, body = server.request("POST", "/v1/embeddings", {"input": "hi"})
    error = json.loads(body)["error"]
    checks.check("OpenAI error shape", status == 401 and "message" in error
                 and error["code"] == "invalid_api_key", body)
    checks.check("no key: the message says it is missing", "missing API key" in error["message"],
                 body)
    status, _, body = server.request("POST", "/v1/embeddings", {"input": "hi"},
                                     headers=bearer("not-a-key"))
    checks.check("malformed key: the message says so",
                 "malformed API key" in json.loads(body)["error"]["message"], body)

    # Admin routes: create shows the key once, list never shows it.
    status, _, body = server.request("POST", "/admin/keys",
                                     {"name": "alice", "scopes": ["embed"]}, headers=admin)
    checks.check("create -> 201", status == 201, body)
    alice = json.loads(body)["key"]
    status, _, body = server.request("POST", "/admin/keys", {"name": "alice"}, headers=admin)
    checks.check("duplicate name -> 409", status == 409, body)
    status, _, body = server.request("POST", "/admin/keys", {"name": INJECTION, "scopes": ["embed"]},
                                     headers=admin)
    checks.check("injection name -> 201", status == 201, body)
    injected = json.loads(body)["key"]
    status, _, body = server.request("GET", "/admin/keys", headers=admin)
    listed = json.loads(body)["keys"]
    checks.check("list has both", {INJECTION, "alice", "root"} <= {k["name"] for k in listed}, body)
    checks.check("list never shows a secret", alice not in body.decode() and
                 admin_key not in body.decode() and "key" not in listed[0])
    status, _, body = server.request("POST", "/admin/keys/revoke", {"name": "nobody' OR '1'='1"},
                                     headers=admin)
    checks.check("revoke unknown (injection) -> 404", status == 404, body)
    status, _, body = server.request("POST", "/admin/keys", {"name": "x", "rpm": "1; DROP"},
                                     headers=admin)
    checks.check("bad admin body -> 422", status == 422, body)

    # Scope: an embed-only key on admin routes; an admin-only key on /embed.
    status, _, body = server.request("GET", "/admin/keys", headers=bearer(alice))
    checks.check("non-admin on /admin -> 403", status == 403, body)
    status, _, body = server.request("POST", "/embed", {"inputs": "hi"}, headers=admin)
    checks.check("admin-only key on /embed -> 403", status == 403, body)
    status, _, body = server.request("POST", "/v1/embeddings", {"input": "hi"}, headers=admin)
    error = json.loads(body)["error"]
    checks.check("OpenAI 403: permission_error, insufficient_scope", status == 403
                 and error["type"] == "permission_error" and error["code"] == "insufficient_scope",
                 body)

    for _ in range(5):
        checks.check("alice 200", client.embed("alice", alice)[0] == 200)
    checks.check("injection-named key works", client.embed(INJECTION, injected)[0] == 200)

    # Limits: rpm, tpm, quota, budget -> 429 with Retry-After naming the limit;
    # x-should-retry true for the per-minute limits, false for the quotas, and
    # OpenAI's code says which.
    def limited(name, spec, message_part, code, openai=True):
        status, _, body = server.request("POST", "/admin/keys", {"name": name, "scopes": ["embed"],
                                                                  **spec}, headers=admin)
        key = json.loads(body)["key"]
        statuses = [client.embed(name, key)[0] for _ in range(3)]
        status, headers, body = client.embed(name, key)
        checks.check(f"{name}: first calls pass", statuses[0] == 200, str(statuses))
        checks.check(f"{name} -> 429", status == 429, body)
        checks.check(f"{name}: Retry-After", int(headers.get("retry-after", "0")) >= 1, headers)
        checks.check(f"{name}: message names the limit", message_part in error_of(body), body)
        retry = "true" if code == "rate_limit_exceeded" else "false"
        checks.check(f"{name}: x-should-retry {retry}", headers.get("x-should-retry") == retry,
                     headers)
        checks.check(f"{name}: TEI error_code {code}", json.loads(body).get("error_code") == code
                     and json.loads(body).get("error_type") == "Overloaded", body)
        if not openai:
            return
        status, headers, body = server.request("POST", "/v1/embeddings", {"input": "hi"},
                                               headers=bearer(key))
        checks.check(f"{name}: OpenAI code {code}", status == 429
                     and json.loads(body)["error"]["code"] == code
                     and headers.get("x-should-retry") == retry, (status, body))

    limited("rpm3", {"rpm": 3}, "requests-per-minute", "rate_limit_exceeded")
    limited("tpm10", {"tpm": 10}, "tokens-per-minute", "rate_limit_exceeded")
    limited("quota10", {"quota_tokens": 10}, "token quota", "insufficient_quota")
    code, _, err = cli("keys", "price", "--db", DB, "--route", "/embed", "--usd-per-1k", "1")
    checks.check("price set", code == 0, err)
    # 4 tokens cost 0.004 USD on /embed (the only route priced here).
    limited("budget", {"budget_usd": 0.01}, "budget", "insufficient_quota", openai=False)
    cli("keys", "price", "--db", DB, "--route", "/embed", "--usd-per-1k", "0")

    # Expired and revoked keys.
    status, _, body = server.request("POST", "/admin/keys", {"name": "old", "scopes": ["embed"],
                                                              "expires": "2020-01-01"}, headers=admin)
    if status == 201:
        checks.check("expired -> 401", client.embed("old", json.loads(body)["key"])[0] == 401)
    else:
        checks.check("past expiry refused at creation", status == 422, body)
    status, _, body = server.request("POST", "/admin/keys/revoke", {"name": INJECTION}, headers=admin)
    checks.check("revoke -> 200", status == 200 and json.loads(body)["revoked_at"], body)
    checks.check("revoked -> 401 on the next request", client.embed(INJECTION, injected)[0] == 401)

    # The database goes away and comes back.
    if PG_DATA:
        pg_ctl("-m", "immediate", "stop")
        status, _, body = client.embed("alice", alice)
        checks.check("database down -> 503", status == 503, body)
        checks.check("503 body is TEI", json.loads(body).get("error_type") == "Unhealthy"
                     and json.loads(body).get("error_code") == "service_unavailable", body)
        port = DB.split("port=")[1].split("&")[0]
        pg_ctl("-l", os.path.join(PG_DATA, "server.log"), "-o",
               f"-k {PG_DATA} -p {port} -c listen_addresses='' -c max_connections=300", "start")
        deadline = time.time() + 30
        while time.time() < deadline and client.embed("alice", alice)[0] != 200:
            time.sleep(0.2)
        checks.check("recovers after restart", client.embed("alice", alice)[0] == 200)
        # A pooled connection notices the restart on its first use (that
        # request fails closed with 503); the admin routes recover as well.
        statuses = [server.request("GET", "/admin/usage", headers=admin)[0] for _ in range(20)]
        checks.check("admin routes recover", statuses[-3:] == [200] * 3, str(statuses))
        checks.check("only 503 while recovering", set(statuses) <= {200, 503}, str(statuses))

    # Per-key metrics by name, never the secret.
    _, _, metrics = server.request("GET", "/metrics")
    checks.check("metrics per key", b'modelgate_key_requests_total{key="alice"}' in metrics)
    checks.check("metrics never hold a secret", alice.encode() not in metrics)

    # Usage equals what the client received (admin route and CLI, JSON and CSV).
    status, _, body = server.request("GET", "/admin/usage?bucket=day", headers=admin)
    checks.check("usage 200", status == 200, body[:300])
    rows = json.loads(body).get("rows", [])
    for name, count in client.ok.items():
        served = sum(r["requests"] - r["errors"] for r in rows if r["key"] == name)
        tokens = sum(r["tokens"] for r in rows if r["key"] == name)
        checks.check(f"usage {name} requests", served == count, f"{served} != {count}")
        checks.check(f"usage {name} tokens", tokens == client.tokens[name],
                     f"{tokens} != {client.tokens[name]}")
    status, headers, body = server.request("GET", "/admin/usage?format=csv&key=alice", headers=admin)
    checks.check("usage csv", status == 200 and body.startswith(b"key,period,") and
                 b'"alice"' in body, body[:200])
    code, out, err = cli("usage", "--db", DB, "--format", "json")
    cli_rows = json.loads(out) if code == 0 else []
    alice_cli = sum(r["tokens"] for r in cli_rows if r["key"] == "alice")
    checks.check("modelgate usage agrees", alice_cli == client.tokens["alice"], out + err)

    # Audit: checked over HTTP and with the CLI; requests never hold text.
    # This server has no audit key: the chain is intact but unsigned, never
    # "verified" (tests/serve/audit_anchor_e2e_test.py covers the signed case).
    status, _, body = server.request("GET", "/admin/audit?limit=5", headers=admin)
    audit = json.loads(body)
    checks.check("audit intact but unsigned", audit["status"] == "unsigned" and
                 not audit["verified"] and audit["first_bad"] is None, body[:300])
    checks.check("audit newest first", len(audit["entries"]) == 5 and
                 audit["entries"][0]["seq"] > audit["entries"][-1]["seq"], body[:300])
    checks.check("audit lists admin actions", any(
        e["action"].startswith("key.") for e in json.loads(
            server.request("GET", "/admin/audit?limit=1000", headers=admin)[2])["entries"]))
    checks.check("audit never holds text", b"hello world" not in body)
finally:
    code = server.stop()
    checks.check("server exits 0", code == 0, server.read_log()[-2000:])

# --metrics-auth: /metrics for admin keys only.
guarded = Server(BINARY, "--model", EMBED_MODEL, "--db", DB, "--log-level", "warn",
                 "--metrics-auth")
try:
    checks.check("metrics-auth: no key -> 401", guarded.request("GET", "/metrics")[0] == 401)
    checks.check("metrics-auth: embed key -> 403",
                 guarded.request("GET", "/metrics", headers=bearer(alice))[0] == 403)
    status, _, body = guarded.request("GET", "/metrics", headers=admin)
    checks.check("metrics-auth: admin key -> 200", status == 200 and b"modelgate_" in body, body[:200])
    checks.check("metrics-auth: /health public", guarded.request("GET", "/health")[0] == 200)
finally:
    checks.check("guarded server exits 0", guarded.stop() == 0)

code, out, err = cli("audit", "verify", "--db", DB)
checks.check("modelgate audit verify", code == 0, out + err)
sys.exit(checks.finish())
