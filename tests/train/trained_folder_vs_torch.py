#!/usr/bin/python3
"""A folder written by `modelgate train` read by a PyTorch reference loader.

Trains a tiny classifier with `modelgate train` (from scratch, two labels,
one epoch), then loads the output folder the way Hugging Face's
BertForSequenceClassification.from_pretrained would: config.json (shape,
id2label, problem_type) and model.safetensors under HF tensor names, runs the
reference forward pass of tests/train/grad_vs_torch.py in float64 on the ids
`modelgate tokenize` gives, and compares the softmax scores with
`modelgate classify` (|difference| <= 1e-4).

usage: /usr/bin/python3 tests/train/trained_folder_vs_torch.py MODELGATE WORK_DIR
"""
import json
import os
import shutil
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grad_vs_torch import forward, read_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEXTS = ["please refund the double charge", "the app crashes on start", "thanks, great support",
         "Refund?", "crash crash crash and then an error while paying the invoice"]


def main():
    mg, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = os.path.join(work, "train.jsonl")
    with open(data, "w") as f:
        for i in range(64):
            label = "billing" if i % 2 else "bug"
            words = "refund charge invoice" if i % 2 else "crash error broken"
            f.write(json.dumps({"text": f"{words} number {i}", "label": label}) + "\n")
    out = os.path.join(work, "model")
    subprocess.run([mg, "train", "--train", data, "--init", "tiny", "--vocab",
                    os.path.join(ROOT, "tests/data/vocab/bert-base-uncased/vocab.txt"), "--out", out,
                    "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--threads", "2"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["architectures"] == ["BertForSequenceClassification"], cfg["architectures"]
    assert cfg["problem_type"] == "single_label_classification"
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    assert {cfg["label2id"][name]: name for name in labels} == dict(enumerate(labels))
    sd = read_safetensors(os.path.join(out, "model.safetensors"))
    inputs = os.path.join(work, "inputs.txt")
    with open(inputs, "w") as f:
        f.write("\n".join(TEXTS) + "\n")
    tokens = subprocess.run([mg, "tokenize", "--model", out, "--input", inputs], check=True,
                            capture_output=True, text=True).stdout.splitlines()
    classified = subprocess.run([mg, "classify", "--model", out, "--input", inputs], check=True,
                                capture_output=True, text=True).stdout.splitlines()
    worst = 0.0
    for line, got_line in zip(tokens, classified, strict=True):
        enc = json.loads(line)
        ids = torch.tensor([enc["ids"]])
        types = torch.tensor([enc["type_ids"]])
        logits = forward(sd, cfg, ids, types, torch.ones_like(ids))
        want = torch.softmax(logits[0], -1)
        got = json.loads(got_line)["scores"]
        for i, name in enumerate(labels):
            worst = max(worst, abs(got[name] - want[i].item()))
    print(f"{len(TEXTS)} texts, labels {labels}, worst score difference {worst:.2e}")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main()
