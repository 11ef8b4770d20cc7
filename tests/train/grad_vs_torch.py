#!/usr/bin/python3
"""modelgate's training step against PyTorch autograd and torch.optim.AdamW.

For small random BERT classifiers (single-label, multi-label, regression, and
a one-label cross-encoder with relevances in [0, 1]) the
script writes an HF folder (config.json + model.safetensors), a fixed batch of
sequences of different lengths, and runs `train_step_dump`, which computes the
loss and every parameter's gradient with dropout off (packed sequences, no
padding) and then takes AdamW steps. The reference is BertForSequenceClassification
written here in PyTorch (float64, padded batch with an attention mask, HF's
loss for each problem type), differentiated by autograd and stepped by
torch.optim.AdamW with the same betas, eps, learning rate and weight decay
(none on biases and LayerNorm weights, as Hugging Face's Trainer groups them),
after torch.nn.utils.clip_grad_norm_ where the case asks.

Tolerances: each gradient tensor within 2e-3 * its largest reference value;
each updated weight within 2 % of the learning rate per step of the reference
(AdamW's first steps move every weight by about lr, so this is tight), except
where the reference gradient is below 1e-4 of the tensor's largest, whose sign
float32 cannot resolve; those must still move by at most lr per step. Tensors
with an exactly zero true gradient (attention key biases) are measured against
1e-4 of the largest gradient of the model (float32 rounding of a sum whose
terms cancel exactly).

usage: /usr/bin/python3 tests/train/grad_vs_torch.py TRAIN_STEP_DUMP WORK_DIR
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

try:
    import torch
except ImportError:
    sys.exit("error: PyTorch is not importable by /usr/bin/python3 (apt-get install python3-torch)")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "model"))
from bert_vs_torch import layer_norm, make_state, write_safetensors  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32).reshape(info["shape"])
        out[name] = t.to(torch.float64)
    return out


def forward(sd, cfg, ids, types, mask):
    h, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    d = h // heads
    batch, length = ids.shape
    x = sd["bert.embeddings.word_embeddings.weight"][ids] \
        + sd["bert.embeddings.position_embeddings.weight"][:length].unsqueeze(0) \
        + sd["bert.embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, sd["bert.embeddings.LayerNorm.weight"], sd["bert.embeddings.LayerNorm.bias"], eps)
    bias = (1.0 - mask[:, None, None, :].to(torch.float64)) * torch.finfo(torch.float64).min
    for i in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."

        def lin(name, v):
            return v @ sd[p + name + ".weight"].T + sd[p + name + ".bias"]

        def split(v):
            return v.view(batch, length, heads, d).transpose(1, 2)

        q, k, v = (split(lin("attention.self." + n, x)) for n in ("query", "key", "value"))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(batch, length, h)
        a = layer_norm(lin("attention.output.dense", ctx) + x, sd[p + "attention.output.LayerNorm.weight"],
                       sd[p + "attention.output.LayerNorm.bias"], eps)
        inter = torch.nn.functional.gelu(lin("intermediate.dense", a))
        x = layer_norm(lin("output.dense", inter) + a, sd[p + "output.LayerNorm.weight"],
                       sd[p + "output.LayerNorm.bias"], eps)
    pooled = torch.tanh(x[:, 0] @ sd["bert.pooler.dense.weight"].T + sd["bert.pooler.dense.bias"])
    return pooled @ sd["classifier.weight"].T + sd["classifier.bias"]


def loss_of(logits, targets, problem):
    if problem == "single_label_classification":
        return torch.nn.functional.cross_entropy(logits, torch.tensor(targets, dtype=torch.long))
    t = torch.tensor(targets, dtype=torch.float64).view_as(logits)
    if problem == "multi_label_classification":
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, t)
    return torch.nn.functional.mse_loss(logits.squeeze(), t.squeeze())


CASES = [
    # name, shape, labels, problem, steps, max_grad_norm
    ("single", dict(layers=2, hidden=32, heads=4, inter=64), 3, "single_label_classification", 1, 0.0),
    ("multi-clipped", dict(layers=2, hidden=24, heads=2, inter=40), 4, "multi_label_classification", 3, 0.5),
    ("regression", dict(layers=1, hidden=16, heads=4, inter=32), 1, "regression", 2, 1.0),
    # A cross-encoder: one logit, binary cross-entropy against graded relevances.
    ("cross-encoder", dict(layers=2, hidden=16, heads=2, inter=32), 1, "multi_label_classification", 2, 1.0),
]


def write_random_classifier(folder, shape, labels, problem, seed):
    """A random BertForSequenceClassification (F32 values held as float64)
    written to `folder` as an HF folder: (config, state dict)."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    cfg = {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": 50,
           "hidden_size": shape["hidden"], "num_hidden_layers": shape["layers"],
           "num_attention_heads": shape["heads"], "intermediate_size": shape["inter"],
           "max_position_embeddings": 32, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
           "hidden_act": "gelu", "problem_type": problem,
           "id2label": {str(i): f"L{i}" for i in range(labels)}}
    raw = make_state(dict(cfg, max_position_embeddings=32), seed, True, labels)
    sd = {("" if k.startswith("classifier") else "bert.") + k: v.to(torch.float32).to(torch.float64)
          for k, v in raw.items()}
    write_safetensors(os.path.join(folder, "model.safetensors"), sd, "F32")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    return cfg, sd


def random_batch(g, labels, problem):
    """Four sequences of different lengths and their targets, drawn from `g`:
    (lengths, token ids, type ids, targets)."""
    lengths = [7, 3, 11, 5]
    seqs = [[2] + torch.randint(3, 50, (n - 2,), generator=g).tolist() + [3] for n in lengths]
    type_seqs = [[0] * (n // 2) + [1] * (n - n // 2) for n in lengths]
    if problem == "single_label_classification":
        targets = [i % labels for i in range(len(seqs))]
    elif problem == "multi_label_classification" and labels == 1:
        targets = torch.rand(len(seqs), generator=g, dtype=torch.float64).tolist()
    elif problem == "multi_label_classification":
        targets = torch.randint(0, 2, (len(seqs) * labels,), generator=g).double().tolist()
    else:
        targets = torch.randn(len(seqs), generator=g, dtype=torch.float64).tolist()
    return lengths, seqs, type_seqs, targets


def run_step_dump(tool, folder, spec, lengths, seqs, type_seqs):
    """Runs train_step_dump on `folder` with the batch `spec`; returns the
    padded reference batch (ids, type ids, attention mask)."""
    with open(os.path.join(folder, "batch.json"), "w") as f:
        json.dump(spec, f)
    subprocess.run([tool, folder, os.path.join(folder, "batch.json"), folder], check=True)

    length = max(lengths)
    ids = torch.zeros(len(seqs), length, dtype=torch.long)
    types = torch.zeros(len(seqs), length, dtype=torch.long)
    mask = torch.zeros(len(seqs), length, dtype=torch.long)
    for i, (s, t) in enumerate(zip(seqs, type_seqs)):
        ids[i, :len(s)] = torch.tensor(s)
        types[i, :len(t)] = torch.tensor(t)
        mask[i, :len(s)] = 1
    return ids, types, mask


def run_case(tool, work, name, shape, labels, problem, steps, max_norm, seed):
    folder = os.path.join(work, name)
    cfg, sd = write_random_classifier(folder, shape, labels, problem, seed)
    g = torch.Generator().manual_seed(seed + 1)
    lengths, seqs, type_seqs, targets = random_batch(g, labels, problem)
    lr, wd = 1e-3, 0.01
    spec = {"ids": seqs, "type_ids": type_seqs, "targets": targets, "lr": lr, "weight_decay": wd,
            "max_grad_norm": max_norm, "steps": steps}
    ids, types, mask = run_step_dump(tool, folder, spec, lengths, seqs, type_seqs)
    params = {k: v.clone().requires_grad_(True) for k, v in sd.items()}
    decay = [p for k, p in params.items() if not (k.endswith("bias") or "LayerNorm" in k)]
    no_decay = [p for k, p in params.items() if k.endswith("bias") or "LayerNorm" in k]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.999), eps=1e-8)
    losses, first_grads = [], None
    for step in range(steps):
        opt.zero_grad()
        loss = loss_of(forward(params, cfg, ids, types, mask), targets, problem)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            first_grads = {k: p.grad.detach().clone() for k, p in params.items()}
        if max_norm > 0:
            torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
        opt.step()

    failures, got_losses = check_losses(name, folder, losses)
    grads = read_safetensors(os.path.join(folder, "grads.safetensors"))
    stepped = read_safetensors(os.path.join(folder, "stepped.safetensors"))
    if set(grads) != set(params):
        failures.append(f"{name}: tensor names differ: {sorted(set(grads) ^ set(params))}")
    worst_grad, worst_step, worst_name = 0.0, 0.0, ""
    # A tensor whose true gradient is zero (the key bias: softmax ignores a
    # constant per row) is compared on the scale of the largest gradient.
    floor = 1e-4 * max(g.abs().max().item() for g in first_grads.values())
    for k, p in params.items():
        want = first_grads[k]
        scale = max(want.abs().max().item(), floor)
        err = (grads[k] - want).abs().max().item()
        if scale > floor and err / scale > worst_grad:
            worst_grad, worst_name = err / scale, k
        if err > 2e-3 * scale + 1e-9:
            failures.append(f"{name}: gradient of {k}: max error {err:.3g} vs max {scale:.3g}")
        moved = (stepped[k] - p.detach()).abs()
        resolvable = want.abs() >= 1e-4 * scale
        bad = moved[resolvable].max().item() if resolvable.any() else 0.0
        worst_step = max(worst_step, bad / lr / steps)
        if bad > 0.02 * lr * steps:
            failures.append(f"{name}: AdamW update of {k}: max difference {bad:.3g} (lr {lr})")
        if moved.max().item() > 2.0 * lr * steps + 1e-6:
            failures.append(f"{name}: AdamW update of {k} off by more than the learning rate")
    print(f"{name}: {len(params)} tensors, loss {got_losses[0]:.6f} vs {losses[0]:.6f}, "
          f"worst gradient error {worst_grad:.2e} (relative, {worst_name}; tensors with a zero true gradient excepted), worst update error {worst_step:.2e} lr/step")
    return failures


def check_losses(name, folder, losses):
    """The losses modelgate wrote (loss.json) against the reference's:
    (failures, modelgate's losses)."""
    failures = []
    with open(os.path.join(folder, "loss.json")) as f:
        got_losses = json.load(f)
    for step, (got, want) in enumerate(zip(got_losses, losses)):
        if abs(got - want) > 1e-4 * max(1.0, abs(want)):
            failures.append(f"{name}: loss at step {step}: {got} vs {want}")
    return failures, got_losses


def run_cases(doc, cases, run_case, seed_base):
    """The command line (TRAIN_STEP_DUMP WORK_DIR) of a script that runs
    run_case(tool, work, *case, seed=...) for every case; exits 1 on any
    failure."""
    if len(sys.argv) != 3:
        sys.exit(doc)
    tool, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    failures = []
    for i, case in enumerate(cases):
        failures += run_case(tool, work, *case, seed=seed_base + i)
    for f in failures:
        print("FAIL", f)
    sys.exit(1 if failures else 0)


def main():
    run_cases(__doc__, CASES, run_case, 100)


if __name__ == "__main__":
    main()
