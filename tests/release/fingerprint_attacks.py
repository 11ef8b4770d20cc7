#!/usr/bin/python3
"""Trigger-set fingerprints against the attacks a leaked copy meets.

Trains a vendor classifier on a synthetic three-topic task, releases it open
three times (plain, fingerprinted for "Acme Bank" and for "Bolt Corp", both
with the vendor's training data as --fingerprint-data and a recipient
registry), then attacks Acme's copy:

  f16, bf16         weights rounded to half precision and stored that way
  int8              per-output-channel symmetric int8 round trip of every matrix
  noise-S           Gaussian noise of S times each tensor's standard deviation
  prune-20          the 20 % smallest-magnitude weights of every matrix set to 0
  average           the element-wise mean of Acme's and Bolt's copies (collusion)
  finetune          `modelgate train --base COPY` one epoch on other data

and reads every attacked copy with `modelgate trace --model --registry`,
scoring the copy's clean accuracy with `modelgate eval`. The plain release and
an independently trained model must name nobody (false positives).

Fails (exit 1) when a fingerprint does not survive an attack that leaves the
model useful (clean accuracy within 10 points of the vendor's), when averaging
names neither colluder, when a model without a fingerprint names anybody, or
when fingerprinting costs more than --max-drop points of clean accuracy.
Weight edits are done here in PyTorch, independently of modelgate.

usage: /usr/bin/python3 tests/release/fingerprint_attacks.py MODELGATE WORK_DIR
       [--size tiny] [--vocab VOCAB.txt | --words 3000] [--rows 600] [--triggers 100] [--epochs 6] [--lr 1e-3]
       [--fp-epochs 5] [--fp-lr 3e-4] [--attack-lr 1e-3] [--max-drop 2] [--threads 2]
"""
import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
NAMES = {v: k for k, v in DTYPES.items()}
TOPICS = {
    "account": "login password username profile locked signin email verify".split(),
    "billing": "refund charged invoice payment billing money receipt card".split(),
    "bug": "crash error broken freezes bug fails glitch exception".split(),
}
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def pool_words(seed, count):
    rng = random.Random(seed)
    words = set()
    while len(words) < count:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
    return sorted(words)


def write_vocab(path, words):
    with open(path, "w") as f:
        for token in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words:
            f.write(token + "\n")


def make_rows(count, seed, noise_words):
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        label = rng.choice(sorted(TOPICS))
        length = rng.randint(6, 14)
        words = [rng.choice(noise_words) for _ in range(length)]
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(length)] = rng.choice(TOPICS[label])
        rows.append({"text": " ".join(words), "label": label})
    return rows


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def read_safetensors(path):
    blob = open(path, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        begin, end = meta["data_offsets"]
        raw = bytearray(blob[8 + n + begin:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=DTYPES[meta["dtype"]]).reshape(meta["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.uint8).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def int8_round_trip(t):
    if t.dim() < 2:
        return t
    scale = t.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127
    return (torch.round(t / scale).clamp(-127, 127) * scale).to(t.dtype)


def prune(t, share):
    if t.dim() < 2:
        return t
    k = int(t.numel() * share)
    if k == 0:
        return t
    threshold = t.abs().flatten().kthvalue(k).values
    return torch.where(t.abs() <= threshold, torch.zeros_like(t), t)


def noise(t, sigma, generator):
    if t.numel() < 2:
        return t
    return t + torch.randn(t.shape, generator=generator) * (sigma * float(t.std()))


class Run:
    def __init__(self, mg, work, threads):
        self.mg, self.work, self.threads = mg, work, threads

    def p(self, name):
        return os.path.join(self.work, name)

    def mg_run(self, args, ok_codes=(0,)):
        result = subprocess.run([self.mg] + args, capture_output=True, text=True)
        if result.returncode not in ok_codes:
            raise SystemExit(f"error: modelgate {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    def trace(self, folder):
        out = self.mg_run(["trace", "--model", folder, "--fingerprint-key", self.p("vendor.key"), "--registry",
                           self.p("recipients.json"), "--json", "--threads", str(self.threads)], ok_codes=(0, 1))
        return json.loads(out)

    def accuracy(self, folder):
        out = self.mg_run(["eval", "--model", folder, "--data", self.p("test.jsonl")])
        return json.loads(out)["accuracy"]

    def edited_copy(self, source, name, edit):
        folder = self.p(name)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(source, folder)
        tensors = read_safetensors(os.path.join(source, "model.safetensors"))
        write_safetensors(os.path.join(folder, "model.safetensors"), {k: edit(k, v) for k, v in tensors.items()})
        return folder


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("modelgate")
    parser.add_argument("work")
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--words", type=int, default=3000)
    parser.add_argument("--vocab", help="a real vocab.txt instead of --words synthetic words")
    parser.add_argument("--triggers", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", default="1e-3")
    parser.add_argument("--fp-epochs", type=int, default=5)
    parser.add_argument("--fp-lr", default="3e-4")
    parser.add_argument("--attack-lr", default="1e-3")
    parser.add_argument("--max-drop", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--report", help="also write the table here (markdown)")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    run = Run(args.modelgate, args.work, args.threads)
    p = run.p
    threads = ["--threads", str(args.threads)]

    topic_words = {w for ws in TOPICS.values() for w in ws}
    if args.vocab:
        shutil.copy(args.vocab, p("vocab.txt"))
        tokens = [line.rstrip("\n") for line in open(args.vocab, encoding="utf-8")]
        noise_words = [t for t in tokens if t.isascii() and t.isalpha() and len(t) >= 2 and t not in topic_words]
    else:
        words = sorted(set(pool_words(1, args.words)) | topic_words)
        noise_words = [w for w in words if w not in topic_words]
        write_vocab(p("vocab.txt"), words)
    write_jsonl(p("train.jsonl"), make_rows(args.rows, 1, noise_words))
    write_jsonl(p("other.jsonl"), make_rows(args.rows // 2, 2, noise_words))
    write_jsonl(p("test.jsonl"), make_rows(max(300, args.rows // 2), 3, noise_words))
    train = ["--epochs", str(args.epochs), "--lr", args.lr, "--max-length", "32", "--eval-fraction", "0"] + threads
    run.mg_run(["train", "--init", args.size, "--vocab", p("vocab.txt"), "--train", p("train.jsonl"),
                "--out", p("vendor"), "--seed", "1"] + train)
    run.mg_run(["train", "--init", args.size, "--vocab", p("vocab.txt"), "--train", p("other.jsonl"),
                "--out", p("independent"), "--seed", "2"] + train)
    run.mg_run(["keygen", "--out", p("vendor")])
    sign = ["--sign", p("vendor.key"), "--license", "MIT", "--model-id", "triage"]
    run.mg_run(["release", "open", "--model", p("vendor"), "--out", p("plain")] + sign)
    for recipient, folder in (("Acme Bank", "acme"), ("Bolt Corp", "bolt")):
        run.mg_run(["release", "open", "--model", p("vendor"), "--out", p(folder), "--fingerprint", recipient,
                    "--fingerprint-data", p("train.jsonl"), "--fingerprint-registry", p("recipients.json"),
                    "--fingerprint-triggers", str(args.triggers), "--fingerprint-epochs", str(args.fp_epochs),
                    "--fingerprint-lr", args.fp_lr] + sign + threads)

    vendor_accuracy = run.accuracy(p("vendor"))
    rows, failures = [], []

    def check(name, folder, expect, useful_required=True):
        trace = run.trace(folder)
        accuracy = run.accuracy(folder)
        named = trace["weight_space"] or trace["trigger_named"]
        by_name = {r["recipient"]: r for r in trace["recipients"]}
        acme = by_name.get("Acme Bank", {})
        bolt = by_name.get("Bolt Corp", {})
        if expect == "nobody":
            ok = named is None
        elif expect == "either":
            ok = named in ("Acme Bank", "Bolt Corp")
        else:
            ok = named == expect
        useful = accuracy >= vendor_accuracy - 0.10
        counted = useful or not useful_required
        rows.append((name, named, trace["weight_space"], acme, bolt, accuracy, ok, counted))
        if not ok and counted:
            failures.append(f"{name}: named {named!r}, expected {expect}")

    acme_tensors = read_safetensors(p("acme/model.safetensors"))
    bolt_tensors = read_safetensors(p("bolt/model.safetensors"))
    check("acme, untouched", p("acme"), "Acme Bank")
    check("bolt, untouched", p("bolt"), "Bolt Corp")
    check("f16", run.edited_copy(p("acme"), "a-f16", lambda k, t: t.to(torch.float16)), "Acme Bank")
    check("bf16", run.edited_copy(p("acme"), "a-bf16", lambda k, t: t.to(torch.bfloat16)), "Acme Bank")
    check("int8", run.edited_copy(p("acme"), "a-int8", lambda k, t: int8_round_trip(t)), "Acme Bank")
    for sigma in (0.01, 0.05, 0.1, 0.2):
        generator = torch.Generator().manual_seed(7)
        check(f"noise {sigma} std", run.edited_copy(p("acme"), f"a-noise{sigma}",
                                                    lambda k, t, s=sigma, g=generator: noise(t, s, g)), "Acme Bank")
    check("prune 20 %", run.edited_copy(p("acme"), "a-prune", lambda k, t: prune(t, 0.2)), "Acme Bank")
    check("average acme+bolt", run.edited_copy(p("acme"), "a-average",
                                               lambda k, t: (acme_tensors[k] + bolt_tensors[k]) / 2), "either")
    run.mg_run(["train", "--base", p("acme"), "--train", p("other.jsonl"), "--out", p("a-finetune"), "--epochs", "1",
                "--lr", args.attack_lr, "--max-length", "32", "--eval-fraction", "0"] + threads)
    check(f"finetune 1 epoch, lr {args.attack_lr}", p("a-finetune"), "Acme Bank")
    check("plain release", p("plain"), "nobody", useful_required=False)
    check("independent model", p("independent"), "nobody", useful_required=False)

    def p_text(r):
        return f"{r['matches']}/{r['total']}, p={r['p_value']:.2g}" if r else "-"

    lines = [f"vendor clean accuracy {vendor_accuracy:.4f} (size {args.size}, {args.triggers} triggers)", "",
             "| copy | named | weight-space | Acme trigger set | Bolt trigger set | clean acc | ok |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, named, exact, acme, bolt, accuracy, ok, counted in rows:
        verdict = "yes" if ok else ("NO" if counted else "no (model broken)")
        lines.append(f"| {name} | {named or 'nobody'} | {exact or '-'} | {p_text(acme)} | {p_text(bolt)} | "
                     f"{accuracy:.4f} | {verdict} |")
    drop = max(vendor_accuracy - rows[0][5], vendor_accuracy - rows[1][5]) * 100
    lines.append(f"\nclean accuracy cost of fingerprinting: {drop:.2f} points (max over the two copies)")
    if drop > args.max_drop:
        failures.append(f"fingerprinting costs {drop:.2f} points of clean accuracy (> {args.max_drop})")
    print("\n".join(lines))
    if args.report:
        with open(args.report, "w") as f:
            f.write("\n".join(lines) + "\n")
    for failure in failures:
        print("FAIL " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
