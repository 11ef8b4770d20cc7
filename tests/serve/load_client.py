"""A small HTTP load client (standard library only): N requests to /embed
spread round-robin over API keys, at a given concurrency, on keep-alive
connections. Prints one JSON object: per key the count of each status and
the tokens of the 200s (x-compute-tokens), and latency statistics.

Usage: load_client.py HOST:PORT REQUESTS CONCURRENCY [KEY ...]
(no KEY: requests without one, for `--auth off`)
"""
import http.client
import json
import sys
import threading
import time

host, port = sys.argv[1].rsplit(":", 1)
total, concurrency = int(sys.argv[2]), int(sys.argv[3])
keys = sys.argv[4:] or [""]
lock = threading.Lock()
next_index = [0]
per_key = {k: {"statuses": {}, "tokens": 0} for k in keys}
latencies = []
BODY = json.dumps({"inputs": "the quick brown fox jumps over the lazy dog"})


def worker():
    conn = None
    local = []
    while True:
        with lock:
            i = next_index[0]
            if i >= total:
                break
            next_index[0] += 1
        key = keys[i % len(keys)]
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = "Bearer " + key
        start = time.perf_counter()
        status, tokens = "error", 0
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port), timeout=60)
            conn.request("POST", "/embed", body=BODY, headers=headers)
            response = conn.getresponse()
            response.read()
            status = str(response.status)
            if response.status == 200:
                tokens = int(response.getheader("x-compute-tokens", "0"))
            if response.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
        local.append(time.perf_counter() - start)
        with lock:
            entry = per_key[key]
            entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
            entry["tokens"] += tokens
    with lock:
        latencies.extend(local)


began = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.perf_counter() - began
latencies.sort()


def pct(p):
    return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0


print(json.dumps({"keys": per_key, "seconds": elapsed, "throughput": total / elapsed,
                  "mean_ms": sum(latencies) / max(1, len(latencies)) * 1000,
                  "p50_ms": pct(0.50), "p99_ms": pct(0.99)}))
