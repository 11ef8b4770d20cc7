#!/usr/bin/python3
"""End-to-end tests of `modelgate serve` at the edges of HTTP and of its
process: Transfer-Encoding other than chunked, the connection cap
(--max-connections), the dashboard's framing headers, the shipped CLI's
licence clock (the system's; no option changes it), the loader's notes in the
operator log, and a closed bundle's process kept out of core dumps and /proc.

usage: serve_limits_e2e_test.py MODELGATE_BINARY
"""
import datetime
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import EMBED_MODEL, Checks, Server, status_line  # noqa: E402

MG = os.path.abspath(sys.argv[1])
checks = Checks()
check = checks.check
TMP = tempfile.mkdtemp(prefix="mg-serve-limits-")
BODY = b'{"inputs": "hello world"}'


def must(*args):
    result = subprocess.run([MG, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"modelgate {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def path(name):
    return os.path.join(TMP, name)


def metric(server, name):
    _, _, body = server.request("GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


# ------------------------------------------------------- Transfer-Encoding
server = Server(MG, "--model", EMBED_MODEL)
try:
    head = b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    reply = server.raw(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
    check("chunked body is read", status_line(reply) == 200, reply[:200])
    # On /health, a body read as empty would pass unnoticed: the coding must be refused.
    health = b"GET /health HTTP/1.1\r\nHost: x\r\n"
    reply = server.raw(health + b"Transfer-Encoding: xchunked\r\n\r\n" + BODY)
    check("unknown Transfer-Encoding -> 400", status_line(reply) == 400 and
          b"Transfer-Encoding" in reply, reply[:300])
    reply = server.raw(head + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked)
    check("a list of codings -> 400", status_line(reply) == 400, reply[:200])
    reply = server.raw(health + b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n"
                       % len(chunked) + chunked)
    check("Transfer-Encoding with Content-Length -> 400", status_line(reply) == 400, reply[:200])

    # The dashboard may not be framed by another site.
    status, headers, _ = server.request("GET", "/")
    csp = headers.get("content-security-policy", "")
    check("dashboard CSP forbids framing", status == 200 and "frame-ancestors 'none'" in csp, csp)
    check("dashboard X-Frame-Options DENY", headers.get("x-frame-options") == "DENY", headers)
finally:
    check("server exits 0", server.stop() == 0)

# ------------------------------------------------------ --max-connections
idle = []
try:
    server = Server(MG, "--model", EMBED_MODEL, "--max-connections", "3")
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(3)]
    # The three are accepted in order (each answers), so the fourth is over the cap.
    for sock in idle:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        check("connections under the cap served", sock.recv(4096).startswith(b"HTTP/1.1 200"))
    reply = b""
    try:
        reply = server.raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    except OSError:
        pass
    check("connection over the cap refused", status_line(reply) in (0, 503), reply[:200])
    for sock in idle:
        sock.close()
    idle = []
    refused = None
    for _ in range(200):  # the server notices the closed connections soon after
        try:
            refused = metric(server, "modelgate_refused_connections_total")
        except (OSError, ValueError, IndexError):
            pass
        if refused is not None:
            break
        time.sleep(0.05)
    check("refused connections counted", refused is not None and refused >= 1, refused)
    check("capped server exits 0", server.stop() == 0)
except RuntimeError as error:  # did not start
    check("serve --max-connections", False, error)
finally:
    for sock in idle:
        sock.close()

# ------------------------------------------------- licences and the clock
os.makedirs(TMP, exist_ok=True)
must("keygen", "--out", path("vendor"))
must("keygen", "--out", path("deploy"), "--type", "deploy")
must("release", "closed", "--model", EMBED_MODEL, "--out", path("c.mgb"), "--sign",
     path("vendor.key"), "--to", path("deploy.pub"), "--model-id", "limits-model",
     "--require-license")
must("release", "closed", "--model", EMBED_MODEL, "--out", path("free.mgb"), "--sign",
     path("vendor.key"), "--to", path("deploy.pub"), "--model-id", "free-model")
yesterday = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1))
must("license", "issue", "--sign", path("vendor.key"), "--licensee", "Acme", "--model",
     "limits-model", "--not-before", "2020-01-01", "--expires", yesterday.isoformat(),
     "--out", path("expired.lic"))
must("license", "issue", "--sign", path("vendor.key"), "--licensee", "Acme", "--model",
     "limits-model", "--not-before", "2020-01-01", "--expires", "2099-12-31",
     "--out", path("valid.lic"))
closed = ["--model", path("c.mgb"), "--key", path("deploy.key"), "--vendor-pub",
          path("vendor.pub")]

result = subprocess.run([MG, "serve", *closed, "--license", path("expired.lic"), "--port", "0"],
                        capture_output=True, text=True)
check("expired licence refused at start", result.returncode != 0 and "expired" in result.stderr,
      result.stderr)
# The shipped binary has no test clock: --now is an unknown option. (The
# date is before the licence's first day, so that a binary which still took
# the option would stop too, with another message.)
result = subprocess.run([MG, "serve", *closed, "--license", path("valid.lic"), "--port", "0",
                         "--now", "2019-06-01"], capture_output=True, text=True)
check("serve --now is an unknown option", result.returncode != 0 and "--now" in result.stderr,
      result.stderr)

# The loader's notes reach the operator log (no --vendor-pub: signer not pinned).
server = Server(MG, "--model", path("free.mgb"), "--key", path("deploy.key"), "--log-level",
                "warn")
try:
    notes = [json.loads(line) for line in server.read_log().splitlines() if line.startswith("{")]
    notes = [line for line in notes if line.get("msg", "").startswith("note: ")]
    check("serve logs the loader's notes",
          any("not pinned" in line["msg"] for line in notes), server.read_log()[-600:])
finally:
    check("closed server exits 0", server.stop() == 0)


# ---------------------------------------------------------- core dumps
def readable_by_same_user(model_args, user):
    """Whether another process of `user` can read the server's /proc/PID/environ
    (and so its memory) while it serves `model_args` as that user."""
    run_dir = tempfile.mkdtemp(prefix="mg-dump-")
    for name in ("free.mgb", "deploy.key"):
        shutil.copy(path(name), run_dir)
    os.chmod(run_dir, 0o755)
    for name in os.listdir(run_dir) + [""]:
        os.chown(os.path.join(run_dir, name), user.pw_uid, user.pw_gid)
    args = [a.replace(TMP, run_dir) for a in model_args]
    as_user = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    port_file = os.path.join(run_dir, "port")
    log = open(os.path.join(run_dir, "log"), "wb")
    process = subprocess.Popen(as_user + [MG, "serve", "--port", "0", "--port-file", port_file,
                                          *args], stdout=log, stderr=subprocess.STDOUT)
    try:
        while not os.path.exists(port_file) and process.poll() is None:
            time.sleep(0.02)
        if process.poll() is not None:
            raise SystemExit("server did not start: " + open(log.name).read())
        probe = subprocess.run(as_user + ["cat", f"/proc/{process.pid}/environ"],
                               capture_output=True)
        return probe.returncode == 0
    finally:
        process.terminate()
        process.wait()


if os.getuid() == 0 and shutil.which("setpriv"):
    nobody = pwd.getpwnam("nobody")
    check("a plain model's server is readable by its own user (the probe works)",
          readable_by_same_user(["--model", EMBED_MODEL], nobody))
    check("a closed bundle's server is not dumpable",
          not readable_by_same_user(["--model", path("free.mgb"), "--key", path("deploy.key")],
                                    nobody))
else:
    print("core-dump part skipped: needs root and setpriv to run the server as another user")

sys.exit(checks.finish())
