#!/usr/bin/python3
"""Opens N idle connections to a server, then times /health on fresh
connections while they stay open; prints one JSON line with the latencies.

usage: idle_health.py PORT [IDLE_CONNECTIONS] [PROBES]
"""
import http.client
import json
import socket
import sys
import time

port = int(sys.argv[1])
idle_count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
probes = int(sys.argv[3]) if len(sys.argv) > 3 else 200
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle_count)]
time.sleep(0.5)
latencies, failures = [], 0
for _ in range(probes):
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            failures += 1
    except OSError:
        failures += 1
    conn.close()
    latencies.append((time.perf_counter() - start) * 1000)
# The idle connections must all still be open (the server keeps them until
# its idle timeout).
still_open = 0
for sock in idle:
    sock.setblocking(False)
    try:
        still_open += sock.recv(1) != b""
    except BlockingIOError:
        still_open += 1
    except OSError:
        pass
    sock.close()
latencies.sort()
print(json.dumps({"idle": idle_count, "still_open": still_open, "probes": probes,
                  "failures": failures, "p50_ms": round(latencies[len(latencies) // 2], 3),
                  "p99_ms": round(latencies[int(len(latencies) * 0.99)], 3),
                  "max_ms": round(latencies[-1], 3)}))
