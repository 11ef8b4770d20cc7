#!/usr/bin/python3
"""modelgate's BERT against a reference BERT in PyTorch.

The reference is written here from the published architecture (Devlin et al.
2019, as Hugging Face's BertModel implements it: post-LayerNorm encoder, exact
GELU, tanh pooler) and runs in float64. The script builds random-weight
checkpoints of several shapes in every storage variant modelgate reads, asks
`modelgate tokenize` for the token ids of a set of texts, computes the
reference outputs from those ids, runs `modelgate embed` / `classify`, and
compares.

Tolerance: |modelgate - reference| <= 1e-4 * max|reference| over each output
vector. Weights stored in F16/BF16 are widened the same way on both sides, so
the same tolerance applies; a second check against the F32 original bounds
the storage rounding itself (F16 5e-3, BF16 3e-2).

usage: /usr/bin/python3 tests/model/bert_vs_torch.py MODELGATE_BINARY WORK_DIR
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VOCAB = os.path.join(ROOT, "tests/data/vocab/bert-base-uncased/vocab.txt")
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Customer reports that the refund for order #1234 never arrived!",
    "短い",
    "",
    "Stocks rallied after the central bank held rates steady; analysts expect cuts in 2025. " * 6,
    "a",
    "Café déjà vu — naïve façade, résumé.",
]
PAIRS = [None, "billing", None, None, None, "b", None]


def make_state(cfg, seed, classifier, labels):
    g = torch.Generator().manual_seed(seed)
    h, inter = cfg["hidden_size"], cfg["intermediate_size"]

    def rnd(*shape, scale=0.2):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale

    sd = {
        "embeddings.word_embeddings.weight": rnd(cfg["vocab_size"], h),
        "embeddings.position_embeddings.weight": rnd(cfg["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": rnd(cfg["type_vocab_size"], h),
        "embeddings.LayerNorm.weight": 1 + rnd(h, scale=0.1),
        "embeddings.LayerNorm.bias": rnd(h, scale=0.1),
    }
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for part in ("query", "key", "value"):
            sd[p + f"attention.self.{part}.weight"] = rnd(h, h)
            sd[p + f"attention.self.{part}.bias"] = rnd(h, scale=0.05)
        sd[p + "attention.output.dense.weight"] = rnd(h, h)
        sd[p + "attention.output.dense.bias"] = rnd(h, scale=0.05)
        sd[p + "attention.output.LayerNorm.weight"] = 1 + rnd(h, scale=0.1)
        sd[p + "attention.output.LayerNorm.bias"] = rnd(h, scale=0.1)
        sd[p + "intermediate.dense.weight"] = rnd(inter, h)
        sd[p + "intermediate.dense.bias"] = rnd(inter, scale=0.05)
        sd[p + "output.dense.weight"] = rnd(h, inter)
        sd[p + "output.dense.bias"] = rnd(h, scale=0.05)
        sd[p + "output.LayerNorm.weight"] = 1 + rnd(h, scale=0.1)
        sd[p + "output.LayerNorm.bias"] = rnd(h, scale=0.1)
    sd["pooler.dense.weight"] = rnd(h, h)
    sd["pooler.dense.bias"] = rnd(h, scale=0.05)
    if classifier:
        sd["classifier.weight"] = rnd(labels, h)
        sd["classifier.bias"] = rnd(labels, scale=0.05)
    return sd


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def attention_block(x, heads, q, k, v):
    """Multi-head self-attention of one sequence from its projections q, k, v [L, H]."""
    length, h = x.shape
    d = h // heads
    q = q.view(length, heads, d).transpose(0, 1)
    k = k.view(length, heads, d).transpose(0, 1)
    v = v.view(length, heads, d).transpose(0, 1)
    att = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1)
    return (att @ v).transpose(0, 1).reshape(length, h)


def reference_forward(sd, cfg, ids, type_ids, prefix="", positions=None):
    """Last hidden states [L, H] of one sequence, in float64. `prefix` is the
    tensor names' (RoBERTa's "roberta."); `positions` the position ids (0..L-1
    unless given)."""
    eps = cfg["layer_norm_eps"]
    ids = torch.tensor(ids, dtype=torch.long)
    types = torch.tensor(type_ids, dtype=torch.long)
    length = len(ids)
    if positions is None:
        positions = torch.arange(length)
    e = prefix + "embeddings."
    x = sd[e + "word_embeddings.weight"][ids] + sd[e + "position_embeddings.weight"][positions] \
        + sd[e + "token_type_embeddings.weight"][types]
    x = layer_norm(x, sd[e + "LayerNorm.weight"], sd[e + "LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"{prefix}encoder.layer.{i}."

        def lin(name, v):
            return v @ sd[p + name + ".weight"].T + sd[p + name + ".bias"]

        ctx = attention_block(x, cfg["num_attention_heads"], lin("attention.self.query", x),
                              lin("attention.self.key", x), lin("attention.self.value", x))
        a = layer_norm(lin("attention.output.dense", ctx) + x, sd[p + "attention.output.LayerNorm.weight"],
                       sd[p + "attention.output.LayerNorm.bias"], eps)
        inter = torch.nn.functional.gelu(lin("intermediate.dense", a))
        x = layer_norm(lin("output.dense", inter) + a, sd[p + "output.LayerNorm.weight"],
                       sd[p + "output.LayerNorm.bias"], eps)
    return x


def write_safetensors(path, tensors, dtype):
    """Floating tensors in `dtype` (F32, F16 or BF16), integer ones as I64."""
    header, blobs, offset = {}, [], 0
    kind = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    for name, t in tensors.items():
        if t.is_floating_point():
            data = t.to(kind).contiguous()
            raw = (data.view(torch.int16) if dtype != "F32" else data.view(torch.int32)).numpy().tobytes()
            stored_dtype = dtype
        else:
            raw = t.to(torch.int64).contiguous().numpy().tobytes()
            stored_dtype = "I64"
        header[name] = {"dtype": stored_dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def stored(sd, dtype):
    """The float64 weights as the stored dtype rounds them."""
    kind = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    return {k: v.to(kind).to(torch.float64) for k, v in sd.items()}


# name, shape, storage, dtype, options
CASES = [
    ("embed-f32-safetensors", dict(layers=2, hidden=32, heads=4, inter=64, max_pos=512), "safetensors", "F32",
     dict(classifier=False, pooling="mean")),
    ("embed-cls-f32-bin-prefixed", dict(layers=3, hidden=48, heads=3, inter=96, max_pos=64), "bin", "F32",
     dict(classifier=False, pooling="cls", prefix="bert.", normalize=True)),
    ("embed-f16-gamma-beta-position-ids", dict(layers=2, hidden=32, heads=2, inter=48, max_pos=512), "safetensors",
     "F16", dict(classifier=False, pooling="mean", gamma_beta=True, position_ids=True, no_pooler=True)),
    ("embed-bf16-sharded", dict(layers=2, hidden=64, heads=8, inter=128, max_pos=512), "sharded", "BF16",
     dict(classifier=False, pooling="mean")),
    ("classify-single-f32-bin", dict(layers=2, hidden=32, heads=4, inter=64, max_pos=512), "bin", "F32",
     dict(classifier=True, labels=["negative", "neutral", "positive"], prefix="bert.")),
    ("classify-multilabel-f16-bin", dict(layers=1, hidden=48, heads=4, inter=96, max_pos=128), "bin", "F16",
     dict(classifier=True, labels=["billing", "bug", "praise", "refund"], problem="multi_label_classification",
          prefix="bert.")),
    ("classify-regression-bf16", dict(layers=2, hidden=32, heads=4, inter=64, max_pos=512), "safetensors", "BF16",
     dict(classifier=True, labels=["LABEL_0"], problem="regression", prefix="bert.")),
]


def build_case(work, name, shape, storage, dtype, opts, seed):
    folder = os.path.join(work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    cfg = {
        "model_type": "bert", "vocab_size": 30522, "hidden_size": shape["hidden"],
        "num_hidden_layers": shape["layers"], "num_attention_heads": shape["heads"],
        "intermediate_size": shape["inter"], "max_position_embeddings": shape["max_pos"],
        "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu",
        "architectures": ["BertForSequenceClassification" if opts["classifier"] else "BertModel"],
    }
    labels = opts.get("labels", [])
    if labels:
        cfg["id2label"] = {str(i): l for i, l in enumerate(labels)}
        cfg["label2id"] = {l: i for i, l in enumerate(labels)}
    if "problem" in opts:
        cfg["problem_type"] = opts["problem"]
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    shutil.copy(VOCAB, os.path.join(folder, "vocab.txt"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": shape["max_pos"]}, f)
    if "pooling" in opts:
        os.makedirs(os.path.join(folder, "1_Pooling"))
        with open(os.path.join(folder, "1_Pooling/config.json"), "w") as f:
            json.dump({"word_embedding_dimension": shape["hidden"], "pooling_mode_cls_token": opts["pooling"] == "cls",
                       "pooling_mode_mean_tokens": opts["pooling"] == "mean"}, f)
    sd = make_state(cfg, seed, opts["classifier"], len(labels))
    if opts.get("no_pooler"):
        del sd["pooler.dense.weight"], sd["pooler.dense.bias"]
    files = {}
    for key, value in sd.items():
        out = key
        if opts.get("prefix") and not key.startswith("classifier."):
            out = opts["prefix"] + key
        if opts.get("gamma_beta") and "LayerNorm" in key:
            out = out.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        files[out] = value
    if opts.get("position_ids"):
        files["embeddings.position_ids"] = torch.arange(shape["max_pos"]).view(1, -1)
    kind = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    if storage == "safetensors":
        write_safetensors(os.path.join(folder, "model.safetensors"), files, dtype)
    elif storage == "sharded":
        names = sorted(files)
        half = len(names) // 2
        weight_map = {}
        for shard, part in (("model-00001-of-00002.safetensors", names[:half]),
                            ("model-00002-of-00002.safetensors", names[half:])):
            write_safetensors(os.path.join(folder, shard), {k: files[k] for k in part}, dtype)
            weight_map.update({k: shard for k in part})
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f)
    else:
        torch.save({k: v.to(kind) if v.is_floating_point() else v for k, v in files.items()},
                   os.path.join(folder, "pytorch_model.bin"))
    return folder, cfg, sd


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd)} failed:\n{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def close(got, want, rel):
    scale = max(float(want.abs().max()), 1e-6)
    diff = float((torch.tensor(got, dtype=torch.float64) - want).abs().max())
    return diff / scale, diff <= rel * scale


def main():
    modelgate, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    inputs = os.path.join(work, "texts.jsonl")
    with open(inputs, "w") as f:
        for text, pair in zip(TEXTS, PAIRS):
            f.write(json.dumps({"text": text, **({"text_pair": pair} if pair else {})}) + "\n")
    failures, checks = 0, 0
    for seed, (name, shape, storage, dtype, opts) in enumerate(CASES):
        folder, cfg, sd = build_case(work, name, shape, storage, dtype, opts, seed + 1)
        encodings = run([modelgate, "tokenize", "--model", folder, "--input", inputs,
                         "--max-length", str(shape["max_pos"])])
        weights = stored(sd, dtype)
        if opts["classifier"]:
            got = run([modelgate, "classify", "--model", folder, "--input", inputs, "--batch-size", "3"])
        else:
            cmd = [modelgate, "embed", "--model", folder, "--input", inputs, "--batch-size", "4"]
            if opts.get("normalize"):
                cmd.append("--normalize")
            got = run(cmd)
        worst = 0.0
        worst_storage = 0.0
        for index, enc in enumerate(encodings):
            outputs = []
            for w in (weights, sd):
                hidden = reference_forward(w, cfg, enc["ids"], enc["type_ids"])
                if opts["classifier"]:
                    pooled = torch.tanh(hidden[0] @ w["pooler.dense.weight"].T + w["pooler.dense.bias"])
                    logits = pooled @ w["classifier.weight"].T + w["classifier.bias"]
                    problem = cfg.get("problem_type", "single_label_classification")
                    if problem == "multi_label_classification":
                        out = torch.sigmoid(logits)
                    elif problem == "regression":
                        out = logits
                    else:
                        out = torch.softmax(logits, -1)
                else:
                    out = hidden[0] if opts["pooling"] == "cls" else hidden.mean(0)
                    if opts.get("normalize"):
                        out = out / out.norm()
                outputs.append(out)
            if opts["classifier"]:
                labels = opts["labels"]
                values = [got[index]["scores"][l] for l in labels]
            else:
                values = got[index]["embedding"]
            err, ok = close(values, outputs[0], 1e-4)
            err_storage, ok_storage = close(values, outputs[1], {"F32": 1e-4, "F16": 5e-3, "BF16": 3e-2}[dtype])
            worst, worst_storage = max(worst, err), max(worst_storage, err_storage)
            checks += 1
            if not ok or not ok_storage:
                failures += 1
                print(f"FAIL {name} text {index}: error {err:.2e} vs stored weights, {err_storage:.2e} vs F32 original")
        print(f"{name}: {len(encodings)} texts, max relative error {worst:.2e} (vs {dtype} weights), "
              f"{worst_storage:.2e} (vs F32 original)")
    print(f"{checks - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
