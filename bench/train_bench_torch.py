#!/usr/bin/python3
"""The PyTorch side of bench/train_vs_torch.sh: the same training step as
bench/train_bench.cc (BertForSequenceClassification of a size preset, dropout
0.1, cross-entropy, clip_grad_norm_(1.0), torch.optim.AdamW) in float32 on the
same batch and sequence length, with torch.set_num_threads(THREADS).

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


def main():
    preset, batch, seq_len, threads, steps = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    layers, hidden = PRESETS[preset]
    model = Bert(layers, hidden)
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
