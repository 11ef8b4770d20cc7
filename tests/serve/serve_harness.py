"""Shared helpers of the serve end-to-end tests: start `modelgate serve` on a
free loopback port, talk HTTP to it with the standard library, and count checks.

Only the Python standard library is used, so the tests exercise the server the
way any HTTP client would.
"""
import http.client
import struct
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "data", "fixtures")
EMBED_MODEL = os.path.join(FIXTURES, "tiny-bert-model-safetensors")
CLASSIFIER_MODEL = os.path.join(FIXTURES, "tiny-bert-ner-pytorch-bin")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {name} {detail}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


class Server:
    """A running `modelgate serve`; stop() sends SIGTERM and returns the exit code."""

    def __init__(self, binary, *args, tls=False, ca=None):
        self.tmp = tempfile.mkdtemp(prefix="mg-serve-")
        port_file = os.path.join(self.tmp, "port")
        self.log_path = os.path.join(self.tmp, "log")
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [binary, "serve", "--port", "0", "--port-file", port_file, *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.tls = tls
        self.ca = ca
        deadline = time.time() + 60
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start: " + self.read_log())
            time.sleep(0.02)
        self.port = int(open(port_file).read())

    def connection(self, timeout=30):
        if self.tls:
            import ssl
            context = ssl.create_default_context(cafile=self.ca)
            return http.client.HTTPSConnection("localhost", self.port, timeout=timeout,
                                               context=context)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, connection=None):
        """(status, headers dict, body bytes)."""
        conn = connection or self.connection()
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        response = conn.getresponse()
        data = response.read()
        result = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        if connection is None:
            conn.close()
        return result

    def post(self, path, body, headers=None):
        status, hdrs, data = self.request("POST", path, body, headers)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return status, hdrs, parsed

    def raw(self, data, read_timeout=10):
        """Sends raw bytes on a fresh connection and returns what comes back until close."""
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.settimeout(read_timeout)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it was all sent (e.g. 431): read the reply anyway
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
        sock.close()
        return b"".join(chunks)

    def read_log(self):
        self.log.flush()
        return open(self.log_path, "rb").read().decode("utf-8", "replace")

    def stop(self, timeout=30):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -1


def status_line(response_bytes):
    """The status code of the first HTTP response in raw bytes, or 0."""
    if not response_bytes.startswith(b"HTTP/1.1 "):
        return 0
    return int(response_bytes[9:12])


def make_classifier(out_dir, labels=("billing", "technical", "other")):
    """A tiny sequence classifier: the embedding fixture plus a pooler and a
    head of len(labels) labels (3 by default; 1 makes a cross-encoder) with
    fixed pseudo-random weights, written as safetensors."""
    import random
    import shutil
    shutil.copytree(EMBED_MODEL, out_dir)
    path = os.path.join(out_dir, "model.safetensors")
    blob = open(path, "rb").read()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    data = blob[8 + size:]
    tensors = {name: data[info["data_offsets"][0]:info["data_offsets"][1]]
               for name, info in header.items() if name != "__metadata__"}
    shapes = {name: info["shape"] for name, info in header.items() if name != "__metadata__"}
    rng = random.Random(7)
    hidden = 32
    for name, shape in [("pooler.dense.weight", [hidden, hidden]), ("pooler.dense.bias", [hidden]),
                        ("classifier.weight", [len(labels), hidden]),
                        ("classifier.bias", [len(labels)])]:
        count = 1
        for dim in shape:
            count *= dim
        values = [rng.uniform(-0.5, 0.5) for _ in range(count)]
        tensors[name] = b"".join(struct.pack("<f", v) for v in values)
        shapes[name] = shape
    new_header, offset, payload = {}, 0, []
    for name in sorted(tensors):
        new_header[name] = {"dtype": "F32", "shape": shapes[name],
                            "data_offsets": [offset, offset + len(tensors[name])]}
        offset += len(tensors[name])
        payload.append(tensors[name])
    header_bytes = json.dumps(new_header).encode()
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as f:
        f.write(len(header_bytes).to_bytes(8, "little") + header_bytes + b"".join(payload))
    config_path = os.path.join(out_dir, "config.json")
    config = json.load(open(config_path))
    config["architectures"] = ["BertForSequenceClassification"]
    config["id2label"] = {str(i): label for i, label in enumerate(labels)}
    config["label2id"] = {label: i for i, label in enumerate(labels)}
    json.dump(config, open(config_path, "w"))
    return out_dir
