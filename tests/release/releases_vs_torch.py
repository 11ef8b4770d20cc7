#!/usr/bin/python3
"""Released models against an independent Hugging Face-style reader in PyTorch.

Makes a tiny sequence classifier, releases it open, closed and hybrid with
modelgate, then reads the OPEN release (and the hybrid's open base) the way a
Hugging Face loader does — config.json and model.safetensors parsed here, BERT
computed here in float64 (tests/model/bert_vs_torch.py's reference forward) —
and checks that modelgate's outputs from the open folder, the closed bundle,
the hybrid pair and a fingerprinted open release match it within float
tolerance.

usage: /usr/bin/python3 tests/release/releases_vs_torch.py MODELGATE WORK_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "model"))
import torch  # noqa: E402
from bert_vs_torch import reference_forward  # noqa: E402

FIXTURE = os.path.join(ROOT, "tests/data/fixtures/tiny-bert-model-safetensors")
TEXTS = ["the quick brown fox", "refund my order please", "Héllo wörld!", "a"]
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def read_safetensors(path):
    """The tensors of a safetensors file, as float64, without the "bert." prefix."""
    blob = open(path, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        raw = bytearray(blob[8 + n + begin:8 + n + end])
        t = torch.frombuffer(raw, dtype=DTYPES[meta["dtype"]]).reshape(meta["shape"])
        out[name[5:] if name.startswith("bert.") else name] = t.to(torch.float64)
    return out


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed:\n{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def max_rel(got, want):
    got = torch.tensor(got, dtype=torch.float64)
    return float((got - want).abs().max()) / max(float(want.abs().max()), 1e-6)


def main():
    mg, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    p = lambda name: os.path.join(work, name)  # noqa: E731
    subprocess.run([sys.executable, os.path.join(ROOT, "tests/cli/make_classifier.py"), FIXTURE,
                    p("cls")], check=True)
    for args in (["keygen", "--out", p("vendor")], ["keygen", "--out", p("deploy"), "--type", "deploy"]):
        subprocess.run([mg] + args, check=True, capture_output=True)
    sign = ["--sign", p("vendor.key")]
    subprocess.run([mg, "release", "open", "--model", p("cls"), "--out", p("open"), "--license", "MIT"]
                   + sign, check=True, capture_output=True)
    subprocess.run([mg, "release", "open", "--model", p("cls"), "--out", p("fp"), "--license", "MIT",
                    "--fingerprint", "Acme Bank"] + sign, check=True, capture_output=True)
    subprocess.run([mg, "release", "closed", "--model", p("cls"), "--out", p("c.mgb"), "--to",
                    p("deploy.pub")] + sign, check=True, capture_output=True)
    subprocess.run([mg, "release", "hybrid", "--model", p("cls"), "--base-out", p("base"),
                    "--head-out", p("head.mgb"), "--to", p("deploy.pub"), "--license", "MIT"] + sign,
                   check=True, capture_output=True)
    with open(p("in.jsonl"), "w") as f:
        for text in TEXTS:
            f.write(json.dumps({"text": text}) + "\n")

    # The reference reads the open release and the hybrid's open base.
    cfg = json.load(open(p("open/config.json")))
    sd = read_safetensors(p("open/model.safetensors"))
    base_cfg = json.load(open(p("base/config.json")))
    base_sd = read_safetensors(p("base/model.safetensors"))
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    assert base_cfg["architectures"] == ["BertModel"] and "classifier.weight" not in base_sd
    encodings = run([mg, "tokenize", "--model", p("open"), "--input", p("in.jsonl")])

    vendor = ["--vendor-pub", p("vendor.pub")]
    key = ["--key", p("deploy.key")]
    inputs = ["--input", p("in.jsonl")]
    outputs = {
        "embed open": run([mg, "embed", "--model", p("open")] + vendor + inputs),
        "embed base": run([mg, "embed", "--model", p("base")] + vendor + inputs),
        "embed closed": run([mg, "embed", "--model", p("c.mgb")] + key + vendor + inputs),
        "embed fingerprinted": run([mg, "embed", "--model", p("fp")] + vendor + inputs),
        "classify fingerprinted": run([mg, "classify", "--model", p("fp")] + vendor + inputs),
        "classify open": run([mg, "classify", "--model", p("open")] + vendor + inputs),
        "classify closed": run([mg, "classify", "--model", p("c.mgb")] + key + vendor + inputs),
        "classify hybrid": run([mg, "classify", "--model", p("head.mgb"), "--base", p("base")] + key
                               + vendor + inputs),
    }
    failures, checks = 0, 0
    for name, got in outputs.items():
        worst = 0.0
        weights, config = (base_sd, base_cfg) if name == "embed base" else (sd, cfg)
        for index, enc in enumerate(encodings):
            hidden = reference_forward(weights, config, enc["ids"], enc["type_ids"])
            if name.startswith("embed"):
                want = hidden.mean(0)  # 1_Pooling: mean pooling
                values = got[index]["embedding"]
            else:
                pooled = torch.tanh(hidden[0] @ sd["pooler.dense.weight"].T + sd["pooler.dense.bias"])
                want = torch.softmax(pooled @ sd["classifier.weight"].T + sd["classifier.bias"], -1)
                values = [got[index]["scores"][label] for label in labels]
            err = max_rel(values, want)
            worst = max(worst, err)
            checks += 1
            if not err <= 1e-4:
                failures += 1
                print(f"FAIL {name} text {index}: relative error {err:.2e}")
        print(f"{name}: {len(encodings)} texts, max relative error {worst:.2e}")
    for a, b in (("embed open", "embed closed"), ("classify open", "classify closed"),
                 ("classify open", "classify hybrid"), ("embed open", "embed base")):
        checks += 1
        if outputs[a] != outputs[b]:
            failures += 1
            print(f"FAIL {a} and {b} differ")
    print(f"{checks - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
