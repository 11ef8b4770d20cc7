#!/usr/bin/python3
"""modelgate's LoRA training step against the same LoRA built in plain PyTorch.

For small random BERT classifiers the script writes an HF folder and random,
non-zero LoRA matrices A [r, hidden] and B [hidden, r] for every layer's query
and value projections, and runs `train_step_dump` with a LoRA layout (encoder
frozen). The reference is BertForSequenceClassification written here in
PyTorch (float64, padded batch with an attention mask) with
    query(x) = x Wq^T + bq + (alpha / r) (x Aq^T) Bq^T     (value alike),
differentiated by autograd with only the adapter and the head (pooler,
classifier) requiring gradients, and stepped by torch.optim.AdamW on those
alone (after clip_grad_norm_ where the case asks).

Checks: the loss; the gradient of every adapter and head tensor (within 2e-3
of its largest reference value); the gradient with respect to the encoder
input (the embeddings after LayerNorm: d loss / d x, which flows back through
every frozen weight), per token; that every frozen tensor's gradient is
exactly zero; that every frozen weight is bit-identical after the AdamW steps
(float32 bits compared); and every trained tensor's update within 2 % of the
learning rate per step.

usage: /usr/bin/python3 tests/train/lora_vs_torch.py TRAIN_STEP_DUMP WORK_DIR
"""
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "model"))
from bert_vs_torch import layer_norm, write_safetensors  # noqa: E402
from grad_vs_torch import (check_losses, loss_of, random_batch, read_safetensors,  # noqa: E402
                           run_cases, run_step_dump, write_random_classifier)


def read_f32_bits(path):
    """Tensors of a safetensors file as int32 views of their float32 bits."""
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=torch.int32).clone()
    return out


def lora_forward(sd, lora, scale, cfg, ids, types, mask):
    """Logits and the encoder input x (to take d loss / d x)."""
    h, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    d = h // heads
    batch, length = ids.shape
    x = sd["bert.embeddings.word_embeddings.weight"][ids] \
        + sd["bert.embeddings.position_embeddings.weight"][:length].unsqueeze(0) \
        + sd["bert.embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, sd["bert.embeddings.LayerNorm.weight"], sd["bert.embeddings.LayerNorm.bias"], eps)
    x = x.detach().requires_grad_(True)  # a leaf: nothing before it trains
    encoder_input = x
    bias = (1.0 - mask[:, None, None, :].to(torch.float64)) * torch.finfo(torch.float64).min
    for i in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{i}."

        def lin(name, v):
            y = v @ sd[p + name + ".weight"].T + sd[p + name + ".bias"]
            if name + ".lora_A.weight" in lora.get(i, {}):
                a, b = lora[i][name + ".lora_A.weight"], lora[i][name + ".lora_B.weight"]
                y = y + scale * (v @ a.T) @ b.T
            return y

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
    return pooled @ sd["classifier.weight"].T + sd["classifier.bias"], encoder_input


CASES = [
    # name, shape, labels, problem, rank, alpha, steps, max_grad_norm
    ("single-r4", dict(layers=2, hidden=32, heads=4, inter=64), 3, "single_label_classification", 4, 8.0, 2, 0.0),
    ("multi-r2-clipped", dict(layers=2, hidden=24, heads=2, inter=40), 4, "multi_label_classification", 2, 2.0, 3, 0.5),
    ("regression-r1", dict(layers=1, hidden=16, heads=4, inter=32), 1, "regression", 1, 4.0, 2, 1.0),
]


def run_case(tool, work, name, shape, labels, problem, rank, alpha, steps, max_norm, seed):
    folder = os.path.join(work, name)
    cfg, sd = write_random_classifier(folder, shape, labels, problem, seed)
    g = torch.Generator().manual_seed(seed + 1)
    h = shape["hidden"]
    lora_sd = {}
    for i in range(shape["layers"]):
        for target in ("query", "value"):
            p = f"bert.encoder.layer.{i}.attention.self.{target}."
            lora_sd[p + "lora_A.weight"] = (torch.randn(rank, h, generator=g, dtype=torch.float64) * 0.3
                                            ).to(torch.float32).to(torch.float64)
            lora_sd[p + "lora_B.weight"] = (torch.randn(h, rank, generator=g, dtype=torch.float64) * 0.3
                                            ).to(torch.float32).to(torch.float64)
    init = os.path.join(folder, "lora_init.safetensors")
    write_safetensors(init, lora_sd, "F32")
    lengths, seqs, type_seqs, targets = random_batch(g, labels, problem)
    lr, wd = 1e-3, 0.01
    spec = {"ids": seqs, "type_ids": type_seqs, "targets": targets, "lr": lr, "weight_decay": wd,
            "max_grad_norm": max_norm, "steps": steps,
            "lora": {"rank": rank, "alpha": alpha, "init": init}}
    ids, types, mask = run_step_dump(tool, folder, spec, lengths, seqs, type_seqs)
    trainable_names = [k for k in sd if k.startswith("bert.pooler.") or k.startswith("classifier.")]
    params = {k: (v.clone().requires_grad_(True) if k in trainable_names else v.clone()) for k, v in sd.items()}
    lora_params = {k: v.clone().requires_grad_(True) for k, v in lora_sd.items()}
    lora = {}
    for k, v in lora_params.items():
        layer = int(k.split(".")[3])
        lora.setdefault(layer, {})[k.split(".", 4)[4]] = v
    trained = dict({k: params[k] for k in trainable_names}, **lora_params)
    decay = [p for k, p in trained.items() if not k.endswith("bias")]
    no_decay = [p for k, p in trained.items() if k.endswith("bias")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.999), eps=1e-8)
    scale = alpha / rank
    losses, first_grads, first_input_grad = [], None, None
    for step in range(steps):
        opt.zero_grad()
        logits, x = lora_forward(params, lora, scale, cfg, ids, types, mask)
        loss = loss_of(logits, targets, problem)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            first_grads = {k: p.grad.detach().clone() for k, p in trained.items()}
            first_input_grad = x.grad.detach().clone()
        if max_norm > 0:
            torch.nn.utils.clip_grad_norm_(list(trained.values()), max_norm)
        opt.step()

    failures, got_losses = check_losses(name, folder, losses)
    grads = read_safetensors(os.path.join(folder, "grads.safetensors"))
    stepped = read_safetensors(os.path.join(folder, "stepped.safetensors"))
    worst_grad, worst_step = 0.0, 0.0
    for k, want in first_grads.items():
        if k not in grads:
            failures.append(f"{name}: no gradient for {k}")
            continue
        scale_k = max(want.abs().max().item(), 1e-12)
        err = (grads[k] - want).abs().max().item()
        worst_grad = max(worst_grad, err / scale_k)
        if err > 2e-3 * scale_k:
            failures.append(f"{name}: gradient of {k}: max error {err:.3g} vs max {scale_k:.3g}")
        before = params[k] if k in params else lora_sd[k]
        moved = (stepped[k] - before.detach()).abs()
        ref_moved = (trained[k].detach() - before.detach()).abs()
        bad = (moved - ref_moved).abs().max().item()
        worst_step = max(worst_step, bad / lr / steps)
        if bad > 0.02 * lr * steps:
            failures.append(f"{name}: AdamW update of {k}: max difference {bad:.3g} (lr {lr})")
        if moved.max().item() == 0.0:
            failures.append(f"{name}: trainable {k} did not move")
    # Frozen: zero gradient, and bit-identical after the steps.
    initial_bits = read_f32_bits(os.path.join(folder, "model.safetensors"))
    stepped_bits = read_f32_bits(os.path.join(folder, "stepped.safetensors"))
    frozen = [k for k in sd if k not in trainable_names]
    for k in frozen:
        if grads[k].abs().max().item() != 0.0:
            failures.append(f"{name}: frozen {k} has a non-zero gradient")
        if not torch.equal(initial_bits[k], stepped_bits[k]):
            failures.append(f"{name}: frozen {k} changed")
    # d loss / d encoder input, packed rows against the padded reference.
    got_input = read_safetensors(os.path.join(folder, "input_grad.safetensors"))["input_grad"]
    want_input = torch.cat([first_input_grad[i, :n] for i, n in enumerate(lengths)])
    in_scale = want_input.abs().max().item()
    in_err = (got_input - want_input).abs().max().item()
    if got_input.shape != want_input.shape or in_err > 2e-3 * in_scale:
        failures.append(f"{name}: input gradient: max error {in_err:.3g} vs max {in_scale:.3g}")
    print(f"{name}: {len(first_grads)} trained tensors, {len(frozen)} frozen (bit-identical), loss "
          f"{got_losses[0]:.6f} vs {losses[0]:.6f}, worst gradient error {worst_grad:.2e}, input "
          f"gradient error {in_err / in_scale:.2e} (relative), worst update error {worst_step:.2e} lr/step")
    return failures


def main():
    run_cases(__doc__, CASES, run_case, 200)


if __name__ == "__main__":
    main()
