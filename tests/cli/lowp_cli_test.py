#!/usr/bin/env python3
"""--dtype end to end on the tiny fixtures: `embed` and `classify` in int8 and
bf16 stay close to f32, `eval --compare` reports both runs side by side,
`serve --dtype int8` answers /predict, and a bad --dtype is one clear error.

usage: lowp_cli_test.py MODELGATE_BINARY"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "serve"))
from serve_harness import EMBED_MODEL, ROOT, Checks, Server  # noqa: E402

MG = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="mg-lowp-")
checks = Checks()
check = checks.check

rng = random.Random(3)
TEXTS = [" ".join("t%d" % rng.randrange(5, 250) for _ in range(rng.randrange(1, 40)))
         for _ in range(40)]
INPUT = os.path.join(TMP, "in.jsonl")
with open(INPUT, "w") as f:
    for t in TEXTS:
        f.write(json.dumps({"text": t}) + "\n")


def run(*args):
    return subprocess.run([MG, *args], capture_output=True, text=True)


def lines(result):
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


# embed: every dtype runs; low precision stays near f32.
embeddings = {}
for dtype in ("f32", "bf16", "int8"):
    result = run("embed", "--model", EMBED_MODEL, "--input", INPUT, "--dtype", dtype)
    check("embed --dtype " + dtype, result.returncode == 0, result.stderr)
    embeddings[dtype] = [r["embedding"] for r in lines(result)]
for dtype, threshold in (("bf16", 0.999), ("int8", 0.99)):
    cos = [cosine(a, b) for a, b in zip(embeddings[dtype], embeddings["f32"])]
    check("embed %s has one row per text" % dtype, len(cos) == len(TEXTS))
    check("embed %s cosine to f32 >= %g" % (dtype, threshold), min(cos) >= threshold, min(cos))
    check("embed %s is not f32" % dtype,
          any(abs(x - y) > 1e-6 for a, b in zip(embeddings[dtype], embeddings["f32"])
              for x, y in zip(a, b)))

# classify: the scores move only a little.
CLASSIFIER = os.path.join(TMP, "classifier")
subprocess.run([sys.executable, os.path.join(ROOT, "tests", "cli", "make_classifier.py"),
                EMBED_MODEL, CLASSIFIER], check=True)
scores = {}
for dtype in ("f32", "bf16", "int8"):
    result = run("classify", "--model", CLASSIFIER, "--input", INPUT, "--dtype", dtype)
    check("classify --dtype " + dtype, result.returncode == 0, result.stderr)
    scores[dtype] = lines(result)
for dtype, tolerance in (("bf16", 0.01), ("int8", 0.03)):
    worst = max(abs(a["score"] - b["score"]) if a["label"] == b["label"] else 1.0
                for a, b in zip(scores[dtype], scores["f32"]))
    check("classify %s scores near f32" % dtype, len(scores[dtype]) == len(TEXTS)
          and worst < tolerance, worst)

# eval --compare: both runs' metrics, agreement, accuracy delta, cosine.
labelled = os.path.join(TMP, "labelled.jsonl")
with open(labelled, "w") as f:
    for t, row in zip(TEXTS, scores["f32"]):
        f.write(json.dumps({"text": t, "label": row["label"]}) + "\n")
for dtype in ("int8", "bf16"):
    result = run("eval", "--model", CLASSIFIER, "--data", labelled, "--dtype", dtype,
                 "--compare", "f32", "--embeddings")
    check("eval --dtype %s --compare f32" % dtype, result.returncode == 0, result.stderr)
    report = json.loads(result.stdout) if result.returncode == 0 else {}
    check("eval --compare fields (%s)" % dtype,
          report.get("dtype") == dtype and report.get("compare") == "f32"
          and report.get("examples") == len(TEXTS)
          and {"accuracy", "macro_f1"} <= set(report.get(dtype, {}))
          and {"accuracy", "macro_f1"} <= set(report.get("f32", {}))
          and "agreement" in report and "accuracy_delta" in report
          and {"mean", "min"} <= set(report.get("cosine", {})), report)
    if report:
        # The labels are f32's own predictions: f32 is exact, agreement is dtype's accuracy.
        check("eval --compare numbers (%s)" % dtype,
              report["f32"]["accuracy"] == 1.0
              and abs(report["agreement"] - report[dtype]["accuracy"]) < 1e-9
              and abs(report["accuracy_delta"] - (report[dtype]["accuracy"] - 1.0)) < 1e-9
              and 0.99 <= report["cosine"]["min"] <= report["cosine"]["mean"] <= 1.0 + 1e-6,
              report)
result = run("eval", "--model", EMBED_MODEL, "--data", INPUT, "--dtype", "int8",
             "--compare", "f32")
report = json.loads(result.stdout) if result.returncode == 0 else {}
check("eval --compare on an embedding model gives the cosine",
      "cosine" in report and "agreement" not in report and report["cosine"]["min"] >= 0.99,
      result.stderr + result.stdout)

# serve --dtype int8 answers /predict like classify --dtype int8.
server = Server(MG, "--model", CLASSIFIER, "--dtype", "int8")
status, _, reply = server.post("/predict", {"inputs": TEXTS[0]})
check("serve --dtype int8 /predict", status == 200 and isinstance(reply, list)
      and reply[0]["label"] == scores["int8"][0]["label"]
      and abs(reply[0]["score"] - scores["int8"][0]["score"]) < 1e-4, reply)
check("serve --dtype int8 stops cleanly", server.stop() == 0)

# A bad --dtype is one clear error line, on every command that takes it.
for command in (["embed", "--model", EMBED_MODEL, "--input", INPUT],
                ["classify", "--model", CLASSIFIER, "--input", INPUT],
                ["eval", "--model", CLASSIFIER, "--data", labelled],
                ["bench", "--model", EMBED_MODEL],
                ["serve", "--model", EMBED_MODEL]):
    result = run(*command, "--dtype", "fp16")
    err = result.stderr.strip().splitlines()
    check("bad --dtype on " + command[0], result.returncode != 0 and len(err) >= 1
          and "fp16" in result.stderr and "f32, bf16 or int8" in result.stderr
          and "terminate" not in result.stderr, result.stderr)
result = run("eval", "--model", CLASSIFIER, "--data", labelled, "--compare", "int4")
check("bad --compare", result.returncode != 0 and "int4" in result.stderr, result.stderr)

sys.exit(checks.finish())
