#!/usr/bin/python3
"""`modelgate train --base` on tiny DistilBERT, RoBERTa and ModernBERT
folders, full fine-tuning and LoRA (ModernBERT's on its fused Wqkv), and
`--init distilbert-tiny` / `--init roberta-tiny` / `--init modernbert-tiny`
from scratch.

For each: training exits 0 and the training loss of the last epoch is below
the first's; the output folder's config.json names the family's model_type
and sequence-classifier architecture, its tensors carry the family's Hugging
Face names, and `modelgate classify` reads the folder back and labels the
held-out texts with the learnt rule (accuracy >= 0.9 on an easy task).
For the ModernBERT LoRA folder, the scores `classify` prints are also
compared with the float64 reference of tests/model/modernbert_vs_torch.py
run on the base's weights with the adapter merged by hand (W + alpha/r B A,
the head from the adapter): within 1e-4.

usage: /usr/bin/python3 tests/train/families_finetune_test.py MODELGATE WORK_DIR
"""
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "model"))
import families_vs_torch as fam  # noqa: E402
import modernbert_vs_torch as mb  # noqa: E402
from grad_vs_torch import read_safetensors  # noqa: E402

WORDS = {"billing": "refund charged money invoice payment billing".split(),
         "bug": "crash error broken freezes bug fails".split()}
FILLER = "the my a this it today again please".split()


def make_data(path, count, seed):
    rng = random.Random(seed)
    rows = []
    with open(path, "w") as f:
        for i in range(count):
            label = rng.choice(sorted(WORDS))
            words = [rng.choice(WORDS[label]) if rng.random() < 0.5 else rng.choice(FILLER) for _ in range(6)]
            words[rng.randrange(6)] = rng.choice(WORDS[label])
            rows.append((" ".join(words), label))
            f.write(json.dumps({"id": f"r{i}", "text": rows[-1][0], "label": label}) + "\n")
    return rows


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed:\n{result.stderr}")
    return result.stdout


def modernbert_lora_vs_reference(mg, folder, test, got):
    """Largest |score - reference| over the rows: the base's weights with the
    adapter merged by hand, through modernbert_vs_torch's float64 forward."""
    import torch
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(folder, "adapter_config.json")) as f:
        adapter_cfg = json.load(f)
    scale = adapter_cfg["lora_alpha"] / adapter_cfg["r"]
    sd = {k: v.double() for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    adapter = {k[len("base_model.model."):]: v.double()
               for k, v in read_safetensors(os.path.join(folder, "adapter_model.safetensors")).items()}
    for key, value in adapter.items():
        if key.endswith(".lora_A.weight"):
            module = key[:-len(".lora_A.weight")]
            sd[module + ".weight"] = sd[module + ".weight"] + scale * adapter[module + ".lora_B.weight"] @ value
        elif not key.endswith(".lora_B.weight"):
            sd[key] = value
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    worst = 0.0
    encodings = [json.loads(line) for line in run([mg, "tokenize", "--model", folder, "--input", test]).splitlines()]
    for encoding, answer in zip(encodings, got):
        ids = encoding["ids"]
        probs = torch.softmax(mb.modernbert_logits(sd, cfg, mb.modernbert_forward(sd, cfg, ids)), -1)
        for i, label in enumerate(labels):
            worst = max(worst, abs(answer["scores"][label] - float(probs[i])))
    return worst


def release_answers(mg, folder, test, work):
    """classify's answers from an open, a closed and a hybrid release of `folder`."""
    rel = os.path.join(work, "releases")
    shutil.rmtree(rel, ignore_errors=True)
    os.makedirs(rel)
    vendor, deploy = os.path.join(rel, "vendor"), os.path.join(rel, "deploy")
    run([mg, "keygen", "--out", vendor])
    run([mg, "keygen", "--out", deploy, "--type", "deploy"])
    seal = ["--sign", vendor + ".key", "--to", deploy + ".pub"]
    run([mg, "release", "open", "--model", folder, "--out", os.path.join(rel, "open"), "--license", "MIT",
         "--sign", vendor + ".key"])
    run([mg, "release", "closed", "--model", folder, "--out", os.path.join(rel, "closed.mgb"), *seal])
    run([mg, "release", "hybrid", "--model", folder, "--base-out", os.path.join(rel, "base"), "--head-out",
         os.path.join(rel, "head.mgb"), "--license", "MIT", *seal])
    sources = {"open": [os.path.join(rel, "open")],
               "closed": [os.path.join(rel, "closed.mgb"), "--key", deploy + ".key"],
               "hybrid": [os.path.join(rel, "head.mgb"), "--key", deploy + ".key", "--base", os.path.join(rel, "base")]}
    return {mode: [json.loads(line) for line in run([mg, "classify", "--model", *source, "--input", test]).splitlines()]
            for mode, source in sources.items()}


def main():
    mg, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    train = os.path.join(work, "train.jsonl")
    test = os.path.join(work, "test.jsonl")
    make_data(train, 160, 1)
    test_rows = make_data(test, 40, 2)
    shape = dict(layers=2, hidden=32, heads=4, inter=64, max_pos=128)
    bases = {}
    for family, model_type in (("distilbert", "distilbert"), ("roberta", "roberta")):
        folder, _, _ = fam.build_case(work, f"{family}-base", family, model_type, shape, "safetensors", "F32",
                                      dict(classifier=False, pooling="mean"), 3)
        bases[family] = folder
    # A ModernBERT base with sliding-window layers narrower than the texts.
    bases["modernbert"], _, _ = mb.build_case(
        work, "modernbert-base", dict(layers=3, hidden=32, heads=4, inter=48, every=3, window=4, max_pos=512),
        "safetensors", "F32", dict(classifier=False, pooling="mean"), 3)
    failures = 0

    def check(name, ok, detail=""):
        nonlocal failures
        if not ok:
            failures += 1
        print(f"{'ok' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")

    common = ["--train", train, "--epochs", "4", "--batch-size", "8", "--max-length", "32", "--threads", "2",
              "--eval-fraction", "0"]
    runs = [
        ("distilbert full", "distilbert", ["--base", bases["distilbert"], "--lr", "2e-3"]),
        ("distilbert lora", "distilbert", ["--base", bases["distilbert"], "--lr", "1e-2", "--lora-rank", "4"]),
        ("roberta full", "roberta", ["--base", bases["roberta"], "--lr", "2e-3"]),
        ("roberta lora", "roberta", ["--base", bases["roberta"], "--lr", "1e-2", "--lora-rank", "4"]),
        ("distilbert-tiny from scratch", "distilbert",
         ["--init", "distilbert-tiny", "--vocab", fam.WORDPIECE, "--lr", "1e-3"]),
        ("roberta-tiny from scratch", "roberta", ["--init", "roberta-tiny", "--vocab", fam.BPE_DIR, "--lr", "1e-3"]),
        ("modernbert full", "modernbert", ["--base", bases["modernbert"], "--lr", "2e-3"]),
        ("modernbert lora", "modernbert", ["--base", bases["modernbert"], "--lr", "1e-2", "--lora-rank", "4"]),
        ("modernbert-tiny from scratch", "modernbert",
         ["--init", "modernbert-tiny", "--vocab", mb.VOCAB_DIR, "--lr", "1e-3"]),
    ]
    for name, family, args in runs:
        out = os.path.join(work, name.replace(" ", "-"))
        lines = [json.loads(line) for line in run([mg, "train", *common, *args, "--out", out]).splitlines()
                 if line.startswith("{")]
        losses = [line["train_loss"] for line in lines if "train_loss" in line]
        check(f"{name}: loss falls", len(losses) == 4 and losses[-1] < losses[0], f"{losses}")
        with open(os.path.join(out, "config.json")) as f:
            cfg = json.load(f)
        arch = {"distilbert": "DistilBertForSequenceClassification",
                "roberta": "RobertaForSequenceClassification",
                "modernbert": "ModernBertForSequenceClassification"}[family]
        check(f"{name}: config names {family}", cfg.get("model_type") == family and cfg.get("architectures") == [arch],
              f"{cfg.get('model_type')} {cfg.get('architectures')}")
        if "lora" in name:
            tensors = read_safetensors(os.path.join(out, "adapter_model.safetensors"))
            with open(os.path.join(out, "adapter_config.json")) as f:
                adapter = json.load(f)
            want = {"distilbert": ["q_lin", "v_lin"], "roberta": ["query", "value"],
                    "modernbert": ["Wqkv"]}[family]
            check(f"{name}: adapter targets {want}", adapter["target_modules"] == want, f"{adapter['target_modules']}")
        else:
            tensors = read_safetensors(os.path.join(out, "model.safetensors"))
        head = {"distilbert": "pre_classifier.weight", "roberta": "classifier.out_proj.weight",
                "modernbert": "head.dense.weight"}[family]
        stem = "model." if family == "modernbert" else family + "."
        prefix = "base_model.model." if "lora" in name else ""
        check(f"{name}: Hugging Face names", prefix + head in tensors and any(
            k.startswith(prefix + stem) for k in tensors), f"{sorted(tensors)[:4]}")
        got = [json.loads(line) for line in run([mg, "classify", "--model", out, "--input", test]).splitlines()]
        accuracy = sum(g["label"] == want for g, (_, want) in zip(got, test_rows)) / len(test_rows)
        check(f"{name}: classify reads it back (accuracy {accuracy:.2f} >= 0.9)", accuracy >= 0.9)
        if name == "modernbert lora":
            worst = modernbert_lora_vs_reference(mg, out, test, got)
            check(f"{name}: scores match the merged reference (worst {worst:.1e} <= 1e-4)", worst <= 1e-4)
            for mode, answer in release_answers(mg, out, test, work).items():
                check(f"{name}: {mode} release classifies as the folder does", answer == got)
    print("all passed" if failures == 0 else f"{failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
