#!/usr/bin/python3
"""Benchmark models for bench/engine_vs_peers.sh.

`make`: builds a random-weight BertModel of a given shape in PyTorch, writes it
as a Hugging Face folder (config.json, model.safetensors F32, vocab.txt) for
modelgate and exports the same weights to ONNX (torch.onnx.export, dynamic
batch and sequence axes) for ONNX Runtime.
`torch`: times the same model in PyTorch (eager, no autograd) and prints one
JSON line; with DTYPE int8, after torch.quantization.quantize_dynamic (int8
Linear weights, activations quantised per call) on the first quantised
engine this PyTorch has (fbgemm, else onednn).

usage: /usr/bin/python3 bench/bert_bench_model.py make OUT_DIR base|minilm
       /usr/bin/python3 bench/bert_bench_model.py torch OUT_DIR BATCH SEQ THREADS SECONDS [f32|int8]
"""
import json
import math
import os
import shutil
import struct
import sys
import time

import torch

SHAPES = {
    "base": dict(layers=12, hidden=768, heads=12, inter=3072),
    "minilm": dict(layers=6, hidden=384, heads=12, inter=1536),
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "tests/data/vocab/bert-base-uncased/vocab.txt")


class Layer(torch.nn.Module):
    def __init__(self, h, heads, inter):
        super().__init__()
        self.heads = heads
        self.query = torch.nn.Linear(h, h)
        self.key = torch.nn.Linear(h, h)
        self.value = torch.nn.Linear(h, h)
        self.attention_output = torch.nn.Linear(h, h)
        self.attention_norm = torch.nn.LayerNorm(h, eps=1e-12)
        self.intermediate = torch.nn.Linear(h, inter)
        self.output = torch.nn.Linear(inter, h)
        self.output_norm = torch.nn.LayerNorm(h, eps=1e-12)

    def forward(self, x, mask):
        b, length, h = x.shape
        d = h // self.heads

        def split(t):
            return t.view(b, length, self.heads, d).transpose(1, 2)

        scores = split(self.query(x)) @ split(self.key(x)).transpose(-1, -2) / math.sqrt(d) + mask
        ctx = (torch.softmax(scores, -1) @ split(self.value(x))).transpose(1, 2).reshape(b, length, h)
        a = self.attention_norm(self.attention_output(ctx) + x)
        return self.output_norm(self.output(torch.nn.functional.gelu(self.intermediate(a))) + a)


class Bert(torch.nn.Module):
    """BertModel's encoder (Devlin et al. 2019) returning the last hidden states."""

    def __init__(self, shape, vocab=30522, positions=512):
        super().__init__()
        h = shape["hidden"]
        self.word = torch.nn.Embedding(vocab, h)
        self.position = torch.nn.Embedding(positions, h)
        self.token_type = torch.nn.Embedding(2, h)
        self.norm = torch.nn.LayerNorm(h, eps=1e-12)
        self.layers = torch.nn.ModuleList(Layer(h, shape["heads"], shape["inter"]) for _ in range(shape["layers"]))

    def forward(self, input_ids, attention_mask, token_type_ids):
        length = input_ids.shape[1]
        positions = torch.arange(length, device=input_ids.device).unsqueeze(0)
        x = self.norm(self.word(input_ids) + self.position(positions) + self.token_type(token_type_ids))
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def hf_state_dict(self):
        sd = {
            "embeddings.word_embeddings.weight": self.word.weight,
            "embeddings.position_embeddings.weight": self.position.weight,
            "embeddings.token_type_embeddings.weight": self.token_type.weight,
            "embeddings.LayerNorm.weight": self.norm.weight,
            "embeddings.LayerNorm.bias": self.norm.bias,
        }
        names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
                 "attention_output": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
                 "intermediate": "intermediate.dense", "output": "output.dense", "output_norm": "output.LayerNorm"}
        for i, layer in enumerate(self.layers):
            for attr, hf in names.items():
                module = getattr(layer, attr)
                sd[f"encoder.layer.{i}.{hf}.weight"] = module.weight
                sd[f"encoder.layer.{i}.{hf}.bias"] = module.bias
        return {k: v.detach().contiguous() for k, v in sd.items()}


def build(shape_name, seed=0):
    torch.manual_seed(seed)
    model = Bert(SHAPES[shape_name]).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
        for layer in model.layers:
            layer.attention_norm.weight.fill_(1.0)
            layer.output_norm.weight.fill_(1.0)
        model.norm.weight.fill_(1.0)
    return model


def write_safetensors(path, tensors):
    header, offset = {}, 0
    for name, t in tensors.items():
        n = t.numel() * 4
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in tensors.values():
            f.write(t.float().numpy().tobytes())


def make(out, shape_name):
    os.makedirs(out, exist_ok=True)
    shape = SHAPES[shape_name]
    model = build(shape_name)
    folder = os.path.join(out, "modelgate")
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), model.hf_state_dict())
    config = {"model_type": "bert", "architectures": ["BertModel"], "vocab_size": 30522,
              "hidden_size": shape["hidden"], "num_hidden_layers": shape["layers"],
              "num_attention_heads": shape["heads"], "intermediate_size": shape["inter"],
              "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    shutil.copy(VOCAB, os.path.join(folder, "vocab.txt"))
    ids = torch.randint(1000, 2000, (2, 16))
    torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), os.path.join(out, "model.onnx"),
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "sequence"} for n in
                                    ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
                      opset_version=14)
    torch.save(model.state_dict(), os.path.join(out, "torch_state.pt"))
    print(json.dumps({"shape": shape_name, "parameters": sum(p.numel() for p in model.parameters())}))


def time_torch(out, batch, seq, threads, seconds, dtype="f32"):
    torch.set_num_threads(threads)
    shape_name = json.load(open(os.path.join(out, "shape.json")))["shape"]
    model = Bert(SHAPES[shape_name]).eval()
    model.load_state_dict(torch.load(os.path.join(out, "torch_state.pt")))
    engine = ""
    if dtype == "int8":
        engines = torch.backends.quantized.supported_engines
        engine = next(e for e in ("fbgemm", "x86", "onednn") if e in engines)
        torch.backends.quantized.engine = engine
        model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    ids = torch.randint(1000, 2000, (batch, seq))
    mask, types = torch.ones_like(ids), torch.zeros_like(ids)
    runs = 0
    with torch.inference_mode():
        model(ids, mask, types)
        start = time.perf_counter()
        while True:
            model(ids, mask, types)
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and runs >= 2:
                break
    print(json.dumps({"tool": "pytorch", "dtype": dtype, "engine": engine, "version": torch.__version__,
                      "batch": batch, "seq": seq,
                      "threads": threads, "seq_per_s": runs * batch / elapsed}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
        with open(os.path.join(sys.argv[2], "shape.json"), "w") as f:
            json.dump({"shape": sys.argv[3]}, f)
    else:
        time_torch(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]),
                   sys.argv[7] if len(sys.argv) > 7 else "f32")
