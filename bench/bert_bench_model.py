#!/usr/bin/python3
"""Benchmark models for bench/engine_vs_peers.sh.

`make`: builds a random-weight encoder (BertModel, DistilBertModel,
RobertaModel or ModernBertModel) of a given shape in PyTorch, writes it as a Hugging Face folder
(config.json, model.safetensors F32, tokenizer files) for modelgate and
exports the same weights to ONNX (torch.onnx.export, dynamic batch and
sequence axes) for ONNX Runtime.
`torch`: times the same model in PyTorch (eager, no autograd) and prints one
JSON line; with DTYPE int8, after torch.quantization.quantize_dynamic (int8
Linear weights, activations quantised per call) on the first quantised
engine this PyTorch has (fbgemm, else onednn).

usage: /usr/bin/python3 bench/bert_bench_model.py make OUT_DIR base|minilm|distilbert|roberta|modernbert
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

# family: bert (BertModel), distilbert (DistilBertModel: no token types, six
# layers) or roberta (RobertaModel: positions counted after the padding id,
# one token type, byte-level BPE vocabulary).
SHAPES = {
    "base": dict(layers=12, hidden=768, heads=12, inter=3072, family="bert"),
    "minilm": dict(layers=6, hidden=384, heads=12, inter=1536, family="bert"),
    "distilbert": dict(layers=6, hidden=768, heads=12, inter=3072, family="distilbert"),
    "roberta": dict(layers=12, hidden=768, heads=12, inter=3072, family="roberta"),
    # ModernBERT-base: 22 pre-norm layers, GeGLU of 1152, every third layer
    # global (rotary theta 160000), the others a 128-token window (theta 10000).
    "modernbert": dict(layers=22, hidden=768, heads=12, inter=1152, family="modernbert", every=3,
                       window=128),
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB_DIR = os.path.join(ROOT, "tests/data/vocab")
# Per family: vocabulary size, position table, token types, padding id,
# LayerNorm epsilon and the tokenizer files copied into the folder.
FAMILIES = {
    "bert": dict(vocab=30522, positions=512, types=2, pad=0, eps=1e-12,
                 files=["bert-base-uncased/vocab.txt"]),
    "distilbert": dict(vocab=30522, positions=512, types=0, pad=0, eps=1e-12,
                       files=["bert-base-uncased/vocab.txt"]),
    "roberta": dict(vocab=50265, positions=514, types=1, pad=1, eps=1e-5,
                    files=["roberta-base/vocab.json", "roberta-base/merges.txt"]),
    "modernbert": dict(vocab=50368, positions=8192, types=0, pad=50283, eps=1e-5,
                       files=["ModernBERT-large/tokenizer.json"]),
}
# Hugging Face module names of a layer, per family, in the order of Layer's
# attributes below.
LAYER_ATTRS = ["query", "key", "value", "attention_output", "attention_norm", "intermediate", "output",
               "output_norm"]
BERT_LAYER = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
              "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"]
LAYER_NAMES = {
    "bert": ("encoder.layer", BERT_LAYER),
    "roberta": ("encoder.layer", BERT_LAYER),
    "distilbert": ("transformer.layer", ["attention.q_lin", "attention.k_lin", "attention.v_lin",
                                         "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2",
                                         "output_layer_norm"]),
}


class Layer(torch.nn.Module):
    def __init__(self, h, heads, inter, eps):
        super().__init__()
        self.heads = heads
        self.query = torch.nn.Linear(h, h)
        self.key = torch.nn.Linear(h, h)
        self.value = torch.nn.Linear(h, h)
        self.attention_output = torch.nn.Linear(h, h)
        self.attention_norm = torch.nn.LayerNorm(h, eps=eps)
        self.intermediate = torch.nn.Linear(h, inter)
        self.output = torch.nn.Linear(inter, h)
        self.output_norm = torch.nn.LayerNorm(h, eps=eps)

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
    """The encoder of BertModel (Devlin et al. 2019), DistilBertModel or
    RobertaModel, returning the last hidden states."""

    def __init__(self, shape):
        super().__init__()
        h = shape["hidden"]
        self.family = shape["family"]
        f = FAMILIES[self.family]
        self.pad = f["pad"]
        self.word = torch.nn.Embedding(f["vocab"], h)
        self.position = torch.nn.Embedding(f["positions"], h)
        self.token_type = torch.nn.Embedding(f["types"], h) if f["types"] else None
        self.norm = torch.nn.LayerNorm(h, eps=f["eps"])
        self.layers = torch.nn.ModuleList(
            Layer(h, shape["heads"], shape["inter"], f["eps"]) for _ in range(shape["layers"]))

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        if self.family == "roberta":
            real = (input_ids != self.pad).long()
            positions = torch.cumsum(real, 1) * real + self.pad
        else:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids) + self.position(positions)
        if self.token_type is not None:
            x = x + self.token_type(token_type_ids)
        x = self.norm(x)
        mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def hf_state_dict(self):
        sd = {
            "embeddings.word_embeddings.weight": self.word.weight,
            "embeddings.position_embeddings.weight": self.position.weight,
            "embeddings.LayerNorm.weight": self.norm.weight,
            "embeddings.LayerNorm.bias": self.norm.bias,
        }
        if self.token_type is not None:
            sd["embeddings.token_type_embeddings.weight"] = self.token_type.weight
        layer_list, modules = LAYER_NAMES[self.family]
        for i, layer in enumerate(self.layers):
            for attr, hf in zip(LAYER_ATTRS, modules):
                module = getattr(layer, attr)
                sd[f"{layer_list}.{i}.{hf}.weight"] = module.weight
                sd[f"{layer_list}.{i}.{hf}.bias"] = module.bias
        return {k: v.detach().contiguous() for k, v in sd.items()}


class ModernLayer(torch.nn.Module):
    """A ModernBERT layer: pre-LayerNorm without biases, fused QKV with rotary
    positions, GeGLU feed-forward."""

    def __init__(self, h, heads, inter, eps, first):
        super().__init__()
        self.heads, self.eps = heads, eps
        self.attn_norm = None if first else torch.nn.Parameter(torch.ones(h))
        self.wqkv = torch.nn.Linear(h, 3 * h, bias=False)
        self.wo = torch.nn.Linear(h, h, bias=False)
        self.mlp_norm = torch.nn.Parameter(torch.ones(h))
        self.wi = torch.nn.Linear(h, 2 * inter, bias=False)
        self.wo_mlp = torch.nn.Linear(inter, h, bias=False)

    def norm(self, x, weight):
        return torch.nn.functional.layer_norm(x, weight.shape, weight, None, self.eps)

    def forward(self, x, cos, sin, mask):
        b, length, h = x.shape
        d = h // self.heads
        a = x if self.attn_norm is None else self.norm(x, self.attn_norm)
        qkv = self.wqkv(a).view(b, length, 3, self.heads, d).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]

        def rotate(t):
            return t * cos + torch.cat((-t[..., d // 2:], t[..., :d // 2]), -1) * sin

        scores = rotate(q) @ rotate(k).transpose(-1, -2) / math.sqrt(d)
        if mask is not None:
            scores = scores + mask
        ctx = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, length, h)
        x = x + self.wo(ctx)
        inp, gate = self.wi(self.norm(x, self.mlp_norm)).chunk(2, dim=-1)
        return x + self.wo_mlp(torch.nn.functional.gelu(inp) * gate)


class ModernBert(torch.nn.Module):
    """ModernBertModel (Warner et al. 2024) on unpadded inputs of one length,
    returning the last hidden states."""

    def __init__(self, shape):
        super().__init__()
        h, heads = shape["hidden"], shape["heads"]
        f = FAMILIES["modernbert"]
        self.every, self.window, self.eps = shape["every"], shape["window"], f["eps"]
        self.word = torch.nn.Embedding(f["vocab"], h)
        self.norm = torch.nn.Parameter(torch.ones(h))
        self.layers = torch.nn.ModuleList(
            ModernLayer(h, heads, shape["inter"], f["eps"], i == 0) for i in range(shape["layers"]))
        self.final_norm = torch.nn.Parameter(torch.ones(h))
        d = h // heads
        positions = torch.arange(512, dtype=torch.float32)
        for name, theta in (("global", 160000.0), ("local", 10000.0)):
            inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
            angles = torch.cat([positions[:, None] * inv_freq[None, :]] * 2, -1)
            self.register_buffer(name + "_cos", angles.cos(), persistent=False)
            self.register_buffer(name + "_sin", angles.sin(), persistent=False)

    def forward(self, input_ids):
        length = input_ids.shape[1]
        x = torch.nn.functional.layer_norm(self.word(input_ids), self.norm.shape, self.norm, None, self.eps)
        positions = torch.arange(length, device=input_ids.device)
        distance = (positions[:, None] - positions[None, :]).abs()
        local = torch.zeros(length, length).masked_fill(distance > self.window // 2, float("-inf"))
        for i, layer in enumerate(self.layers):
            kind = "local" if i % self.every else "global"
            cos, sin = getattr(self, kind + "_cos")[:length], getattr(self, kind + "_sin")[:length]
            x = layer(x, cos, sin, local if kind == "local" else None)
        return torch.nn.functional.layer_norm(x, self.final_norm.shape, self.final_norm, None, self.eps)

    def hf_state_dict(self):
        sd = {"embeddings.tok_embeddings.weight": self.word.weight, "embeddings.norm.weight": self.norm,
              "final_norm.weight": self.final_norm}
        for i, layer in enumerate(self.layers):
            p = f"layers.{i}."
            if layer.attn_norm is not None:
                sd[p + "attn_norm.weight"] = layer.attn_norm
            sd[p + "attn.Wqkv.weight"] = layer.wqkv.weight
            sd[p + "attn.Wo.weight"] = layer.wo.weight
            sd[p + "mlp_norm.weight"] = layer.mlp_norm
            sd[p + "mlp.Wi.weight"] = layer.wi.weight
            sd[p + "mlp.Wo.weight"] = layer.wo_mlp.weight
        return {k: v.detach().contiguous() for k, v in sd.items()}


def new_model(shape_name):
    shape = SHAPES[shape_name]
    return (ModernBert if shape["family"] == "modernbert" else Bert)(shape)


def build(shape_name, seed=0):
    torch.manual_seed(seed)
    model = new_model(shape_name).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
        for name, p in model.named_parameters():  # LayerNorm scales start at one
            if name.endswith("norm") or name.endswith("norm.weight"):
                p.fill_(1.0)
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
    family = shape["family"]
    f = FAMILIES[family]
    if family == "modernbert":
        config = {"model_type": "modernbert", "architectures": ["ModernBertModel"], "vocab_size": f["vocab"],
                  "hidden_size": shape["hidden"], "num_hidden_layers": shape["layers"],
                  "num_attention_heads": shape["heads"], "intermediate_size": shape["inter"],
                  "max_position_embeddings": f["positions"], "hidden_activation": "gelu", "norm_eps": f["eps"],
                  "norm_bias": False, "attention_bias": False, "mlp_bias": False,
                  "global_rope_theta": 160000.0, "local_rope_theta": 10000.0,
                  "global_attn_every_n_layers": shape["every"], "local_attention": shape["window"],
                  "pad_token_id": f["pad"], "bos_token_id": 50281, "eos_token_id": 50282,
                  "cls_token_id": 50281, "sep_token_id": 50282}
    elif family == "distilbert":
        config = {"model_type": "distilbert", "architectures": ["DistilBertModel"], "vocab_size": f["vocab"],
                  "dim": shape["hidden"], "n_layers": shape["layers"], "n_heads": shape["heads"],
                  "hidden_dim": shape["inter"], "max_position_embeddings": f["positions"], "activation": "gelu",
                  "pad_token_id": f["pad"]}
    else:
        config = {"model_type": family, "architectures": ["RobertaModel" if family == "roberta" else "BertModel"],
                  "vocab_size": f["vocab"], "hidden_size": shape["hidden"], "num_hidden_layers": shape["layers"],
                  "num_attention_heads": shape["heads"], "intermediate_size": shape["inter"],
                  "max_position_embeddings": f["positions"], "type_vocab_size": f["types"],
                  "layer_norm_eps": f["eps"], "hidden_act": "gelu", "pad_token_id": f["pad"]}
    with open(os.path.join(folder, "config.json"), "w") as out_file:
        json.dump(config, out_file)
    for name in f["files"]:
        shutil.copy(os.path.join(VOCAB_DIR, name), os.path.join(folder, os.path.basename(name)))
    ids = torch.randint(1000, 2000, (2, 16))
    if family == "modernbert":  # unpadded inputs: the ids are its only input
        inputs, args = ["input_ids"], (ids,)
    else:
        inputs = ["input_ids", "attention_mask"] + (["token_type_ids"] if f["types"] else [])
        args = (ids, torch.ones_like(ids)) + ((torch.zeros_like(ids),) if f["types"] else ())
    torch.onnx.export(model, args, os.path.join(out, "model.onnx"),
                      input_names=inputs, output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "sequence"} for n in inputs + ["last_hidden_state"]},
                      opset_version=14)
    torch.save(model.state_dict(), os.path.join(out, "torch_state.pt"))
    print(json.dumps({"shape": shape_name, "parameters": sum(p.numel() for p in model.parameters())}))


def time_torch(out, batch, seq, threads, seconds, dtype="f32"):
    torch.set_num_threads(threads)
    shape_name = json.load(open(os.path.join(out, "shape.json")))["shape"]
    model = new_model(shape_name).eval()
    model.load_state_dict(torch.load(os.path.join(out, "torch_state.pt")))
    engine = ""
    if dtype == "int8":
        engines = torch.backends.quantized.supported_engines
        engine = next(e for e in ("fbgemm", "x86", "onednn") if e in engines)
        torch.backends.quantized.engine = engine
        model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    ids = torch.randint(1000, 2000, (batch, seq))
    args = (ids,) if isinstance(model, ModernBert) else (ids, torch.ones_like(ids), torch.zeros_like(ids))
    runs = 0
    with torch.inference_mode():
        model(*args)
        start = time.perf_counter()
        while True:
            model(*args)
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
