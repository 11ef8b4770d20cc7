#!/usr/bin/python3
"""modelgate's training gradients for DistilBERT, RoBERTa and ModernBERT
classifiers against PyTorch autograd.

The parts of the training net that differ by family: DistilBERT's head
(pre_classifier, ReLU, classifier) and its missing token types; RoBERTa's
positions after the padding id (a padding token inside a sequence included)
and its classification head (dense, tanh, out_proj); ModernBERT's pre-norm
layers (no attn_norm in layer 0), rotary embeddings with two thetas,
sliding-window layers whose windows are shorter than the sequences, GeGLU,
final norm, first-token or mean pooling and its head (dense, GELU, tanh or
ReLU, norm), with and without biases. For each family the script writes a
random classifier folder with Hugging Face names (from
tests/model/families_vs_torch.py and modernbert_vs_torch.py), runs
`train_step_dump` (loss and every gradient, dropout off), and differentiates
the float64 reference forward of those scripts with autograd.

Tolerance: each gradient tensor within 2e-3 * its largest reference value
(as tests/train/grad_vs_torch.py); tensors whose true gradient is zero
(attention key biases, unused rows) within 1e-4 of the model's largest
gradient. The loss within 1e-5 relative.

usage: /usr/bin/python3 tests/train/families_grad_vs_torch.py TRAIN_STEP_DUMP WORK_DIR
"""
import json
import os
import shutil
import subprocess
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "model"))
from grad_vs_torch import loss_of, read_safetensors  # noqa: E402
from bert_vs_torch import write_safetensors  # noqa: E402
import families_vs_torch as fam  # noqa: E402
import modernbert_vs_torch as mb  # noqa: E402

CASES = [
    # name, family, shape, labels, problem
    ("distilbert-single", "distilbert", dict(layers=2, hidden=32, heads=4, inter=64, max_pos=64), 3,
     "single_label_classification"),
    ("distilbert-multi", "distilbert", dict(layers=1, hidden=24, heads=2, inter=40, max_pos=32), 4,
     "multi_label_classification"),
    ("roberta-single", "roberta", dict(layers=2, hidden=32, heads=4, inter=64, max_pos=40), 3,
     "single_label_classification"),
    ("roberta-regression", "roberta", dict(layers=1, hidden=16, heads=4, inter=32, max_pos=40), 1,
     "regression"),
    ("modernbert-single-cls-gelu", "modernbert",
     dict(layers=3, hidden=32, heads=4, inter=48, every=2, window=4, max_pos=64), 3,
     "single_label_classification"),
    ("modernbert-multi-mean-tanh-biases", "modernbert",
     dict(layers=4, hidden=24, heads=2, inter=20, every=3, window=6, max_pos=64, bias=True,
          classifier_pooling="mean", classifier_activation="tanh"), 4,
     "multi_label_classification"),
    ("modernbert-regression-relu", "modernbert",
     dict(layers=2, hidden=16, heads=2, inter=24, every=2, window=2, max_pos=64,
          classifier_activation="relu"), 1, "regression"),
]


def modernbert_family():
    """ModernBERT in the shape of families_vs_torch.FAMILIES' entries."""
    def config(shape):
        opts = dict(classifier=True, bias=shape.get("bias", False),
                    classifier_pooling=shape.get("classifier_pooling", "cls"),
                    classifier_activation=shape.get("classifier_activation", "gelu"))
        cfg = mb.modernbert_config(shape, opts)
        cfg["pad_token_id"] = 0
        return cfg
    return dict(config=config,
                state=lambda cfg, seed, classifier, labels: mb.modernbert_state(cfg, seed, classifier, labels),
                forward=lambda params, cfg, ids, types: mb.modernbert_forward(params, cfg, ids),
                logits=lambda params, hidden, cfg: mb.modernbert_logits(params, cfg, hidden))


def main():
    tool, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    failures = 0
    for seed, (name, family, shape, labels, problem) in enumerate(CASES):
        folder = os.path.join(work, name)
        os.makedirs(folder)
        if family == "distilbert":
            cfg = fam.distilbert_config(shape, True)
        elif family == "modernbert":
            cfg = modernbert_family()["config"](shape)
        else:
            cfg = fam.roberta_config(shape, True, "roberta")
        cfg["vocab_size"] = 60
        cfg["id2label"] = {str(i): f"L{i}" for i in range(labels)}
        cfg["problem_type"] = problem
        spec = modernbert_family() if family == "modernbert" else fam.FAMILIES[family]
        sd = spec["state"](cfg, 100 + seed, True, labels)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f)
        write_safetensors(os.path.join(folder, "model.safetensors"), sd, "F32")
        sd = read_safetensors(os.path.join(folder, "model.safetensors"))  # as stored (float32)

        g = torch.Generator().manual_seed(7 + seed)
        lengths = [9, 4, 13, 2]
        pad = cfg["pad_token_id"]
        seqs = []
        for length in lengths:
            ids = torch.randint(3, 60, (length,), generator=g).tolist()
            if family == "roberta" and length > 5:
                ids[3] = pad  # a padding token inside a sequence keeps position pad_token_id
            seqs.append(ids)
        types = [[0] * len(s) for s in seqs]
        if problem == "single_label_classification":
            targets = torch.randint(0, labels, (len(seqs),), generator=g).tolist()
        elif problem == "multi_label_classification":
            targets = torch.randint(0, 2, (len(seqs) * labels,), generator=g).float().tolist()
        else:
            targets = torch.randn(len(seqs), generator=g).tolist()
        with open(os.path.join(folder, "batch.json"), "w") as f:
            json.dump({"ids": seqs, "type_ids": types, "targets": targets, "lr": 1e-3, "weight_decay": 0.0}, f)
        subprocess.run([tool, folder, os.path.join(folder, "batch.json"), folder], check=True)

        params = {k: v.clone().requires_grad_(True) for k, v in sd.items()}
        if family == "modernbert":
            logits = torch.stack([spec["logits"](params, spec["forward"](params, cfg, s, t), cfg)
                                  for s, t in zip(seqs, types)])
        else:
            logits = torch.stack([spec["logits"](params, spec["forward"](params, cfg, s, t))
                                  for s, t in zip(seqs, types)])
        loss = loss_of(logits, targets, problem)
        loss.backward()
        with open(os.path.join(folder, "loss.json")) as f:
            got_loss = json.load(f)[0]
        if abs(got_loss - float(loss)) > 1e-5 * max(1.0, abs(float(loss))):
            failures += 1
            print(f"FAIL {name}: loss {got_loss} vs reference {float(loss)}")
        grads = read_safetensors(os.path.join(folder, "grads.safetensors"))
        missing = set(params) ^ set(grads)
        if missing:
            failures += 1
            print(f"FAIL {name}: tensors differ between the reference and modelgate: {sorted(missing)}")
        overall = max(float(p.grad.abs().max()) for p in params.values())
        worst = 0.0
        for key in sorted(set(params) & set(grads)):
            want = params[key].grad
            scale = float(want.abs().max())
            diff = float((grads[key] - want).abs().max())
            bound = 2e-3 * scale if scale > 1e-4 * overall else 1e-4 * overall
            worst = max(worst, diff / max(scale, 1e-4 * overall))
            if diff > bound:
                failures += 1
                print(f"FAIL {name} {key}: max |diff| {diff:.3e} > {bound:.3e}")
        print(f"{name}: loss {float(loss):.6f}, {len(grads)} gradient tensors, worst relative error {worst:.2e}")
    print("all passed" if failures == 0 else f"{failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
