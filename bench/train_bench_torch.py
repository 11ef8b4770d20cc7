#!/usr/bin/python3
"""The PyTorch side of bench/train_vs_torch.sh: the same training step as
bench/train_bench.cc (BertForSequenceClassification of a size preset, dropout
0.1, cross-entropy, clip_grad_norm_(1.0), torch.optim.AdamW) in float32 on the
same batch and sequence length, with torch.set_num_threads(THREADS).

A modernbert-* preset trains ModernBertForSequenceClassification's
architecture as `modelgate train --init modernbert-*` builds it (pre-norm
layers without biases, rotary embeddings with theta 160000 in global and
10000 in local layers, every third layer global and the others a 128-token
sliding window, GeGLU with intermediate 1.5 x hidden, final norm, first-token
pooling, head dense + GELU + norm), written here in plain PyTorch, without
dropout (ModernBERT's configs have none).

usage: train_bench_torch.py PRESET BATCH SEQ_LEN THREADS STEPS
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

PRESETS = {"tiny": (2, 128), "mini": (4, 256), "small": (4, 512), "base": (12, 768)}


class Bert(torch.nn.Module):
    def __init__(self, layers, hidden, vocab=30522, labels=2, positions=512):
        super().__init__()
        self.heads = hidden // 64
        self.word = torch.nn.Embedding(vocab, hidden)
        self.pos = torch.nn.Embedding(positions, hidden)
        self.types = torch.nn.Embedding(2, hidden)
        self.norm = torch.nn.LayerNorm(hidden, eps=1e-12)
        self.layers = torch.nn.ModuleList()
        for _ in range(layers):
            self.layers.append(torch.nn.ModuleDict({
                "qkv": torch.nn.Linear(hidden, 3 * hidden), "out": torch.nn.Linear(hidden, hidden),
                "norm1": torch.nn.LayerNorm(hidden, eps=1e-12), "inter": torch.nn.Linear(hidden, 4 * hidden),
                "output": torch.nn.Linear(4 * hidden, hidden), "norm2": torch.nn.LayerNorm(hidden, eps=1e-12)}))
        self.pooler = torch.nn.Linear(hidden, hidden)
        self.classifier = torch.nn.Linear(hidden, labels)

    def forward(self, ids, types):
        b, n = ids.shape
        h = self.word.embedding_dim
        d = h // self.heads
        x = self.word(ids) + self.pos(torch.arange(n)).unsqueeze(0) + self.types(types)
        x = F.dropout(self.norm(x), 0.1, self.training)
        for layer in self.layers:
            q, k, v = layer["qkv"](x).view(b, n, 3, self.heads, d).permute(2, 0, 3, 1, 4)
            att = F.dropout(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1), 0.1, self.training)
            ctx = (att @ v).transpose(1, 2).reshape(b, n, h)
            x = layer["norm1"](F.dropout(layer["out"](ctx), 0.1, self.training) + x)
            y = layer["output"](F.gelu(layer["inter"](x)))
            x = layer["norm2"](F.dropout(y, 0.1, self.training) + x)
        pooled = F.dropout(torch.tanh(self.pooler(x[:, 0])), 0.1, self.training)
        return self.classifier(pooled)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), -1)


class ModernBert(torch.nn.Module):
    def __init__(self, layers, hidden, vocab=30522, labels=2, window=128, every=3):
        super().__init__()
        self.heads, self.window, self.every = hidden // 64, window, every
        inter = hidden * 3 // 2

        def norm():
            return NoBiasNorm(hidden)
        self.word = torch.nn.Embedding(vocab, hidden)
        self.norm = norm()
        self.layers = torch.nn.ModuleList()
        for i in range(layers):
            self.layers.append(torch.nn.ModuleDict({
                "attn_norm": norm() if i > 0 else torch.nn.Identity(),
                "wqkv": torch.nn.Linear(hidden, 3 * hidden, bias=False),
                "wo": torch.nn.Linear(hidden, hidden, bias=False), "mlp_norm": norm(),
                "wi": torch.nn.Linear(hidden, 2 * inter, bias=False),
                "mlp_wo": torch.nn.Linear(inter, hidden, bias=False)}))
        self.final_norm = norm()
        self.head = torch.nn.Linear(hidden, hidden, bias=False)
        self.head_norm = norm()
        self.classifier = torch.nn.Linear(hidden, labels)

    def forward(self, ids, types):
        b, n = ids.shape
        h = self.word.embedding_dim
        d = h // self.heads
        positions = torch.arange(n, dtype=torch.float32)
        local = (positions[:, None] - positions[None, :]).abs() > self.window // 2
        tables = {}
        for theta in (160000.0, 10000.0):
            freqs = positions[:, None] / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
            angles = torch.cat((freqs, freqs), -1)
            tables[theta] = (angles.cos(), angles.sin())
        x = self.norm(self.word(ids))
        for i, layer in enumerate(self.layers):
            sliding = i % self.every != 0
            cos, sin = tables[10000.0 if sliding else 160000.0]
            q, k, v = layer["wqkv"](layer["attn_norm"](x)).view(b, n, 3, self.heads, d).permute(2, 0, 3, 1, 4)
            q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
            scores = q @ k.transpose(-1, -2) / math.sqrt(d)
            if sliding:
                scores = scores.masked_fill(local, float("-inf"))
            ctx = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, n, h)
            x = x + layer["wo"](ctx)
            inp, gate = layer["wi"](layer["mlp_norm"](x)).chunk(2, dim=-1)
            x = x + layer["mlp_wo"](F.gelu(inp) * gate)
        x = self.final_norm(x)
        return self.classifier(self.head_norm(F.gelu(self.head(x[:, 0]))))


class NoBiasNorm(torch.nn.Module):
    """LayerNorm without a bias (PyTorch 1.13's LayerNorm always has one)."""

    def __init__(self, hidden):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(hidden))

    def forward(self, x):
        return F.layer_norm(x, x.shape[-1:], self.weight, None, 1e-5)


def main():
    preset, batch, seq_len, threads, steps = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    if preset.startswith("modernbert-"):
        model = ModernBert(*PRESETS[preset[len("modernbert-"):]])
    else:
        model = Bert(*PRESETS[preset])
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.01)
    ids = torch.randint(1000, 30000, (batch, seq_len))
    types = torch.zeros(batch, seq_len, dtype=torch.long)
    labels = torch.arange(batch) % 2

    def step():
        opt.zero_grad()
        F.cross_entropy(model(ids, types), labels).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "preset": preset, "batch": batch,
                      "seq_len": seq_len, "threads": threads, "steps": steps, "seconds": round(seconds, 3),
                      "samples_per_s": round(steps * batch / seconds, 2)}))


if __name__ == "__main__":
    main()
