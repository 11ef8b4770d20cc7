#!/usr/bin/python3
"""End-to-end test of reranking: `modelgate train --cross-encoder` makes a tiny
cross-encoder from (query, passage, relevance) lines, and `modelgate serve`
answers TEI's POST /rerank and Cohere's/Jina's POST /v1/rerank with it, over
real HTTP on loopback.

The reference for every score is `modelgate classify` on the same (query, text)
pairs: the routes must list the texts in the order of those scores, with the
same values (sigmoid of the one logit; `raw_scores` gives the logit). Then
`return_text`, `top_n`, `return_documents`, the usage count, /predict on the
same model, and the errors: empty or missing texts, too many texts, malformed
JSON, a model that is not a one-label classifier (424), and a key without the
classify scope (403).

usage: rerank_e2e_test.py MODELGATE_BINARY
"""
import json
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import EMBED_MODEL, Checks, Server, make_classifier  # noqa: E402

MG = os.path.abspath(sys.argv[1])
checks = Checks()
check = checks.check
TMP = tempfile.mkdtemp(prefix="mg-rerank-e2e-")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "refund", "invoice", "payment", "crash",
         "error", "broken", "the", "my", "please", "again", "billing", "bug"]
QUERIES = [["refund please", "my invoice"], ["crash again", "my error"]]
PASSAGES = [["the payment", "invoice the payment", "billing refund"],
            ["broken the crash", "the error broken", "bug again"]]


def run(*args):
    return subprocess.run([MG, *args], capture_output=True, text=True)


def train_cross_encoder(out):
    """A tiny cross-encoder trained from scratch: relevant when the query and
    the passage are on the same topic (billing or bug)."""
    with open(os.path.join(TMP, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    with open(os.path.join(TMP, "pairs.jsonl"), "w") as f:
        for _ in range(3):
            for query_topic in range(2):
                for passage_topic in range(2):
                    for query in QUERIES[query_topic]:
                        for passage in PASSAGES[passage_topic]:
                            f.write(json.dumps({"text": query, "text_pair": passage,
                                                "label": int(query_topic == passage_topic)}) + "\n")
    result = run("train", "--cross-encoder", "--train", os.path.join(TMP, "pairs.jsonl"),
                 "--init", "tiny", "--vocab", os.path.join(TMP, "vocab.txt"), "--out", out,
                 "--epochs", "40", "--max-length", "16", "--batch-size", "8", "--eval-fraction",
                 "0", "--threads", "1")
    check("train --cross-encoder exits 0", result.returncode == 0, result.stderr)
    return result.returncode == 0


def classify_pairs(model, query, texts, *extra):
    path = os.path.join(TMP, "pairs-in.jsonl")
    with open(path, "w") as f:
        for text in texts:
            f.write(json.dumps({"text": query, "text_pair": text}) + "\n")
    out = subprocess.run([MG, "classify", "--model", model, "--input", path, *extra], check=True,
                         capture_output=True).stdout
    return [json.loads(line)["score"] for line in out.decode().splitlines()]


def ranked_like(results, reference, key, tol=1e-5):
    """Every index once, each score within `tol` of the reference's, and the
    order never against the reference's scores by more than `tol`."""
    indices = [r["index"] for r in results]
    if sorted(indices) != sorted(set(indices)) or not set(indices) <= set(range(len(reference))):
        return False
    if any(abs(r[key] - reference[r["index"]]) > tol for r in results):
        return False
    scores = [r[key] for r in results]
    if any(a < b for a, b in zip(scores, scores[1:])):
        return False
    ordered = [reference[i] for i in indices]
    return all(a >= b - tol for a, b in zip(ordered, ordered[1:]))


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


MODEL = os.path.join(TMP, "cross-encoder")
if not train_cross_encoder(MODEL):
    sys.exit(checks.finish())
config = json.load(open(os.path.join(MODEL, "config.json")))
check("a cross-encoder's config has one label", config["num_labels"] == 1
      and config["id2label"] == {"0": "LABEL_0"}, json.dumps(config))

QUERY = "refund please"
TEXTS = ["bug again", "invoice the payment", "the error broken", "billing refund", "the payment",
         "broken the crash", "crash again please"]
reference = classify_pairs(MODEL, QUERY, TEXTS)
check("the trained cross-encoder separates the topics",
      min(reference[i] for i in (1, 3, 4)) > 0.5 > max(reference[i] for i in (0, 2, 5)),
      str(reference))

server = Server(MG, "--model", MODEL, "--max-client-batch-size", "8", "--log-level", "warn")
try:
    status, headers, body = server.post("/rerank", {"query": QUERY, "texts": TEXTS})
    check("/rerank 200", status == 200, str(body))
    check("/rerank lists every text once, sorted by classify's scores",
          status == 200 and len(body) == len(TEXTS) and ranked_like(body, reference, "score"),
          json.dumps(body))
    check("/rerank replies carry no text unless asked",
          status == 200 and all(set(r) == {"index", "score"} for r in body))
    check("/rerank counts the tokens of every pair",
          int(headers.get("x-compute-tokens", "0")) > len(TEXTS) * 3)
    best_first = [r["index"] for r in body] if status == 200 else []

    status, _, raw = server.post("/rerank", {"query": QUERY, "texts": TEXTS, "raw_scores": True,
                                             "return_text": True, "truncate": True})
    check("/rerank raw_scores gives the logits",
          status == 200 and all(abs(sigmoid(r["score"]) - reference[r["index"]]) < 1e-5
                                for r in raw) and any(r["score"] > 1 or r["score"] < 0 for r in raw),
          json.dumps(raw))
    check("/rerank return_text gives each text",
          status == 200 and all(r["text"] == TEXTS[r["index"]] for r in raw))
    check("/rerank raw order is the same", status == 200 and [r["index"] for r in raw] == best_first)

    status, _, cohere = server.post("/v1/rerank", {"query": QUERY, "documents": TEXTS})
    check("/v1/rerank 200, Cohere-shaped", status == 200 and set(cohere) == {"model", "results", "usage"}
          and cohere["model"] == "cross-encoder" and cohere["usage"]["total_tokens"] > 0,
          json.dumps(cohere))
    check("/v1/rerank ranks like classify",
          status == 200 and ranked_like(cohere["results"], reference, "relevance_score")
          and [r["index"] for r in cohere["results"]] == best_first
          and all(set(r) == {"index", "relevance_score"} for r in cohere["results"]),
          json.dumps(cohere))
    documents = [TEXTS[0], {"text": TEXTS[1]}, TEXTS[2], {"text": TEXTS[3], "id": "d3"}]
    status, _, top = server.post("/v1/rerank", {"model": "my-reranker", "query": QUERY,
                                                "documents": documents, "top_n": 2,
                                                "return_documents": True})
    want = sorted(range(4), key=lambda i: -reference[i])[:2]
    check("/v1/rerank top_n and return_documents",
          status == 200 and [r["index"] for r in top["results"]] == want
          and all(r["document"] == {"text": TEXTS[r["index"]]} for r in top["results"])
          and top["model"] == "my-reranker", json.dumps(top))
    status, _, all_of = server.post("/v1/rerank", {"query": QUERY, "documents": ["bug"], "top_n": 5})
    check("/v1/rerank top_n above the count lists them all",
          status == 200 and len(all_of["results"]) == 1)

    status, _, predicted = server.post("/predict", {"inputs": [QUERY, TEXTS[1]]})
    check("/predict on a cross-encoder gives the sigmoid score",
          status == 200 and predicted[0]["label"] == "LABEL_0"
          and abs(predicted[0]["score"] - reference[1]) < 1e-5, json.dumps(predicted))

    # Errors: TEI's shape on /rerank, OpenAI's on /v1/rerank; the server keeps serving.
    status, _, error = server.post("/rerank", {"query": QUERY, "texts": []})
    check("/rerank empty texts: 400 Empty", status == 400 and error.get("error_type") == "Empty",
          f"{status} {error}")
    for body, what in [({"query": QUERY}, "missing texts"),
                       ({"query": "", "texts": ["a"]}, "empty query"),
                       ({"query": QUERY, "texts": ["a", ""]}, "an empty text"),
                       ({"query": QUERY, "texts": ["a"] * 9}, "more texts than the batch size")]:
        status, _, error = server.post("/rerank", body)
        check(f"/rerank {what}: 422", status == 422 and isinstance(error.get("error"), str)
              and "error_type" in error, f"{status} {error}")
    status, _, error = server.post("/rerank", {"query": QUERY, "texts": ["a"] * 9})
    check("too many texts names the limit", status == 422 and "8" in error["error"])
    status, _, _ = server.request("POST", "/rerank", '{"query": "q", "texts": [')
    check("/rerank malformed JSON: 400", status == 400)
    status, _, error = server.post("/v1/rerank", {"query": QUERY, "documents": []})
    check("/v1/rerank empty documents: 400 with a string code",
          status == 400 and isinstance(error["error"].get("code"), str), f"{status} {error}")
    for body, what in [({"query": QUERY, "documents": [{"txt": "a"}]}, "a document without text"),
                       ({"query": QUERY, "documents": ["a"], "top_n": 0}, "top_n 0")]:
        status, _, error = server.post("/v1/rerank", body)
        check(f"/v1/rerank {what}: 422 OpenAI-shaped",
              status == 422 and set(error["error"]) >= {"message", "type", "code"},
              f"{status} {error}")
    status, _, body = server.request("GET", "/rerank")
    check("/rerank takes POST only", status == 405)
    status, _, again = server.post("/rerank", {"query": QUERY, "texts": TEXTS})
    check("served after the bad requests", status == 200 and [r["index"] for r in again] == best_first)
finally:
    check("SIGTERM exits 0", server.stop() == 0, server.read_log())

# Models that are not re-rankers: an embedding model and a three-label classifier.
three_labels = make_classifier(os.path.join(TMP, "three-labels"))
for model, what in [(EMBED_MODEL, "an embedding model"), (three_labels, "a 3-label classifier")]:
    server = Server(MG, "--model", model, "--log-level", "warn")
    try:
        status, _, error = server.post("/rerank", {"query": "t5", "texts": ["t6", "t7"]})
        check(f"/rerank on {what}: 424 Backend",
              status == 424 and error == {"error": "model is not a re-ranker model",
                                          "error_type": "Backend", "error_code": "backend"},
              f"{status} {error}")
        status, _, error = server.post("/v1/rerank", {"query": "t5", "documents": ["t6"]})
        check(f"/v1/rerank on {what}: 424 OpenAI-shaped",
              status == 424 and error["error"]["message"] == "model is not a re-ranker model"
              and error["error"]["code"] == "backend"
              and error["error"]["type"] == "server_error", f"{status} {error}")
    finally:
        server.stop()

# The key's scope: classify, not embed.
DB = "sqlite:" + os.path.join(TMP, "control.db")
keys = {}
for name, scopes in [("ranker", "classify"), ("embedder", "embed")]:
    result = run("keys", "create", "--db", DB, "--name", name, "--scopes", scopes)
    keys[name] = result.stdout.strip()
    check(f"key {name} created", result.returncode == 0, result.stderr)
server = Server(MG, "--model", MODEL, "--db", DB, "--log-level", "warn")
try:
    for route, body in [("/rerank", {"query": QUERY, "texts": TEXTS[:2]}),
                        ("/v1/rerank", {"query": QUERY, "documents": TEXTS[:2]})]:
        status, _, _ = server.post(route, body)
        check(f"{route} without a key: 401", status == 401)
        status, _, _ = server.post(route, body, {"Authorization": "Bearer " + keys["embedder"]})
        check(f"{route} with an embed-only key: 403", status == 403)
        status, _, _ = server.post(route, body, {"Authorization": "Bearer " + keys["ranker"]})
        check(f"{route} with a classify key: 200", status == 200)
finally:
    server.stop()

sys.exit(checks.finish())
