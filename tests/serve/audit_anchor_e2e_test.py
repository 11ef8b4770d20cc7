"""End-to-end test of the audit trail against someone who can write the
database: `modelgate serve --audit-key --audit-anchor` writes a chain of more
than 1,000 entries (refused requests are audited too), then the SQLite file is
rewritten behind the server's back the way such an attacker would (hashes
recomputed, checkpoints deleted, head moved; or the newest entries cut off).
`modelgate audit verify --audit-pub --anchor` must fail naming the entry, and
the dashboard's /admin/audit must not call the chain verified.

Usage: audit_anchor_e2e_test.py MODELGATE
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Checks, Server, EMBED_MODEL  # noqa: E402

BINARY = sys.argv[1]
checks = Checks()
WORK = tempfile.mkdtemp(prefix="mg-audit-")
DB_PATH = os.path.join(WORK, "cp.db")
DB = "sqlite:" + DB_PATH
KEY, PUB = os.path.join(WORK, "audit.key"), os.path.join(WORK, "audit.pub")
ANCHOR = os.path.join(WORK, "audit.anchor")
GENESIS = "0" * 64


def cli(*args):
    result = subprocess.run([BINARY, *args], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def verify(db_path, *flags):
    return cli("audit", "verify", "--db", "sqlite:" + db_path, *flags)


def entry_hash(row):
    """hash_n as docs/control-plane.md defines it, computed independently."""
    canonical = b"modelgate-audit-v1\n"
    for field in row:
        value = str(field).encode()
        canonical += str(len(value)).encode() + b":" + value + b"\n"
    return hashlib.blake2b(canonical, digest_size=32).hexdigest()


def rewrite(db_path, keep, last):
    """Keeps entries 1..keep, makes every later one up to `last` someone
    else's with consistent hashes, deletes the rest and every checkpoint
    after `keep`, and moves the head: a chain that is internally intact."""
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT seq, ts_ms, actor, action, target, route, status, tokens, detail "
                      "FROM audit_log ORDER BY seq").fetchall()
    prev, head = GENESIS, 0
    for row in rows:
        seq = row[0]
        if seq > last:
            db.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
            continue
        head = seq
        actor = "someone-else" if seq > keep else row[2]
        new_hash = entry_hash((seq, row[1], actor, *row[3:], prev))
        db.execute("UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                   (actor, prev, new_hash, seq))
        prev = new_hash
    db.execute("DELETE FROM audit_checkpoints WHERE seq > ?", (min(keep, last),))
    db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (head, prev))
    db.commit()
    db.close()


def copy_db(name):
    path = os.path.join(WORK, name)
    shutil.copy(DB_PATH, path)
    return path


try:
    code, _, err = cli("keygen", "--type", "sign", "--out", os.path.join(WORK, "audit"))
    checks.check("audit key made", code == 0, err)
    code, admin_key, err = cli("keys", "create", "--db", DB, "--name", "root", "--scopes", "admin",
                               "--audit-key", KEY, "--audit-anchor", ANCHOR)
    admin = {"Authorization": "Bearer " + admin_key.strip()}
    checks.check("admin key created", code == 0, err)
    code, _, err = cli("keys", "create", "--db", DB, "--name", "x", "--audit-anchor", ANCHOR)
    checks.check("--audit-anchor without --audit-key refused",
                 code == 2 and "--audit-anchor needs --audit-key" in err, err)

    # A key without the embed scope: each of its refusals is audited under
    # its name (refusals of keys nobody holds are only counted).
    code, classify_key, err = cli("keys", "create", "--db", DB, "--name", "classifier",
                                  "--scopes", "classify", "--audit-key", KEY,
                                  "--audit-anchor", ANCHOR)
    checks.check("classify-only key created", code == 0, err)
    wrong_scope = {"Authorization": "Bearer " + classify_key.strip()}

    server = Server(BINARY, "--model", EMBED_MODEL, "--db", DB, "--log-level", "warn",
                    "--audit-key", KEY, "--audit-anchor", ANCHOR)
    try:
        # Refused requests of a known key are audited: 1,100 of them pass the first checkpoint.
        connection = server.connection()
        statuses = {server.request("POST", "/embed", {"inputs": "hi"}, headers=wrong_scope,
                                   connection=connection)[0]
                    for _ in range(1100)}
        connection.close()
        checks.check("out-of-scope requests refused", statuses == {403}, str(statuses))
        status, _, body = server.request("GET", "/admin/audit?limit=2", headers=admin)
        audit = json.loads(body) if status == 200 else {}
        checks.check("/admin/audit verified with the server's key",
                     audit.get("status") == "verified" and audit.get("verified") is True and
                     audit.get("checkpoints") == 1 and audit.get("public_key"), body[:400])
        checks.check("/admin/audit checked the anchor",
                     audit.get("anchor") == {"checkpoints": 1, "last_seq": 1000}, body[:400])
    finally:
        checks.check("server exits 0", server.stop() == 0, server.read_log()[-2000:])

    lines = open(ANCHOR).read().splitlines()
    checks.check("one checkpoint anchored, as a line of the documented form",
                 len(lines) == 1 and lines[0].startswith("modelgate-audit-checkpoint-v1 1000 "),
                 str(lines))
    code, out, err = verify(DB_PATH, "--audit-pub", PUB, "--anchor", ANCHOR)
    checks.check("intact chain verifies with key and anchor",
                 code == 0 and "anchored: 1 checkpoints" in out, out + err)

    # 1. Rewrite from entry 2 on, delete the checkpoints, move the head.
    rewritten = copy_db("rewritten.db")
    rewrite(rewritten, keep=1, last=10**9)
    code, out, err = verify(rewritten)
    checks.check("rewritten chain is consistent (verify without a key passes)", code == 0, out + err)
    code, out, err = verify(rewritten, "--audit-pub", PUB)
    checks.check("rewrite found with the key alone",
                 code == 1 and "audit entry 1000: its signed checkpoint is missing" in err, out + err)
    code, out, err = verify(rewritten, "--audit-pub", PUB, "--anchor", ANCHOR)
    checks.check("rewrite found with key and anchor", code == 1 and "audit entry 1000" in err,
                 out + err)
    code, out, err = verify(rewritten, "--anchor", ANCHOR)
    checks.check("rewrite found with the anchor alone",
                 code == 1 and "does not match the checkpoint in the anchor file" in err, out + err)

    # The dashboard of a server with the key sees it too.
    server = Server(BINARY, "--model", EMBED_MODEL, "--db", "sqlite:" + rewritten,
                    "--log-level", "warn", "--audit-key", KEY)
    try:
        status, _, body = server.request("GET", "/admin/audit?limit=2", headers=admin)
        audit = json.loads(body) if status == 200 else {}
        checks.check("/admin/audit: rewritten chain not verified",
                     audit.get("verified") is False and audit.get("status") == "broken" and
                     (audit.get("first_bad") or {}).get("seq") == 1000, body[:400])
    finally:
        checks.check("second server exits 0", server.stop() == 0, server.read_log()[-2000:])
    # Without a key the server cannot tell, and says so.
    server = Server(BINARY, "--model", EMBED_MODEL, "--db", "sqlite:" + rewritten,
                    "--log-level", "warn")
    try:
        status, _, body = server.request("GET", "/admin/audit?limit=2", headers=admin)
        audit = json.loads(body) if status == 200 else {}
        checks.check("/admin/audit without a key: unsigned, not verified",
                     audit.get("verified") is False and audit.get("status") == "unsigned" and
                     audit.get("public_key") is None, body[:400])
    finally:
        checks.check("third server exits 0", server.stop() == 0, server.read_log()[-2000:])

    # 2. Cut back to entry 900: entries, checkpoint and head, nothing else.
    truncated = copy_db("truncated.db")
    rewrite(truncated, keep=10**9, last=900)
    code, out, err = verify(truncated, "--audit-pub", PUB)
    checks.check("cut back before the checkpoint: the key alone cannot tell", code == 0, out + err)
    code, out, err = verify(truncated, "--audit-pub", PUB, "--anchor", ANCHOR)
    checks.check("cut back found with the anchor",
                 code == 1 and "audit entry 1000: missing (the chain was cut back to entry 900)"
                 in err, out + err)

    # 3. A missing checkpoint in an otherwise untouched chain.
    unsigned = copy_db("unsigned.db")
    db = sqlite3.connect(unsigned)
    db.execute("DELETE FROM audit_checkpoints")
    db.commit()
    db.close()
    code, out, err = verify(unsigned, "--audit-pub", PUB)
    checks.check("deleted checkpoint found with the key",
                 code == 1 and "audit entry 1000: its signed checkpoint is missing" in err, out + err)

    # A garbled anchor is an error naming the line, not a pass.
    with open(os.path.join(WORK, "bad.anchor"), "w") as bad:
        bad.write(open(ANCHOR).read() + "not a checkpoint\n")
    code, out, err = verify(DB_PATH, "--audit-pub", PUB, "--anchor", os.path.join(WORK, "bad.anchor"))
    checks.check("garbled anchor refused", code != 0 and "line 2" in err, out + err)

    # A writer without the key on a signed chain is warned.
    code, out, err = cli("keys", "create", "--db", DB, "--name", "late")
    checks.check("keys create without --audit-key on a signed chain warns",
                 code == 0 and "signed checkpoints but no --audit-key" in err, err)
finally:
    shutil.rmtree(WORK, ignore_errors=True)
sys.exit(checks.finish())
