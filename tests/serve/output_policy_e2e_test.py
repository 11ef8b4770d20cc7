#!/usr/bin/python3
"""End-to-end test of output policies: keys created with `modelgate keys create
--output-policy` (and through POST /admin/keys), served by `modelgate serve --db`
over real HTTP on loopback, on a 3-label classifier, a cross-encoder and an
embedding model.

The reference for every cut reply is the same request made with a key whose
policy is "full": scores rounded to N decimals must equal the full scores
rounded here, top-k lists must be the full list's first K, label-only replies
the full list's first label with a null score; embeddings cut to D values the
full (unnormalised) vector's first D values, normalised and rounded here.
Bypass parameters: `raw_scores` under a restricted policy is refused (403);
`top_n` and `dimensions` are honoured only up to the policy (never widened).

usage: output_policy_e2e_test.py MODELGATE_BINARY
"""
import base64
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import EMBED_MODEL, Checks, Server, make_classifier  # noqa: E402

MG = os.path.abspath(sys.argv[1])
checks = Checks()
check = checks.check
TMP = tempfile.mkdtemp(prefix="mg-output-policy-")
DB = "sqlite:" + os.path.join(TMP, "cp.db")
CLASSIFIER = make_classifier(os.path.join(TMP, "classifier"))
RERANKER = make_classifier(os.path.join(TMP, "reranker"), labels=("relevant",))
ALL = "classify,embed,recommend,admin"


def cli(*args):
    result = subprocess.run([MG, *args], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def create(name, policy):
    code, out, err = cli("keys", "create", "--db", DB, "--name", name, "--scopes", ALL,
                         "--output-policy", policy)
    check(f"keys create --output-policy {policy}", code == 0 and out.startswith("mg_"), err)
    return {"Authorization": "Bearer " + out.strip()}


def rounded(value, decimals):
    return round(value, decimals)


def close(a, b, tol=1e-6):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def cut(vector, dims, decimals, normalise=True):
    part = vector[:dims]
    if normalise:
        norm = math.sqrt(sum(v * v for v in part))
        part = [v / norm for v in part]
    return [round(v, decimals) for v in part]


KEYS = {name: create(name, policy) for name, policy in [
    ("full", "full"), ("label", "label"), ("top2", "topk:2,scores:2"), ("noscores", "no-scores"),
    ("vectors", "embed-dims:8,embed-decimals:3"), ("noembed", "no-embed")]}
code, _, err = cli("keys", "create", "--db", DB, "--name", "bad", "--output-policy", "lable")
check("keys create refuses a bad policy, naming it", code != 0 and "'lable'" in err, err)
code, out, err = cli("keys", "list", "--db", DB, "--format", "json")
listed = {k["name"]: k["output_policy"] for k in json.loads(out)}
check("keys list --format json shows each key's canonical policy",
      listed == {"full": "full", "label": "label", "top2": "topk:2,scores:2",
                 "noscores": "no-scores", "vectors": "embed-dims:8,embed-decimals:3",
                 "noembed": "no-embed"}, out)
code, out, err = cli("keys", "list", "--db", DB)
check("keys list shows an OUTPUT column", "OUTPUT" in out and "embed-dims:8" in out, out)


def post(server, path, body, key):
    return server.post(path, body, headers=KEYS[key])


def run_classifier():
    server = Server(MG, "--model", CLASSIFIER, "--db", DB, "--log-level", "warn")
    try:
        texts = ["my invoice is wrong", "the app crashes"]
        batch = [[text] for text in texts]  # TEI: a list of two strings is one pair
        status, _, full = post(server, "/predict", {"inputs": batch}, "full")
        check("/predict full: 3 labels with scores", status == 200 and len(full[0]) == 3, full)
        for path in ["/predict", "/invocations"]:
            status, _, got = post(server, path, {"inputs": batch}, "label")
            check(f"{path} label: the best label, score null",
                  status == 200 and all(g == [{"label": f[0]["label"], "score": None}]
                                        for g, f in zip(got, full)), got)
            status, _, got = post(server, path, {"inputs": batch}, "top2")
            check(f"{path} topk:2,scores:2: the best 2, rounded",
                  status == 200 and all(
                      [e["label"] for e in g] == [e["label"] for e in f[:2]]
                      and [e["score"] for e in g] == [rounded(e["score"], 2) for e in f[:2]]
                      for g, f in zip(got, full)), got)
        status, _, got = post(server, "/", {"inputs": texts[0]}, "label")
        check("POST / label: one list of the best label", status == 200 and got ==
              [[{"label": full[0][0]["label"], "score": None}]], got)
        status, _, got = post(server, "/predict", {"inputs": texts[0]}, "noscores")
        check("/predict no-scores: every label, in order, scores null",
              status == 200 and [e["label"] for e in got] == [e["label"] for e in full[0]]
              and all(e["score"] is None for e in got), got)
        # raw_scores cannot widen a policy: refused; with full scores it works.
        status, _, got = post(server, "/predict", {"inputs": texts[0], "raw_scores": True}, "top2")
        check("raw_scores under topk:2,scores:2 is refused (403 output_policy)",
              status == 403 and got.get("error_type") is not None and "raw_scores" in got["error"],
              got)
        status, _, got = post(server, "/predict", {"inputs": texts[0], "raw_scores": True}, "full")
        check("raw_scores with a full key works", status == 200 and len(got) == 3, got)
        # A policy that says nothing about scores leaves them whole.
        status, _, got = post(server, "/predict", {"inputs": batch}, "vectors")
        check("/predict under an embeddings-only policy equals full", got == full, got)
        # /info: the calling key's policy; nothing key-specific without one.
        status, _, info = server.request("GET", "/info", headers=KEYS["top2"])
        info = json.loads(info)
        check("/info with a key shows its policy", info.get("key", {}).get("output_policy") ==
              "topk:2,scores:2", info)
        status, _, info = server.request("GET", "/info")
        check("/info without a key shows no key", "key" not in json.loads(info), info)
        # The admin API: creation with a policy, and the listing.
        status, _, body = post(server, "/admin/keys", {"name": "api", "scopes": ["classify"],
                                                       "output_policy": "topk:1"}, "full")
        check("POST /admin/keys with output_policy", status == 201 and
              body.get("output_policy") == "topk:1", body)
        status, _, body = post(server, "/admin/keys", {"name": "api2", "output_policy": "top:1"},
                               "full")
        check("POST /admin/keys refuses a bad policy (422)", status == 422 and
              "'top:1'" in body.get("error", ""), body)
        status, _, body = server.request("GET", "/admin/keys", headers=KEYS["full"])
        listed = {k["name"]: k["output_policy"] for k in json.loads(body)["keys"]}
        check("GET /admin/keys lists each policy", listed.get("api") == "topk:1" and
              listed.get("label") == "label", listed)
    finally:
        server.stop()


def run_reranker():
    server = Server(MG, "--model", RERANKER, "--db", DB, "--log-level", "warn")
    try:
        body = {"query": "refund please", "texts": ["the payment", "bug again", "my invoice",
                                                     "the error"]}
        status, _, full = post(server, "/rerank", body, "full")
        check("/rerank full: every text", status == 200 and len(full) == 4, full)
        status, _, got = post(server, "/rerank", body, "top2")
        check("/rerank topk:2,scores:2: the best 2, rounded", status == 200 and
              [e["index"] for e in got] == [e["index"] for e in full[:2]] and
              [e["score"] for e in got] == [rounded(e["score"], 2) for e in full[:2]], got)
        status, _, got = post(server, "/rerank", body, "label")
        check("/rerank label: the best text, score null", status == 200 and
              got == [{"index": full[0]["index"], "score": None}], got)
        status, _, got = post(server, "/rerank", dict(body, raw_scores=True), "label")
        check("/rerank raw_scores under label is refused", status == 403, got)
        cohere = {"query": body["query"], "documents": body["texts"], "top_n": 4}
        status, _, got = post(server, "/v1/rerank", cohere, "top2")
        check("/v1/rerank top_n 4 under topk:2: 2 results, rounded", status == 200 and
              [r["index"] for r in got["results"]] == [e["index"] for e in full[:2]] and
              [r["relevance_score"] for r in got["results"]] ==
              [rounded(e["score"], 2) for e in full[:2]], got)
        status, _, got = post(server, "/v1/rerank", dict(cohere, top_n=1), "top2")
        check("/v1/rerank top_n 1 under topk:2: 1 result", status == 200 and
              len(got["results"]) == 1, got)
    finally:
        server.stop()


def floats_of_base64(text):
    data = base64.b64decode(text)
    return list(struct.unpack("<%df" % (len(data) // 4), data))


def run_embedder():
    server = Server(MG, "--model", EMBED_MODEL, "--db", DB, "--log-level", "warn")
    try:
        text = "hello world"
        status, _, raw = post(server, "/embed", {"inputs": text, "normalize": False}, "full")
        raw = raw[0]
        check("/embed full: every value", status == 200 and len(raw) > 8, len(raw))
        status, _, got = post(server, "/embed", {"inputs": text}, "vectors")
        check("/embed embed-dims:8,embed-decimals:3: 8 values, renormalised, rounded",
              status == 200 and close(got[0], cut(raw, 8, 3)), got)
        status, _, got = post(server, "/embed", {"inputs": text, "dimensions": 16}, "vectors")
        check("/embed dimensions 16 cannot widen embed-dims:8",
              status == 200 and close(got[0], cut(raw, 8, 3)), got)
        status, _, got = post(server, "/embed", {"inputs": text, "normalize": False}, "vectors")
        check("/embed normalize false: cut and rounded, not renormalised",
              status == 200 and close(got[0], cut(raw, 8, 3, normalise=False)), got)
        status, _, got = post(server, "/v1/embeddings", {"input": text}, "vectors")
        floats = got["data"][0]["embedding"]
        check("/v1/embeddings: cut and rounded", status == 200 and close(floats, cut(raw, 8, 3)),
              got)
        status, _, got = post(server, "/v1/embeddings",
                              {"input": text, "encoding_format": "base64"}, "vectors")
        decoded = floats_of_base64(got["data"][0]["embedding"])
        check("/v1/embeddings base64: the same rounded values",
              status == 200 and close(decoded, floats), decoded)
        status, _, full_tokens = post(server, "/embed_all", {"inputs": text}, "full")
        status, _, got = post(server, "/embed_all", {"inputs": text}, "vectors")
        check("/embed_all: every token cut to 8 values and rounded", status == 200 and
              len(got[0]) == len(full_tokens[0]) and
              all(close(g, cut(f, 8, 3, normalise=False))
                  for g, f in zip(got[0], full_tokens[0])), got)
        similarity = {"inputs": {"source_sentence": text, "sentences": ["hello", "world peace"]}}
        status, _, full_sim = post(server, "/similarity", similarity, "full")
        status, _, got = post(server, "/similarity", similarity, "top2")
        check("/similarity under scores:2: rounded", status == 200 and
              got == [rounded(v, 2) for v in full_sim], got)
        for key in ["noembed", "noscores", "label"]:
            status, _, got = post(server, "/similarity", similarity, key)
            check(f"/similarity under {key} is refused (403)", status == 403, got)
        for path, body in [("/embed", {"inputs": text}), ("/v1/embeddings", {"input": text}),
                           ("/embed_all", {"inputs": text}), ("/", {"inputs": text})]:
            status, _, got = post(server, path, body, "noembed")
            check(f"{path} under no-embed is refused (403)", status == 403 and
                  "no-embed" in json.dumps(got), got)
        status, _, got = post(server, "/embed", {"inputs": text, "normalize": False}, "label")
        check("/embed under a scores-only policy equals full", status == 200 and got[0] == raw)
    finally:
        server.stop()


def run_recommender():
    index = os.path.join(TMP, "catalogue")
    server = Server(MG, "--model", EMBED_MODEL, "--db", DB, "--index", index, "--log-level", "warn")
    try:
        items = [{"id": "refund", "text": "How do I get a refund?"},
                 {"id": "invoice", "text": "Where is my invoice?"},
                 {"id": "login", "text": "I cannot log in"}]
        status, _, body = post(server, "/v1/items", {"items": items}, "full")
        check("items added", status == 200, body)
        query = {"query": "refund my order", "k": 3}
        status, _, full = post(server, "/v1/recommend", query, "full")
        check("/v1/recommend full: 3 scored items", status == 200 and len(full) == 3, full)
        status, _, got = post(server, "/v1/recommend", query, "top2")
        check("/v1/recommend under scores:2: same items, scores rounded", status == 200 and
              [i["id"] for i in got] == [i["id"] for i in full] and
              [i["score"] for i in got] == [rounded(i["score"], 2) for i in full], got)
        status, _, got = post(server, "/v1/recommend", query, "label")
        check("/v1/recommend under label: same items, scores null", status == 200 and
              [i["id"] for i in got] == [i["id"] for i in full] and
              all(i["score"] is None for i in got), got)
    finally:
        server.stop()


run_classifier()
run_reranker()
run_embedder()
run_recommender()
sys.exit(checks.finish())
