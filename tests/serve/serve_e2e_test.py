#!/usr/bin/python3
"""End-to-end tests of `modelgate serve` over real HTTP on loopback.

A client written against the documented request and reply shapes of Hugging
Face text-embeddings-inference (/embed, /predict, /tokenize, /info, /health)
and OpenAI's embeddings API (/v1/embeddings) checks every route; numbers are
compared with the `modelgate embed`, `classify` and `tokenize` commands. Then
the bad inputs: malformed JSON, wrong types, empty inputs, invalid UTF-8,
oversized bodies and headers, too many inputs, slow and vanishing clients,
pipelined requests, overload, and that the server keeps serving everyone else
throughout. Privacy modes, TLS and graceful shutdown on SIGTERM too.

usage: serve_e2e_test.py MODELGATE_BINARY
"""
import base64
import json
import math
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import (EMBED_MODEL, Checks, Server, make_classifier,  # noqa: E402
                           status_line)

MG = os.path.abspath(sys.argv[1])
checks = Checks()
check = checks.check
TMP = tempfile.mkdtemp(prefix="mg-serve-e2e-")

TEXTS = ["hello world", "t5 t6 t7 t8 t9", "a longer input with several words in it " * 3, "x"]


def cli_lines(*args):
    path = os.path.join(TMP, "in.jsonl")
    with open(path, "w") as f:
        for text in TEXTS:
            f.write(json.dumps({"text": text}) + "\n")
    out = subprocess.run([MG, *args, "--input", path], check=True, capture_output=True).stdout
    return [json.loads(line) for line in out.decode().splitlines()]


def close(a, b, tol=1e-5):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def healthy(server):
    try:
        return server.request("GET", "/health")[0] == 200
    except OSError:
        return False


# ---------------------------------------------------------------- TEI client
server = Server(MG, "--model", EMBED_MODEL, "--idle-timeout", "2", "--max-client-batch-size",
                "64", "--max-body-bytes", "1000000", "--log-level", "info")
ref_norm = [line["embedding"] for line in cli_lines("embed", "--model", EMBED_MODEL,
                                                    "--normalize")]
ref_raw = [line["embedding"] for line in cli_lines("embed", "--model", EMBED_MODEL)]

status, headers, body = server.request("GET", "/health")
check("health 200", status == 200)
check("x-request-id on every reply", len(headers.get("x-request-id", "")) > 0)
status, headers, body = server.request("GET", "/health", headers={"x-request-id": "abc-123"})
check("client's x-request-id is echoed", headers.get("x-request-id") == "abc-123")

status, _, raw_info = server.request("GET", "/info")
info = json.loads(raw_info)
check("/info is TEI-shaped", status == 200 and info["model_id"] == "tiny-bert-model-safetensors"
      and info["model_type"] == {"embedding": {"pooling": "mean"}}
      and info["max_client_batch_size"] == 64 and "max_batch_tokens" in info
      and "max_input_length" in info and "version" in info)
check("/info shows the weights' sha256", len(info["model_sha"]) == 64
      and info["release_mode"] == "local")

status, headers, reply = server.post("/embed", {"inputs": TEXTS[0]})
check("embed one text", status == 200 and len(reply) == 1 and len(reply[0]) == 32, reply)
check("embed equals `modelgate embed --normalize`", close(reply[0], ref_norm[0]))
check("TEI timing headers", all(h in headers for h in ("x-compute-time", "x-compute-tokens",
                                                       "x-total-time", "x-tokenization-time",
                                                       "x-queue-time", "x-inference-time")))
status, _, reply = server.post("/embed", {"inputs": TEXTS, "normalize": False})
check("embed a batch without normalising",
      status == 200 and all(close(r, e) for r, e in zip(reply, ref_raw)) and len(reply) == 4)

# Concurrent clients with different inputs: batched together, answered separately.
results = {}


def embed_worker(index):
    text = TEXTS[index % len(TEXTS)]
    results[index] = server.post("/embed", {"inputs": [text]})


threads = [threading.Thread(target=embed_worker, args=(i,)) for i in range(48)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check("48 concurrent clients each get their own embedding",
      all(results[i][0] == 200 and close(results[i][2][0], ref_norm[i % len(TEXTS)])
          for i in range(48)))

# ------------------------------------------------------------- OpenAI client
status, _, reply = server.post("/v1/embeddings", {"input": TEXTS[:2], "model": "my-model"})
check("OpenAI embeddings shape", status == 200 and reply["object"] == "list"
      and reply["model"] == "my-model" and [d["index"] for d in reply["data"]] == [0, 1]
      and all(d["object"] == "embedding" for d in reply["data"]), reply)
check("OpenAI embeddings equal the CLI's", close(reply["data"][1]["embedding"], ref_norm[1]))
check("OpenAI usage counts tokens", reply["usage"]["prompt_tokens"] > 2
      and reply["usage"]["total_tokens"] == reply["usage"]["prompt_tokens"])
status, _, reply = server.post("/v1/embeddings", {"input": TEXTS[0], "model": "m",
                                                  "encoding_format": "base64"})
decoded = list(struct.unpack("<32f", base64.b64decode(reply["data"][0]["embedding"])))
check("OpenAI base64 encoding", status == 200 and close(decoded, ref_norm[0]))
status, _, reply = server.post("/v1/embeddings", {"input": ""})
check("OpenAI error shape", status == 422
      and set(reply["error"]) == {"message", "type", "param", "code"}
      and reply["error"]["type"] == "invalid_request_error"
      and reply["error"]["code"] == "invalid_value", reply)

# ------------------------------------------------------------------ tokenize
status, _, reply = server.post("/tokenize", {"inputs": TEXTS[1]})
ref_tok = json.loads(subprocess.run([MG, "tokenize", "--model", EMBED_MODEL, "--text", TEXTS[1]],
                                    check=True, capture_output=True).stdout)
check("tokenize ids equal `modelgate tokenize`",
      status == 200 and [t["id"] for t in reply[0]] == ref_tok["ids"], reply)
check("tokenize marks special tokens", reply[0][0]["special"] and not reply[0][1]["special"]
      and reply[0][1]["start"] == ref_tok["offsets"][1][0])
check("tokenize: each token's text is its slice of the input",
      all(t["text"] == TEXTS[1].encode()[t["start"]:t["stop"]].decode()
          for t in reply[0] if not t["special"])
      and reply[0][0]["text"] == "[CLS]" and reply[0][-1]["text"] == "[SEP]", reply)
status, _, reply = server.post("/tokenize", {"inputs": "t5 H\u00e9llo"})
check("tokenize: an unknown word's text is the input's, not [UNK]", status == 200
      and reply[0][2]["text"] == "H\u00e9llo" and reply[0][2]["start"] == 3
      and reply[0][2]["stop"] == 9, reply)

# ------------------------------------------------------- input length limits
long_text = " ".join(["word"] * 400)
status, headers, reply = server.post("/embed", {"inputs": [long_text, "a"]})
check("too long, truncate not given: truncated (--auto-truncate)", status == 200
      and len(reply) == 2 and headers.get("x-truncated-inputs") == "1", (status, headers))
status, _, reply = server.post("/embed", {"inputs": long_text, "truncate": False})
check("too long with truncate false: 422 Validation", status == 422
      and reply["error_type"] == "Validation" and reply["error_code"] == "validation"
      and "tokens" in reply["error"], reply)
status, headers, reply = server.post("/embed", {"inputs": long_text, "truncate": True})
check("too long with truncate: 200", status == 200 and len(reply[0]) == 32
      and headers.get("x-truncated-inputs") == "1")
status, headers, reply = server.post("/v1/embeddings", {"input": [long_text, "a", long_text]})
check("OpenAI route truncates and says so", status == 200
      and headers.get("x-truncated-inputs") == "2", headers)
status, headers, _ = server.post("/embed", {"inputs": "a"})
check("no x-truncated-inputs when nothing was cut", status == 200
      and "x-truncated-inputs" not in headers)

# ---------------------------------------------------------------- bad input
for name, body, expected in [
    ("malformed JSON", b'{"inputs": [1, 2', 400),
    ("invalid UTF-8", b'{"inputs": "caf\xe9"}', 400),
    ("not an object", b'["a"]', 422),
    ("wrong type", b'{"inputs": 42}', 422),
    ("wrong flag type", b'{"inputs": "a", "normalize": "yes"}', 422),
    ("missing inputs", b'{"input": "a"}', 422),
    ("empty list", b'{"inputs": []}', 400),
    ("empty string", b'{"inputs": ""}', 422),
    ("nested too deep", b'{"inputs": ' + b"[" * 10000 + b"]" * 10000 + b"}", 422),
]:
    status, _, reply = server.post("/embed", body)
    check(f"{name}: {expected}", status == expected and isinstance(reply, dict)
          and "error" in reply and reply.get("error_type") in {"Validation", "Empty", "Tokenizer", "Overloaded", "Backend", "Unhealthy"}
          and "error_code" in reply, (status, reply))
status, _, reply = server.post("/embed", b'{"inputs": []}')
check("empty list is TEI's Empty", reply.get("error_type") == "Empty", reply)
status, _, reply = server.post("/embed", b'{"inputs": 42}')
check("wrong type is TEI's Validation", reply.get("error_type") == "Validation"
      and reply.get("error_code") == "validation", reply)
status, _, reply = server.post("/embed", {"inputs": ["a"] * 10000})
check("10,000 inputs: 422", status == 422 and "maximum allowed batch size" in reply["error"])
status, _, _ = server.request("GET", "/embed")
check("GET on a POST route: 405", status == 405)
status, _, _ = server.request("GET", "/nope")
check("unknown route: 404", status == 404)

# A 100 MB body: refused with 413 as soon as the limit is passed.
sock = socket.create_connection(("127.0.0.1", server.port))
sock.settimeout(10)
sock.sendall(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Content-Length: 100000000\r\n\r\n")
reply_bytes = b""
try:
    chunk = b"a" * 65536
    for _ in range(1600):
        sock.sendall(chunk)
except OSError:
    pass
try:
    while True:
        data = sock.recv(65536)
        if not data:
            break
        reply_bytes += data
except OSError:
    pass
sock.close()
check("100 MB body: 413", status_line(reply_bytes) == 413, reply_bytes[:100])

# 1 MB of headers: 431.
big_header = b"X-Big: " + b"a" * (1 << 20) + b"\r\n"
reply_bytes = server.raw(b"GET /health HTTP/1.1\r\nHost: x\r\n" + big_header + b"\r\n")
check("1 MB of headers: 431", status_line(reply_bytes) == 431, reply_bytes[:100])
reply_bytes = server.raw(b"NOT HTTP AT ALL\r\n\r\n")
check("garbage request line: 400", status_line(reply_bytes) == 400, reply_bytes[:100])

# "Expect: 100-continue" (curl for large bodies): the go-ahead, then the reply.
sock = socket.create_connection(("127.0.0.1", server.port))
sock.settimeout(10)
body = json.dumps({"inputs": TEXTS[0]}).encode()
sock.sendall(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
interim = sock.recv(4096)
sock.sendall(body)
final = b""
while b"\r\n\r\n" not in final or len(final.split(b"\r\n\r\n", 1)[1]) < 100:
    chunk = sock.recv(65536)
    if not chunk:
        break
    final += chunk
sock.close()
check("Expect: 100-continue", interim.startswith(b"HTTP/1.1 100 Continue")
      and status_line(final) == 200, (interim[:40], final[:40]))

# Pipelined requests on one connection come back in order.
pipelined = b"".join(
    b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"x-request-id: pipe-%d\r\nContent-Length: %d\r\n\r\n%s" % (i, len(body), body)
    for i, body in enumerate([b'{"inputs":"a"}', b'{"inputs":"b c"}', b'{"inputs":'])) + \
    b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
reply_bytes = server.raw(pipelined)
ids = [line.split(b":")[1].strip() for line in reply_bytes.split(b"\r\n")
       if line.lower().startswith(b"x-request-id")]
statuses = [int(part[:3]) for part in reply_bytes.split(b"HTTP/1.1 ")[1:]]
check("pipelined requests answered in order", ids[:3] == [b"pipe-0", b"pipe-1", b"pipe-2"]
      and statuses == [200, 200, 400, 200], (ids, statuses))

# Clients that disconnect mid-request, or before reading the reply.
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inp")
    s.close()
    s = socket.create_connection(("127.0.0.1", server.port))
    body = json.dumps({"inputs": TEXTS}).encode()
    s.sendall(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
              % (len(body), body))
    s.close()
check("vanishing clients leave the server serving", healthy(server))

# A slow client (one byte a second) is cut off by the idle timeout (2 s here)
# while others are served at once.
slow = socket.create_connection(("127.0.0.1", server.port))
slow.settimeout(10)
slow_request = b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{\"inputs\":\"abcdefg\"}"
slow_closed_after = None
start = time.time()
served_meanwhile = True
try:
    for i in range(len(slow_request)):
        slow.sendall(slow_request[i:i + 1])
        served_meanwhile = served_meanwhile and healthy(server)
        time.sleep(1)
        if time.time() - start > 8:
            break
except OSError:
    pass
try:
    data = slow.recv(4096)
    slow_closed_after = time.time() - start
    check("slow client gets 408 or a close", data == b"" or status_line(data) == 408, data[:60])
except OSError:
    slow_closed_after = time.time() - start
slow.close()
check("slow client cut off within the idle timeout", slow_closed_after is not None
      and slow_closed_after < 6, slow_closed_after)
check("others served while a slow client trickles", served_meanwhile)

# Idle connections: many open, health still answers quickly.
idle = []
for _ in range(200):
    idle.append(socket.create_connection(("127.0.0.1", server.port)))
t0 = time.time()
check("health with 200 idle connections open", healthy(server))
health_ms = (time.time() - t0) * 1000
for s in idle:
    s.close()
check("health answered while idle connections are open", health_ms < 1000, health_ms)

# /metrics
status, headers, data = server.request("GET", "/metrics")
text = data.decode()
check("metrics in Prometheus text format", status == 200
      and headers["content-type"].startswith("text/plain")
      and 'modelgate_requests_total{route="/embed",status="200"}' in text
      and 'modelgate_requests_total{route="/embed",status="422"}' in text
      and "modelgate_request_duration_seconds_bucket" in text
      and "modelgate_batch_size_requests_count" in text and "modelgate_queue_depth" in text)

# Logs: JSON lines with request id, route, status, latency and token counts,
# never the request text.
log_lines = [json.loads(line) for line in server.read_log().splitlines() if line.startswith("{")]
requests = [line for line in log_lines if line["msg"] == "request"]
check("request logs are JSON lines with the fields",
      len(requests) > 50 and all({"request_id", "route", "status", "latency_ms", "tokens"}
                                 <= set(line) for line in requests))
check("request text never logged", "t5 t6 t7" not in server.read_log()
      and "several words" not in server.read_log())
check("clean exit on SIGTERM", server.stop() == 0)

# ------------------------------------------------------------------ predict
CLASSIFIER_MODEL = make_classifier(os.path.join(TMP, "classifier"))
server = Server(MG, "--model", CLASSIFIER_MODEL)
ref_cls = cli_lines("classify", "--model", CLASSIFIER_MODEL)
status, _, reply = server.post("/predict", {"inputs": TEXTS[0]})
check("predict one text", status == 200 and isinstance(reply, list) and len(reply) == 3
      and all(reply[i]["score"] >= reply[i + 1]["score"] for i in range(2)), reply)
check("predict equals `modelgate classify`", reply[0]["label"] == ref_cls[0]["label"]
      and abs(reply[0]["score"] - ref_cls[0]["score"]) < 1e-5
      and abs(sum(r["score"] for r in reply) - 1) < 1e-4)
status, _, reply = server.post("/predict", {"inputs": [[t] for t in TEXTS]})
check("predict a batch", status == 200 and len(reply) == 4
      and all(r[0]["label"] == c["label"] for r, c in zip(reply, ref_cls)))
status, _, reply = server.post("/predict", {"inputs": ["what is it?", "a thing"]})
check("predict a text pair", status == 200 and len(reply) == 3)
status, _, raw = server.post("/predict", {"inputs": TEXTS[0], "raw_scores": True})
check("raw scores are logits", status == 200 and abs(sum(r["score"] for r in raw) - 1) > 1e-3
      and raw[0]["label"] == ref_cls[0]["label"])
status, _, raw_info = server.request("GET", "/info")
info = json.loads(raw_info)
check("/info of a classifier", "classifier" in info["model_type"]
      and info["model_type"]["classifier"]["id2label"]["1"] == "technical")
status, _, single = server.post("/predict", {"inputs": TEXTS[0]})
status, _, reply = server.post("/", {"inputs": TEXTS[0]})
check("POST / of a classifier: one text as a batch of one ([[...]]), as HF Inference Endpoints",
      status == 200 and reply == [single], reply)
status, _, reply = server.post("/", {"inputs": [[TEXTS[0]], [TEXTS[1]]]})
check("POST / of a classifier: a batch as /predict", status == 200 and len(reply) == 2
      and [r["label"] for r in reply[0]] == [r["label"] for r in single]
      and close([r["score"] for r in reply[0]], [r["score"] for r in single]), reply)
status, _, reply = server.post("/invocations", {"inputs": TEXTS[0]})
check("POST /invocations of a classifier answers as /predict", status == 200 and reply == single)
status, _, reply = server.post("/predict", {"inputs": ["a", "b", "c"]})
check("predict: a flat list of three strings is 422 with the batch form", status == 422
      and reply["error_type"] == "Validation" and '[["a"], ["b"], ["c"]' in reply["error"], reply)
status, _, reply = server.post("/predict", {"inputs": [["a"], ["b"], ["c"]]})
check("predict: [[a], [b], [c]] is a batch of three", status == 200 and len(reply) == 3)
check("classifier server exits 0", server.stop() == 0)

# ------------------------------------------- TEI and OpenAI compatibility
server = Server(MG, "--model", EMBED_MODEL)
status, _, raw_info = server.request("GET", "/info")
info = json.loads(raw_info)
check("/info: served_model_name and auto_truncate", info["served_model_name"] == info["model_id"]
      and info["auto_truncate"] is True, info)
check("default max_client_batch_size takes LangChain's 512", info["max_client_batch_size"] >= 512,
      info["max_client_batch_size"])
many = [f"t{5 + i % 200} t{6 + i % 100} " * (1 + i % 60) for i in range(512)]
status, _, reply = server.post("/v1/embeddings", {"input": many, "model": "m"})
check("512 texts in one request succeed on the default server", status == 200
      and len(reply["data"]) == 512, status)
if status == 200:
    _, _, one = server.post("/v1/embeddings", {"input": many[300]})
    check("a large request's rows are each input's own",
          close(reply["data"][300]["embedding"], one["data"][0]["embedding"]))
status, headers, body = server.request("GET", "/ping")
check("GET /ping", status == 200 and json.loads(body) == {"status": "ok"})
status, headers, body = server.request("GET", "/")
check("GET / is still the dashboard", status == 200 and b"<html" in body.lower())
_, _, single = server.post("/embed", {"inputs": TEXTS[0]})
status, _, reply = server.post("/", {"inputs": TEXTS[0]})
check("POST / of an embedding model answers as /embed", status == 200 and reply == single)
status, _, reply = server.post("/invocations", {"inputs": TEXTS[0]})
check("POST /invocations answers as /embed", status == 200 and reply == single)
status, _, reply = server.post("/predict", {"inputs": TEXTS[0]})
check("/predict on an embedding model: 424 Backend", status == 424
      and reply["error_type"] == "Backend", reply)
status, _, reply = server.post("/embed_sparse", {"inputs": TEXTS[0]})
check("/embed_sparse: 424 Backend (no sparse head)", status == 424
      and reply["error_type"] == "Backend", reply)
status, _, toks = server.post("/tokenize", {"inputs": [TEXTS[1], TEXTS[0]]})
ids = [[t["id"] for t in row] for row in toks]
status, _, reply = server.post("/decode", {"ids": ids[0]})
check("/decode one list of ids", status == 200 and reply == TEXTS[1], reply)
status, _, reply = server.post("/decode", {"ids": ids, "skip_special_tokens": False})
check("/decode a batch, special tokens kept", status == 200 and isinstance(reply, list)
      and reply[0] == "[CLS] " + TEXTS[1] + " [SEP]" and len(reply) == 2, reply)
status, _, reply = server.post("/decode", {"ids": [999999]})
check("/decode of an id outside the vocabulary: 422", status == 422, reply)
sentences = TEXTS[1:]
status, _, reply = server.post("/similarity", {"inputs": {"source_sentence": TEXTS[0],
                                                          "sentences": sentences}})
expected = [sum(a * b for a, b in zip(ref_norm[0], ref_norm[i])) for i in range(1, 4)]
check("/similarity is the cosine of the embeddings", status == 200
      and close(reply, expected, 1e-4), (reply, expected))
status, _, reply = server.post("/embed_all", {"inputs": [TEXTS[0], TEXTS[1]]})
count = len(toks[0])  # the tokens of TEXTS[1]
mean = [sum(row[c] for row in reply[1]) / len(reply[1]) for c in range(32)] if status == 200 else []
check("/embed_all: one row per token, mean-pooled equals /embed",
      status == 200 and len(reply) == 2 and len(reply[1]) == count
      and close(mean, ref_raw[1], 1e-4), status)
status, _, reply = server.post("/embed", {"inputs": TEXTS[0], "dimensions": 8})
norm = math.sqrt(sum(x * x for x in ref_raw[0][:8]))
check("/embed dimensions: the first values, renormalised", status == 200
      and close(reply[0], [x / norm for x in ref_raw[0][:8]], 1e-4), reply)
status, _, reply = server.post("/v1/embeddings", {"input": TEXTS[0], "dimensions": 8})
check("/v1/embeddings dimensions", status == 200
      and close(reply["data"][0]["embedding"], [x / norm for x in ref_raw[0][:8]], 1e-4))
status, _, reply = server.post("/v1/embeddings", {"input": "a", "dimensions": 33})
check("dimensions over the width: 422", status == 422
      and reply["error"]["code"] == "invalid_value", reply)
status, _, reply = server.post("/v1/embeddings", {"input": ids})
check("/v1/embeddings of token ids equals the text's", status == 200
      and close(reply["data"][0]["embedding"], ref_norm[1])
      and close(reply["data"][1]["embedding"], ref_norm[0]), status)
status, _, reply = server.post("/v1/embeddings", {"input": ids[0]})
check("/v1/embeddings of one list of ids", status == 200 and len(reply["data"]) == 1
      and close(reply["data"][0]["embedding"], ref_norm[1]))
status, _, reply = server.post("/v1/embeddings", {"input": [5, 999999]})
check("token id outside the vocabulary: 422", status == 422
      and reply["error"]["code"] == "invalid_value", reply)
server.stop()
server = Server(MG, "--model", EMBED_MODEL, "--no-auto-truncate")
status, _, reply = server.post("/embed", {"inputs": long_text})
check("--no-auto-truncate refuses over-long inputs", status == 422
      and reply["error_type"] == "Validation", reply)
status, _, raw_info = server.request("GET", "/info")
check("/info auto_truncate false", json.loads(raw_info)["auto_truncate"] is False)
server.stop()

# ---------------------------------------------------------------- overload
server = Server(MG, "--model", EMBED_MODEL, "--max-concurrent-requests", "2",
                "--max-client-batch-size", "64")
statuses = []
lock = threading.Lock()
heavy = {"inputs": [long_text] * 64, "truncate": True}


def heavy_worker():
    status, _, reply = server.post("/embed", heavy)
    with lock:
        statuses.append((status, reply if status != 200 else None))


# Bursts of 32 heavy requests against a limit of 2 in flight, until one is
# refused (the first burst nearly always suffices).
for _ in range(5):
    threads = [threading.Thread(target=heavy_worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if any(s == 503 for s, _ in statuses):
        break
overloaded = [r for s, r in statuses if s == 503]
check("overload gives 503 at once, the rest succeed",
      all(s in (200, 503) for s, _ in statuses) and len(overloaded) > 0
      and all(r["error_type"] == "Overloaded" and r["error_code"] == "overloaded"
              for r in overloaded)
      and any(s == 200 for s, _ in statuses), [s for s, _ in statuses])
check("served again after the overload", server.post("/embed", {"inputs": "a"})[0] == 200)

check("overload server exits 0", server.stop() == 0)

# Graceful shutdown: the requests in flight when SIGTERM arrives are finished.
server = Server(MG, "--model", EMBED_MODEL, "--max-client-batch-size", "256",
                "--max-batch-tokens", "32768", "--log-level", "warn")
huge = {"inputs": [long_text] * 256, "truncate": True}
finished = []


def huge_worker():
    try:
        status, _, _ = server.post("/embed", huge)
    except OSError:
        status = 0  # not read before the server stopped accepting
    with lock:
        finished.append(status)


threads = [threading.Thread(target=huge_worker) for _ in range(8)]
for t in threads:
    t.start()
seen = 0
deadline = time.time() + 20
while seen < 3 and time.time() < deadline:
    _, _, data = server.request("GET", "/metrics")
    seen = int(next(line.split()[1] for line in data.decode().splitlines()
                    if line.startswith("modelgate_requests_in_flight ")))
server.process.send_signal(15)
for t in threads:
    t.join()
check("requests in flight at SIGTERM", seen >= 3, seen)
check("every request in flight at SIGTERM is answered",
      finished.count(200) >= seen and all(s in (200, 503, 0) for s in finished),
      (seen, finished))
check("exit 0 after SIGTERM", server.stop() == 0)

# ------------------------------------------------------------------ privacy
PII = "please mail john.doe@example.com about it"
plain = Server(MG, "--model", EMBED_MODEL, "--privacy", "off")
_, _, with_pii = plain.post("/embed", {"inputs": PII})
_, _, replaced = plain.post("/embed", {"inputs": "please mail <EMAIL_ADDRESS> about it"})
plain.stop()
server = Server(MG, "--model", EMBED_MODEL, "--privacy", "redact")
status, _, reply = server.post("/embed", {"inputs": PII})
check("redact: the model sees <EMAIL_ADDRESS>", status == 200 and close(reply[0], replaced[0])
      and not close(reply[0], with_pii[0]))
status, _, data = server.request("GET", "/metrics")
check("metrics count PII by type",
      'modelgate_pii_detections_total{entity_type="EMAIL_ADDRESS"} 1' in data.decode())
check("PII never logged", "john.doe" not in server.read_log())
server.stop()
server = Server(MG, "--model", EMBED_MODEL, "--privacy", "block", "--privacy-entities",
                "EMAIL_ADDRESS,PHONE_NUMBER")
status, _, reply = server.post("/embed", {"inputs": ["fine", PII]})
check("block: PII refused with 422", status == 422 and reply["error_type"] == "Validation"
      and reply["error_code"] == "pii_detected"
      and "EMAIL_ADDRESS" in reply["error"] and "john" not in reply["error"], reply)
status, _, reply = server.post("/embed", {"inputs": "see https://example.com/x"})
check("block: other entity types pass", status == 200)
server.stop()

# ---------------------------------------------------------------------- TLS
cert, key = os.path.join(TMP, "cert.pem"), os.path.join(TMP, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
server = Server(MG, "--model", EMBED_MODEL, "--tls-cert", cert, "--tls-key", key, tls=True,
                ca=cert)
status, _, reply = server.post("/embed", {"inputs": TEXTS[0]})
check("HTTPS embed", status == 200 and close(reply[0], ref_norm[0]))
reply_bytes = server.raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", read_timeout=3)
check("plain HTTP on the TLS port gets no HTTP reply", status_line(reply_bytes) == 0)
check("HTTPS still serving", server.request("GET", "/health")[0] == 200)
check("TLS server exits 0", server.stop() == 0)

# Startup errors: one line, non-zero exit.
result = subprocess.run([MG, "serve", "--model", EMBED_MODEL, "--tls-cert", cert, "--tls-key",
                         "/nonexistent.pem", "--port", "0"], capture_output=True)
check("bad TLS key: one error line", result.returncode != 0
      and result.stderr.decode().startswith("error: "), result.stderr)
result = subprocess.run([MG, "serve", "--model", EMBED_MODEL, "--privacy", "maybe"],
                        capture_output=True)
check("bad privacy mode: one error line", result.returncode != 0
      and b"unknown privacy mode" in result.stderr)

sys.exit(checks.finish())
