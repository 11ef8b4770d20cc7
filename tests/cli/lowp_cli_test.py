#!/usr/bin/env python3
"""--dtype end to end on the tiny fixtures: `embed` and `classify` in int8 and
bf16 stay close to f32, `eval --compare` reports both runs side by side,
`serve --dtype int8` answers /predict, releases validated in int8 or bf16
store their weights in it (smaller, and classifying exactly as the folder
does in that precision), and a bad --dtype is one clear error.

usage: lowp_cli_test.py MODELGATE_BINARY"""
import json
import math
import os
import random
import struct
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


def read_safetensors(path):
    """{name: (dtype, shape, values)} of a safetensors file (values for F32, BF16, I8)."""
    with open(path, "rb") as f:
        data = f.read()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        begin, end = t["data_offsets"]
        raw = body[begin:end]
        if t["dtype"] == "F32":
            values = list(struct.unpack("<%df" % (len(raw) // 4), raw))
        elif t["dtype"] == "BF16":
            values = [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
        elif t["dtype"] == "I8":
            values = list(struct.unpack("<%db" % len(raw), raw))
        else:
            values = raw
        out[name] = (t["dtype"], t["shape"], values)
    return out


def is_linear(name):
    """A linear layer's weight inside an encoder layer (BERT names)."""
    return ".layer." in name and name.endswith(".weight") and (
        ".attention.self." in name or name.endswith(("attention.output.dense.weight",
                                                    "intermediate.dense.weight",
                                                    "output.dense.weight")))


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

# Quantise-then-validate releases: the comparison is signed into every mode,
# verify and /info show it, and the release runs in its precision by default.
VENDOR, DEPLOY = os.path.join(TMP, "vendor"), os.path.join(TMP, "deploy")
run("keygen", "--out", VENDOR)
run("keygen", "--out", DEPLOY, "--type", "deploy")
OPEN, BUNDLE = os.path.join(TMP, "rel-int8"), os.path.join(TMP, "int8.mgb")
HEAD, BASE = os.path.join(TMP, "head-int8.mgb"), os.path.join(TMP, "base-int8")
signing = ["--sign", VENDOR + ".key"]
result = run("release", "open", "--model", CLASSIFIER, "--out", OPEN, "--license", "MIT",
             "--dtype", "int8", "--validate", labelled, *signing)
check("release open --dtype int8 --validate", result.returncode == 0, result.stderr)
check("release open prints the comparison", "agreement" in result.stderr, result.stderr)
release_err = result.stderr
report = {}
if os.path.exists(os.path.join(OPEN, "precision.json")):
    with open(os.path.join(OPEN, "precision.json")) as f:
        report = json.load(f)
comparison = report.get("validation", {}).get("comparison", {})
check("precision.json holds the eval --compare report",
      report.get("format") == "modelgate-precision" and report.get("dtype") == "int8"
      and report["validation"]["examples"] == len(TEXTS)
      and comparison.get("dtype") == "int8" and comparison.get("compare") == "f32"
      and comparison.get("f32", {}).get("accuracy") == 1.0 and "agreement" in comparison, report)
with open(os.path.join(OPEN, "manifest.json")) as f:
    check("the manifest signs precision.json",
          any(e["path"] == "precision.json" for e in json.load(f)["files"]))
result = run("verify", OPEN, "--pub", VENDOR + ".pub")
check("verify shows the validated precision", result.returncode == 0
      and "precision: int8, validated on labelled.jsonl (40 examples)" in result.stdout,
      result.stdout + result.stderr)
# classify on the release runs in int8 unless --dtype says otherwise.
result = run("classify", "--model", OPEN, "--input", INPUT, "--vendor-pub", VENDOR + ".pub")
check("the open release classifies in int8 by default", result.returncode == 0
      and lines(result) == scores["int8"], result.stderr)
# The release stores its linear layers as int8 codes with one scale per row,
# the word embeddings as bf16, the rest as it was: checked here by reading the
# files with a safetensors reader of this test's own and quantising the F32
# weights independently.
orig, stored = read_safetensors(os.path.join(CLASSIFIER, "model.safetensors")), \
    read_safetensors(os.path.join(OPEN, "model.safetensors"))
linear = [n for n in orig if is_linear(n)]
check("the model has linear layers to quantise", len(linear) >= 6, sorted(orig))
check("linear weights are stored as I8 with F32 scales",
      all(stored[n][0] == "I8" and stored[n + "_scale"][0] == "F32" for n in linear),
      {n: stored.get(n, ("?",))[0] for n in linear})
emb = [n for n in orig if n.endswith("word_embeddings.weight")]
check("the word embeddings are stored as BF16", len(emb) == 1 and stored[emb[0]][0] == "BF16")
check("every other tensor is kept as it was",
      all(stored[n] == orig[n] for n in orig if n not in linear and n not in emb))
worst = 0.0
for n in linear:
    w, (_, shape, q), (_, _, scale) = orig[n][2], stored[n], stored[n + "_scale"]
    cols = shape[1]
    for r in range(shape[0]):
        row = w[r * cols:(r + 1) * cols]
        want = max(abs(x) for x in row) / 127.0 or 1.0
        worst = max(worst, abs(scale[r] - want) / want)
        for c in range(cols):
            if abs(row[c] - q[r * cols + c] * scale[r]) > scale[r] * 0.5 * (1 + 1e-5):
                worst = float("inf")
check("scales are max|row|/127 and codes round to nearest", worst < 1e-6, worst)
ratio = os.path.getsize(os.path.join(OPEN, "model.safetensors")) / \
    os.path.getsize(os.path.join(CLASSIFIER, "model.safetensors"))
check("the int8 release's weights are smaller (%.2fx of f32)" % ratio, ratio < 0.6, ratio)
check("release open notes the stored size", "stored the weights in int8" in release_err,
      release_err)
# Loaded in F32, the release runs the dequantised weights: f32's labels, scores
# within int8's tolerance, and not f32's exact numbers.
result = run("classify", "--model", OPEN, "--input", INPUT, "--vendor-pub", VENDOR + ".pub",
             "--dtype", "f32")
f32_on_int8 = lines(result) if result.returncode == 0 else []
check("--dtype f32 overrides the release's precision", result.returncode == 0
      and len(f32_on_int8) == len(TEXTS)
      and all(a["label"] == b["label"] and abs(a["score"] - b["score"]) < 0.03
              for a, b in zip(f32_on_int8, scores["f32"])), result.stderr)
# The weight-space fingerprint lives in the F32 weights that int8 leaves (position
# embeddings, norms, biases, scales); this micro model has too few of them, and
# says so instead of releasing an unmarked copy.
FP = os.path.join(TMP, "fp-int8")
result = run("release", "open", "--model", CLASSIFIER, "--out", FP, "--license", "MIT",
             "--dtype", "int8", "--validate", labelled, "--fingerprint", "Acme Bank", *signing)
check("a fingerprint without room in the int8 weights is a clear error", result.returncode != 0
      and "stored in int8" in result.stderr and "too few F32 weights" in result.stderr
      and not os.path.exists(FP), result.stderr)
# Tampering with the signed report breaks the release.
with open(os.path.join(OPEN, "precision.json"), "a") as f:
    f.write(" ")
result = run("verify", OPEN, "--pub", VENDOR + ".pub")
check("an edited precision.json fails verify", result.returncode != 0
      and "precision.json" in result.stderr, result.stderr)

result = run("release", "closed", "--model", CLASSIFIER, "--out", BUNDLE, "--to", DEPLOY + ".pub",
             "--dtype", "int8", "--validate", labelled, *signing)
check("release closed --dtype int8 --validate", result.returncode == 0, result.stderr)
result = run("verify", BUNDLE, "--pub", VENDOR + ".pub", "--key", DEPLOY + ".key")
check("verify --key shows the bundle's validated precision", result.returncode == 0
      and "precision: int8, validated on" in result.stdout, result.stdout + result.stderr)
F32_BUNDLE = os.path.join(TMP, "f32.mgb")
result = run("release", "closed", "--model", CLASSIFIER, "--out", F32_BUNDLE,
             "--to", DEPLOY + ".pub", *signing)
ratio = os.path.getsize(BUNDLE) / os.path.getsize(F32_BUNDLE) if result.returncode == 0 else 1
check("the int8 bundle is smaller than the f32 one (%.2fx)" % ratio, ratio < 0.6, ratio)
server = Server(MG, "--model", BUNDLE, "--key", DEPLOY + ".key", "--vendor-pub", VENDOR + ".pub")
status, _, body = server.request("GET", "/info")
info = json.loads(body) if status == 200 else {}
check("/info shows the precision and its report", info.get("model_dtype") == "int8"
      and info.get("precision_report", {}).get("dtype") == "int8"
      and info["precision_report"]["comparison"].get("agreement") == comparison.get("agreement"),
      info)
status, _, reply = server.post("/predict", {"inputs": TEXTS[0]})
check("the closed int8 release answers like classify --dtype int8", status == 200
      and reply[0]["label"] == scores["int8"][0]["label"]
      and abs(reply[0]["score"] - scores["int8"][0]["score"]) < 1e-4, reply)
check("serve stops cleanly", server.stop() == 0)

result = run("release", "hybrid", "--model", CLASSIFIER, "--base-out", BASE, "--head-out", HEAD,
             "--to", DEPLOY + ".pub", "--license", "MIT", "--dtype", "bf16", "--validate", labelled,
             *signing)
check("release hybrid --dtype bf16 --validate", result.returncode == 0, result.stderr)
result = run("classify", "--model", HEAD, "--base", BASE, "--key", DEPLOY + ".key",
             "--vendor-pub", VENDOR + ".pub", "--input", INPUT)
check("the hybrid release classifies in bf16 by default", result.returncode == 0
      and lines(result) == scores["bf16"], result.stderr)
base = read_safetensors(os.path.join(BASE, "model.safetensors"))
check("the bf16 hybrid's open base stores its linear layers as BF16",
      all(base[n][0] == "BF16" for n in linear if n in base) and any(n in base for n in linear),
      {n: base.get(n, ("?",))[0] for n in linear})

# The gate: too much accuracy lost, or --dtype without --validate, releases nothing.
# The labels are f32's predictions: int8 loses exactly its disagreements.
disagree = sum(a["label"] != b["label"] for a, b in zip(scores["f32"], scores["int8"]))
result = run("release", "closed", "--model", CLASSIFIER, "--out", os.path.join(TMP, "strict.mgb"),
             "--to", DEPLOY + ".pub", "--dtype", "int8", "--validate", labelled,
             "--max-accuracy-drop", "0", *signing)
if disagree:
    check("a release that loses accuracy is refused", result.returncode != 0
          and "points of accuracy" in result.stderr
          and not os.path.exists(os.path.join(TMP, "strict.mgb")), result.stderr)
else:
    check("no accuracy lost, so --max-accuracy-drop 0 releases", result.returncode == 0,
          result.stderr)
result = run("release", "open", "--model", EMBED_MODEL, "--out", os.path.join(TMP, "cos"),
             "--license", "MIT", "--dtype", "int8", "--validate", INPUT, "--min-cosine", "1",
             *signing)
check("embeddings below --min-cosine are refused", result.returncode != 0
      and "cosine" in result.stderr and not os.path.exists(os.path.join(TMP, "cos")),
      result.stderr)
result = run("release", "open", "--model", CLASSIFIER, "--out", os.path.join(TMP, "nov"),
             "--license", "MIT", "--dtype", "int8", *signing)
check("--dtype without --validate is refused", result.returncode != 0
      and "--validate" in result.stderr, result.stderr)

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
