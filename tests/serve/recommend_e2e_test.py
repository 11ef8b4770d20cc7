#!/usr/bin/env python3
"""End-to-end tests of `modelgate serve --index DIR` over real HTTP: the
recommendation routes (/v1/items, /v1/items/delete, /v1/recommend) and the
dashboard's static files.

Reference: the expected recommendations are computed here from the server's
own /embed vectors (exact cosine ranking, recency-weighted history mean), an
independent path through the API (TEI's embedding route) rather than the
catalogue code under test.

Usage: recommend_e2e_test.py MODELGATE_BINARY
"""
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import EMBED_MODEL, Checks, Server  # noqa: E402

ITEMS = [
    {"id": "refund", "text": "How do I get a refund for my order?", "tags": ["billing"]},
    {"id": "invoice", "text": "Where can I download last month's invoice?", "tags": ["billing"]},
    {"id": "card", "text": "My credit card was charged twice", "tags": ["billing", "urgent"]},
    {"id": "login", "text": "I cannot log in to my account", "tags": ["technical"]},
    {"id": "crash", "text": "The app crashes when I open settings", "tags": ["technical", "urgent"]},
    {"id": "password", "text": "Reset my password please", "tags": ["technical"]},
    {"id": "shipping", "text": "When will my parcel be delivered?", "tags": ["other"]},
    {"id": "hours", "text": "What are your opening hours on Sunday?", "tags": []},
]


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


def embed(server, texts):
    status, _, body = server.post("/embed", {"inputs": texts, "normalize": True})
    assert status == 200, (status, body)
    return [unit(row) for row in body]


def expected(user, vectors, k, allowed):
    scored = [(dot(user, vectors[item["id"]]), item["id"]) for item in ITEMS
              if item["id"] in allowed]
    scored.sort(key=lambda p: -p[0])
    return scored[:k]


def same_ranking(checks, name, got, want, vectors, user):
    """The scores, best first, equal the reference's, and each returned id's
    score is its own cosine with the user vector (the tiny fixture model
    gives some texts the same embedding, so ties may come in any order)."""
    ok = isinstance(got, list) and len(got) == len(want)
    if ok:
        for g, (score, _) in zip(got, want):
            if abs(g.get("score", 9) - score) > 1e-4:
                ok = False
            elif abs(dot(user, vectors[g["id"]]) - g["score"]) > 1e-4:
                ok = False
    checks.check(name, ok, f"got {got} want {want}")


def openai_error(body, error_type=None, code=None):
    """/v1/* errors take OpenAI's shape: {"error": {"message", "type", "param", "code"}},
    with a string code."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return False
    error = body["error"]
    return (isinstance(error.get("message"), str) and error.get("message") != "" and
            (error_type is None or error.get("type") == error_type) and
            (code is None or error.get("code") == code))


def test_without_index(binary, checks):
    server = Server(binary, "--model", EMBED_MODEL)
    try:
        for path in ("/v1/recommend", "/v1/items", "/v1/items/delete"):
            status, _, body = server.post(path, {"query": "x"})
            checks.check(f"{path} without --index is 404", status == 404, status)
            checks.check(f"{path} without --index says why",
                         openai_error(body, "invalid_request_error", "no_catalogue") and
                         "--index" in body["error"]["message"], body)
        # The dashboard's files.
        status, headers, page = server.request("GET", "/")
        checks.check("GET / is the dashboard", status == 200 and b"modelgate dashboard" in page,
                     status)
        checks.check("dashboard is HTML", headers.get("content-type", "").startswith("text/html"),
                     headers)
        checks.check("dashboard CSP", headers.get("content-security-policy") ==
                     "default-src 'self'; frame-ancestors 'none'",
                     headers)
        checks.check("dashboard not cached", headers.get("cache-control") == "no-cache", headers)
        status, headers, script = server.request("GET", "/dashboard/app.js")
        checks.check("app.js served", status == 200 and b"parseMetrics" in script, status)
        checks.check("app.js is JavaScript", "javascript" in headers.get("content-type", ""),
                     headers)
        status, headers, _ = server.request("GET", "/dashboard/style.css")
        checks.check("style.css served",
                     status == 200 and headers.get("content-type", "").startswith("text/css"),
                     headers)
        status, _, _ = server.request("GET", "/dashboard/missing.js")
        checks.check("unknown dashboard file is 404", status == 404, status)
        # POST / is TEI's model route (here /embed), not the dashboard; other
        # methods on the dashboard are 405.
        status, _, _ = server.request("POST", "/", body="{}")
        checks.check("POST / is the model's route (422 for an empty body)", status == 422, status)
        status, _, _ = server.request("PUT", "/", body="{}")
        checks.check("PUT / is 405", status == 405, status)
        checks.check("server exits 0", server.stop() == 0)
    finally:
        server.stop()


def test_with_index(binary, checks):
    index = os.path.join(tempfile.mkdtemp(prefix="mg-rec-"), "catalogue")
    server = Server(binary, "--model", EMBED_MODEL, "--index", index)
    try:
        texts = {item["id"]: item["text"] for item in ITEMS}
        rows = embed(server, [item["text"] for item in ITEMS])
        vectors = {item["id"]: row for item, row in zip(ITEMS, rows)}
        everything = set(vectors)

        status, _, body = server.post("/v1/items", {"items": ITEMS})
        checks.check("add items", status == 200 and body == {"added": 8, "replaced": 0, "items": 8},
                     (status, body))

        query = "I was charged for a refund that never arrived"
        q = embed(server, [query])[0]
        status, _, got = server.post("/v1/recommend", {"query": query, "k": 3})
        checks.check("recommend by query", status == 200, (status, got))
        same_ranking(checks, "query ranking = exact cosine of /embed vectors", got,
                     expected(q, vectors, 3, everything), vectors, q)

        status, _, got = server.post("/v1/recommend", {"query": query})
        checks.check("k defaults to 10 (all 8 items)", status == 200 and len(got) == 8, got)

        # History: oldest first, each step back weighs 0.8.
        history = ["the application keeps crashing", "I forgot my password"]
        h = embed(server, history)
        user = unit([0.8 * a + 1.0 * b for a, b in zip(h[0], h[1])])
        status, _, got = server.post("/v1/recommend", {"history": history, "k": 4})
        same_ranking(checks, "history ranking = recency-weighted mean", got,
                     expected(user, vectors, 4, everything), vectors, user)

        status, _, got = server.post("/v1/recommend",
                                     {"query": query, "k": 8, "tags": ["technical"]})
        technical = {i["id"] for i in ITEMS if "technical" in i["tags"]}
        checks.check("tags filter", status == 200 and {g["id"] for g in got} == technical, got)
        same_ranking(checks, "tags filter ranking", got, expected(q, vectors, 8, technical), vectors, q)

        status, _, got = server.post("/v1/recommend",
                                     {"query": query, "k": 8, "exclude": ["refund", "card"]})
        checks.check("exclude", status == 200 and len(got) == 6 and
                     not {"refund", "card"} & {g["id"] for g in got}, got)

        # A history entry by id uses the stored vector and is excluded as seen.
        status, _, got = server.post("/v1/recommend", {"history": [{"id": "login"}], "k": 3})
        same_ranking(checks, "history by id", got,
                     expected(vectors["login"], vectors, 3, everything - {"login"}),
                     vectors, vectors["login"])
        checks.check("history ids are excluded as seen", "login" not in [g["id"] for g in got], got)
        status, _, got = server.post("/v1/recommend", {"history": [{"id": "login"}], "k": 1,
                                                       "exclude_seen": False})
        checks.check("exclude_seen false returns the item itself",
                     status == 200 and abs(got[0]["score"] - 1) < 1e-5 and
                     abs(dot(vectors["login"], vectors[got[0]["id"]]) - 1) < 1e-5, got)
        status, _, got = server.post("/v1/recommend", {"history": [{"id": "login"}], "k": 8,
                                                       "exclude_seen": False})
        checks.check("exclude_seen false: the seen id is back",
                     status == 200 and "login" in [g["id"] for g in got], got)

        # Replace an item: new text, same id.
        status, _, body = server.post("/v1/items", {"items": [
            {"id": "hours", "text": "My card payment failed at checkout", "tags": ["billing"]}]})
        checks.check("replace item", status == 200 and
                     body == {"added": 0, "replaced": 1, "items": 8}, body)
        texts["hours"] = "My card payment failed at checkout"
        vectors["hours"] = embed(server, [texts["hours"]])[0]
        status, _, got = server.post("/v1/recommend", {"query": query, "k": 3})
        same_ranking(checks, "ranking after replace", got, expected(q, vectors, 3, everything), vectors, q)

        status, _, body = server.post("/v1/items/delete", {"ids": ["refund", "nope"]})
        checks.check("delete", status == 200 and body == {"deleted": 1, "items": 7}, body)
        everything.discard("refund")
        status, _, got = server.post("/v1/recommend", {"query": query, "k": 3})
        same_ranking(checks, "ranking after delete", got, expected(q, vectors, 3, everything), vectors, q)
        checks.check("a deleted item is not recommended", "refund" not in [g["id"] for g in got], got)
        before_restart = got

        # Bad bodies.
        bad = [
            ("/v1/recommend", "{not json", 400),
            ("/v1/recommend", {}, 422),
            ("/v1/recommend", {"query": "a", "history": ["b"]}, 422),
            ("/v1/recommend", {"query": ""}, 422),
            ("/v1/recommend", {"query": "a", "k": 0}, 422),
            ("/v1/recommend", {"query": "a", "k": "3"}, 422),
            ("/v1/recommend", {"query": "a", "tags": "billing"}, 422),
            ("/v1/recommend", {"history": []}, 422),
            ("/v1/recommend", {"history": [{"id": "no-such-item"}]}, 422),
            ("/v1/recommend", [1, 2], 422),
            ("/v1/items", {"items": [{"id": "x"}]}, 422),
            ("/v1/items", {"items": []}, 422),
            ("/v1/items", {"items": [{"id": "a", "text": "t"}, {"id": "a", "text": "u"}]}, 422),
            ("/v1/items", {"items": [{"id": 5, "text": "t"}]}, 422),
            ("/v1/items/delete", {"ids": "refund"}, 422),
            ("/v1/items/delete", {}, 422),
        ]
        for path, body, want in bad:
            status, _, reply = server.post(path, body)
            checks.check(f"bad body {path} {str(body)[:40]} -> {want}", status == want and
                         openai_error(reply, "invalid_request_error",
                                      "bad_request" if want == 400 else "invalid_value"),
                         (status, reply))
        status, _, _ = server.request("GET", "/v1/recommend")
        checks.check("GET /v1/recommend is 405", status == 405, status)
        status, _, body = server.post("/v1/recommend", b"\xff\xfe{}")
        checks.check("invalid UTF-8 is 400", status == 400, (status, body))
        # Nothing above changed the catalogue.
        status, _, got = server.post("/v1/recommend", {"query": query, "k": 3})
        checks.check("bad requests changed nothing", got == before_restart, got)

        status, _, metrics = server.request("GET", "/metrics")
        checks.check("recommend requests counted in /metrics",
                     b'modelgate_requests_total{route="/v1/recommend",status="200"}' in metrics and
                     b'modelgate_requests_total{route="/v1/items",status="422"}' in metrics)
        checks.check("server exits 0", server.stop() == 0)

        # Persistence across a restart.
        server = Server(binary, "--model", EMBED_MODEL, "--index", index)
        status, _, got = server.post("/v1/recommend", {"query": query, "k": 3})
        checks.check("same recommendations after a restart", status == 200 and
                     [g["id"] for g in got] == [g["id"] for g in before_restart] and
                     all(abs(a["score"] - b["score"]) < 1e-5 for a, b in zip(got, before_restart)),
                     (got, before_restart))
        status, _, body = server.post("/v1/items/delete", {"ids": ["refund"]})
        checks.check("deleted item stays deleted", body == {"deleted": 0, "items": 7}, body)
        checks.check("restarted server exits 0", server.stop() == 0)
    finally:
        server.stop()

    # A catalogue of another model is refused at start.
    other = os.path.join(tempfile.mkdtemp(prefix="mg-rec-"), "renamed-model")
    import shutil
    shutil.copytree(EMBED_MODEL, other)
    try:
        Server(binary, "--model", other, "--index", index)
        checks.check("catalogue of another model refused", False)
    except RuntimeError as error:
        checks.check("catalogue of another model refused", "holds embeddings of model" in str(error),
                     str(error)[-300:])


def test_privacy_block(binary, checks):
    index = os.path.join(tempfile.mkdtemp(prefix="mg-rec-"), "catalogue")
    server = Server(binary, "--model", EMBED_MODEL, "--index", index, "--privacy", "block")
    try:
        status, _, body = server.post("/v1/items", {"items": [
            {"id": "a", "text": "write to jane.doe@example.com for a refund"}]})
        checks.check("--privacy block refuses items with PII",
                     status == 422 and openai_error(body, "invalid_request_error", "pii_detected"), (status, body))
        status, _, body = server.post("/v1/items", {"items": [{"id": "a", "text": "refunds"}]})
        checks.check("--privacy block accepts clean items", status == 200, (status, body))
        status, _, body = server.post("/v1/recommend", {"query": "mail john.smith@example.org"})
        checks.check("--privacy block refuses a query with PII",
                     status == 422 and openai_error(body, "invalid_request_error", "pii_detected"), (status, body))
        status, _, body = server.post("/v1/recommend", {"query": "refund"})
        checks.check("--privacy block answers a clean query",
                     status == 200 and [g["id"] for g in body] == ["a"], (status, body))
        checks.check("privacy server exits 0", server.stop() == 0)
    finally:
        server.stop()


def test_scopes(binary, checks):
    """With the control plane: /v1/recommend needs "recommend", item changes "admin"."""
    import subprocess
    tmp = tempfile.mkdtemp(prefix="mg-rec-")
    db = "sqlite:" + os.path.join(tmp, "control.db")

    def key(name, scopes):
        return subprocess.run([binary, "keys", "create", "--db", db, "--name", name,
                               "--scopes", scopes], capture_output=True, text=True,
                              check=True).stdout.strip()

    admin, reader = key("ops", "admin"), key("shop", "recommend")
    server = Server(binary, "--model", EMBED_MODEL, "--index", os.path.join(tmp, "catalogue"),
                    "--db", db)
    try:
        items = {"items": [{"id": "a", "text": "refunds"}, {"id": "b", "text": "passwords"}]}
        auth = lambda k: {"Authorization": "Bearer " + k}  # noqa: E731
        status, _, body = server.post("/v1/items", items)
        checks.check("items without a key: 401", status == 401, (status, body))
        status, _, body = server.post("/v1/items", items, headers=auth(reader))
        checks.check("items with the recommend scope: 403", status == 403, (status, body))
        status, _, body = server.post("/v1/items", items, headers=auth(admin))
        checks.check("items with the admin scope", status == 200 and body["items"] == 2,
                     (status, body))
        status, _, body = server.post("/v1/recommend", {"query": "refund"}, headers=auth(admin))
        checks.check("recommend with only admin: 403", status == 403, (status, body))
        status, headers, body = server.post("/v1/recommend", {"query": "refund", "k": 1},
                                            headers=auth(reader))
        checks.check("recommend with the recommend scope", status == 200 and len(body) == 1,
                     (status, body))
        status, _, body = server.post("/v1/items/delete", {"ids": ["a"]}, headers=auth(reader))
        checks.check("delete with the recommend scope: 403", status == 403, (status, body))
        status, _, usage = server.request("GET", "/admin/usage?since=2000-01-01",
                                          headers=auth(admin))
        rows = __import__("json").loads(usage).get("rows", [])
        shop = [r for r in rows if r["key"] == "shop"]
        checks.check("recommend requests are metered with their tokens",
                     sum(r["requests"] for r in shop) == 1 and
                     sum(r["tokens"] for r in shop) > 0, rows)
        checks.check("scopes server exits 0", server.stop() == 0)
    finally:
        server.stop()


def test_many_jobs(binary, checks):
    """Items whose tokens exceed --max-batch-tokens are embedded in several
    batcher jobs, each row landing with its own item; concurrent requests
    share the batcher with /embed."""
    import threading
    index = os.path.join(tempfile.mkdtemp(prefix="mg-rec-"), "catalogue")
    server = Server(binary, "--model", EMBED_MODEL, "--index", index,
                    "--max-batch-tokens", "128", "--max-input-length", "64")
    try:
        words = ["refund", "invoice", "password", "login", "parcel", "crash", "card", "sunday",
                 "account", "order", "delivery", "settings"]
        items = [{"id": f"i{n}", "text": " ".join(words[(n * 7 + j) % 12] for j in range(1 + n % 5))
                  + f" number {n}"} for n in range(40)]
        status, _, body = server.post("/v1/items", {"items": items})
        checks.check("40 items in several jobs", status == 200 and body["added"] == 40,
                     (status, body))
        texts = [i["text"] for i in items]
        rows = []
        for start in range(0, len(texts), 5):  # /embed takes up to 128 tokens per request here
            rows += embed(server, texts[start:start + 5])
        vectors = dict(zip([i["id"] for i in items], rows))
        status, _, tokens = server.post("/tokenize", {"inputs": texts[:20]})
        status2, _, tokens2 = server.post("/tokenize", {"inputs": texts[20:]})
        total = sum(len(t) for t in tokens + tokens2)
        checks.check("the items need several jobs of 128 tokens", total > 2 * 128, total)
        failures = []

        def ask(n):
            q = embed(server, [items[n]["text"]])[0]
            status, _, got = server.post("/v1/recommend", {"query": items[n]["text"], "k": 40})
            if status != 200 or len(got) != 40:
                failures.append((n, status, got))
                return
            for g in got:
                if abs(dot(q, vectors[g["id"]]) - g["score"]) > 1e-4:
                    failures.append((n, g))
                    return

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(0, 40, 3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        checks.check("every item's stored vector is its own text's (concurrent queries)",
                     not failures, failures[:3])
        checks.check("many-jobs server exits 0", server.stop() == 0)
    finally:
        server.stop()


def main():
    binary = sys.argv[1]
    checks = Checks()
    test_without_index(binary, checks)
    test_with_index(binary, checks)
    test_privacy_block(binary, checks)
    test_scopes(binary, checks)
    test_many_jobs(binary, checks)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
