#!/usr/bin/python3
"""modelgate's ModernBERT against a reference implementation in PyTorch.

The reference is written here from the architecture's definition, as Hugging
Face's `modernbert` implements it, and runs in float64: token embeddings and
LayerNorm (no position or type embeddings); pre-LayerNorm layers (attn_norm,
the identity in layer 0; fused Wqkv; rotary embeddings on the query and key
halves, theta global_rope_theta in global layers and local_rope_theta in
sliding-window ones; a sliding-window layer lets token i attend to token j
only when |i - j| <= local_attention // 2; Wo; residual; mlp_norm, Wi split
into input and gate, gelu(input) * gate, Wo; residual); final_norm. Layer i
is global when i % global_attn_every_n_layers == 0, or as layer_types says.
Classifier: pooling (first token, or the mean), head.dense, the
classifier_activation, head.norm, classifier.

The script builds tiny random-weight checkpoints with the real Hugging Face
tensor names and config.json keys (safetensors F32 and BF16, pytorch_model.bin
F16, with and without the "model." prefix, with and without biases), windows
much shorter than the texts, asks `modelgate tokenize` for the token ids of a
set of texts (pairs, a long one that is truncated, an empty one), computes the
reference outputs from those ids, runs `modelgate embed` / `classify`, and
compares with the other families' tolerance: |modelgate - reference| <= 1e-4
* max|reference| against the stored (rounded) weights, plus the storage
rounding bound against the F32 original. It then checks that what is not
supported (other settings, an adapter on another module than Wqkv) is refused
with a message naming it.

usage: /usr/bin/python3 tests/model/modernbert_vs_torch.py MODELGATE_BINARY WORK_DIR
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_vs_torch import close, run, stored, write_safetensors  # noqa: E402
from families_vs_torch import PAIRS, TEXTS, rnd_factory  # noqa: E402

import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VOCAB_DIR = os.path.join(ROOT, "tests/data/vocab/ModernBERT-large")
VOCAB_SIZE = 50368


def modernbert_config(shape, opts):
    cfg = {
        "model_type": "modernbert", "vocab_size": VOCAB_SIZE, "hidden_size": shape["hidden"],
        "num_hidden_layers": shape["layers"], "num_attention_heads": shape["heads"],
        "intermediate_size": shape["inter"], "max_position_embeddings": shape["max_pos"],
        "hidden_activation": "gelu", "norm_eps": 1e-5, "norm_bias": opts.get("bias", False),
        "attention_bias": opts.get("bias", False), "mlp_bias": opts.get("bias", False),
        "classifier_bias": opts.get("bias", False), "global_rope_theta": 160000.0,
        "local_rope_theta": 10000.0, "global_attn_every_n_layers": shape["every"],
        "local_attention": shape["window"], "pad_token_id": 50283, "bos_token_id": 50281,
        "eos_token_id": 50282, "cls_token_id": 50281, "sep_token_id": 50282,
        "classifier_pooling": opts.get("classifier_pooling", "cls"),
        "classifier_activation": opts.get("classifier_activation", "gelu"),
        "classifier_dropout": 0.0, "embedding_dropout": 0.0, "attention_dropout": 0.0, "mlp_dropout": 0.0,
        "position_embedding_type": "absolute", "tie_word_embeddings": True,
        "architectures": ["ModernBertForSequenceClassification" if opts["classifier"] else "ModernBertModel"],
    }
    if opts.get("layer_types"):  # the newer spelling of the same pattern
        cfg["layer_types"] = ["full_attention" if i % shape["every"] == 0 else "sliding_attention"
                              for i in range(shape["layers"])]
        cfg["rope_parameters"] = {"full_attention": {"rope_type": "default", "rope_theta": 160000.0},
                                  "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}
        del cfg["global_attn_every_n_layers"], cfg["global_rope_theta"], cfg["local_rope_theta"]
    return cfg


def modernbert_state(cfg, seed, classifier, labels):
    """ModernBertFor* state dict (encoder names under model.)."""
    rnd = rnd_factory(seed)
    h, inter = cfg["hidden_size"], cfg["intermediate_size"]
    bias = cfg["norm_bias"]
    sd = {"model.embeddings.tok_embeddings.weight": rnd(cfg["vocab_size"], h, scale=1.0)}

    def norm(name):
        sd[name + ".weight"] = 1 + rnd(h, scale=0.1)
        if bias:
            sd[name + ".bias"] = rnd(h, scale=0.1)

    def linear(name, out, inp, with_bias):
        sd[name + ".weight"] = rnd(out, inp, scale=0.2)
        if with_bias:
            sd[name + ".bias"] = rnd(out, scale=0.05)

    norm("model.embeddings.norm")
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        if i > 0:
            norm(p + "attn_norm")
        linear(p + "attn.Wqkv", 3 * h, h, cfg["attention_bias"])
        linear(p + "attn.Wo", h, h, cfg["attention_bias"])
        norm(p + "mlp_norm")
        linear(p + "mlp.Wi", 2 * inter, h, cfg["mlp_bias"])
        linear(p + "mlp.Wo", h, inter, cfg["mlp_bias"])
    norm("model.final_norm")
    if classifier:
        linear("head.dense", h, h, cfg["classifier_bias"])
        norm("head.norm")
        linear("classifier", labels, h, True)
    return sd


def layer_norm(x, sd, name, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    y = (x - mean) / torch.sqrt(var + eps) * sd[name + ".weight"]
    return y + sd[name + ".bias"] if name + ".bias" in sd else y


def linear(sd, name, x):
    y = x @ sd[name + ".weight"].T
    return y + sd[name + ".bias"] if name + ".bias" in sd else y


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), -1)


def layer_is_sliding(cfg, i):
    if "layer_types" in cfg:
        return cfg["layer_types"][i] == "sliding_attention"
    return i % cfg["global_attn_every_n_layers"] != 0


def modernbert_forward(sd, cfg, ids):
    eps = cfg["norm_eps"]
    h, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    hd = h // heads
    ids = torch.tensor(ids, dtype=torch.long)
    length = len(ids)
    x = layer_norm(sd["model.embeddings.tok_embeddings.weight"][ids], sd, "model.embeddings.norm", eps)
    positions = torch.arange(length, dtype=torch.float64)
    distance = (positions[:, None] - positions[None, :]).abs()
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        sliding = layer_is_sliding(cfg, i)
        if "rope_parameters" in cfg:
            theta = cfg["rope_parameters"]["sliding_attention" if sliding else "full_attention"]["rope_theta"]
        else:
            theta = cfg["local_rope_theta"] if sliding else cfg["global_rope_theta"]
        a = x if i == 0 else layer_norm(x, sd, p + "attn_norm", eps)
        qkv = linear(sd, p + "attn.Wqkv", a).view(length, 3, heads, hd).transpose(0, 2)  # [heads, 3, L, hd]
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        freqs = positions[:, None] * inv_freq[None, :]
        angles = torch.cat((freqs, freqs), -1)
        cos, sin = angles.cos(), angles.sin()
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = q @ k.transpose(1, 2) / hd ** 0.5
        if sliding:
            scores = scores.masked_fill(distance > cfg["local_attention"] // 2, float("-inf"))
        ctx = (torch.softmax(scores, -1) @ v).transpose(0, 1).reshape(length, h)
        x = x + linear(sd, p + "attn.Wo", ctx)
        wi = linear(sd, p + "mlp.Wi", layer_norm(x, sd, p + "mlp_norm", eps))
        inp, gate = wi.chunk(2, dim=-1)
        x = x + linear(sd, p + "mlp.Wo", torch.nn.functional.gelu(inp) * gate)
    return layer_norm(x, sd, "model.final_norm", eps)


def modernbert_logits(sd, cfg, hidden):
    pooled = hidden.mean(0) if cfg["classifier_pooling"] == "mean" else hidden[0]
    act = {"gelu": torch.nn.functional.gelu, "tanh": torch.tanh, "relu": torch.relu}[cfg["classifier_activation"]]
    head = layer_norm(act(linear(sd, "head.dense", pooled)), sd, "head.norm", cfg["norm_eps"])
    return linear(sd, "classifier", head)


# name, shape, storage, dtype, options
CASES = [
    ("modernbert-embed-f32-safetensors",
     dict(layers=4, hidden=32, heads=4, inter=48, every=3, window=16, max_pos=512), "safetensors", "F32",
     dict(classifier=False, pooling="mean")),
    ("modernbert-embed-cls-bf16-unprefixed-biases",
     dict(layers=3, hidden=48, heads=3, inter=64, every=2, window=8, max_pos=64), "safetensors", "BF16",
     dict(classifier=False, pooling="cls", strip_prefix=True, normalize=True, bias=True)),
    ("modernbert-embed-f16-bin-layer-types",
     dict(layers=5, hidden=32, heads=2, inter=40, every=2, window=6, max_pos=512), "bin", "F16",
     dict(classifier=False, pooling="mean", layer_types=True)),
    ("modernbert-classify-cls-gelu-f32",
     dict(layers=4, hidden=32, heads=4, inter=48, every=3, window=16, max_pos=512), "safetensors", "F32",
     dict(classifier=True, labels=["negative", "neutral", "positive"])),
    ("modernbert-classify-mean-tanh-bf16-multilabel",
     dict(layers=3, hidden=32, heads=4, inter=48, every=3, window=10, max_pos=128), "safetensors", "BF16",
     dict(classifier=True, labels=["billing", "bug", "praise", "refund"], problem="multi_label_classification",
          classifier_pooling="mean", classifier_activation="tanh", bias=True)),
]


def build_case(work, name, shape, storage, dtype, opts, seed):
    folder = os.path.join(work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    labels = opts.get("labels", [])
    cfg = modernbert_config(shape, opts)
    for file in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(os.path.join(VOCAB_DIR, file), os.path.join(folder, file))
    if labels:
        cfg["id2label"] = {str(i): label for i, label in enumerate(labels)}
        cfg["label2id"] = {label: i for i, label in enumerate(labels)}
    if "problem" in opts:
        cfg["problem_type"] = opts["problem"]
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    if "pooling" in opts:
        os.makedirs(os.path.join(folder, "1_Pooling"))
        with open(os.path.join(folder, "1_Pooling/config.json"), "w") as f:
            json.dump({"word_embedding_dimension": shape["hidden"], "pooling_mode_cls_token": opts["pooling"] == "cls",
                       "pooling_mode_mean_tokens": opts["pooling"] == "mean"}, f)
    sd = modernbert_state(cfg, seed, opts["classifier"], len(labels))
    files = {}
    for key, value in sd.items():
        out = key[len("model."):] if opts.get("strip_prefix") and key.startswith("model.") else key
        files[out] = value
    kind = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    if storage == "safetensors":
        write_safetensors(os.path.join(folder, "model.safetensors"), files, dtype)
    else:
        torch.save({k: v.to(kind) for k, v in files.items()}, os.path.join(folder, "pytorch_model.bin"))
    return folder, cfg, sd


def outputs_for(sd, cfg, opts, ids):
    hidden = modernbert_forward(sd, cfg, ids)
    if opts["classifier"]:
        logits = modernbert_logits(sd, cfg, hidden)
        problem = cfg.get("problem_type", "single_label_classification")
        if problem == "multi_label_classification":
            return torch.sigmoid(logits)
        return logits if problem == "regression" else torch.softmax(logits, -1)
    out = hidden[0] if opts["pooling"] == "cls" else hidden.mean(0)
    return out / out.norm() if opts.get("normalize") else out


def check_refusals(modelgate, work, inputs):
    """Settings the engine does not implement are refused by name."""
    base = os.path.join(work, "modernbert-embed-f32-safetensors")
    failures = 0
    for key, value, words in (("classifier_pooling", "max", "classifier_pooling"),
                              ("hidden_activation", "silu", "hidden_activation"),
                              ("classifier_activation", "sigmoid", "classifier_activation"),
                              ("layer_types", ["full_attention"], "layer_types"),
                              ("rope_parameters", {"full_attention": {"rope_type": "yarn", "rope_theta": 1.0}},
                               "rope_type")):
        folder = os.path.join(work, f"refuse-{key}")
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base, folder)
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        cfg[key] = value
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(cfg, f)
        result = subprocess.run([modelgate, "embed", "--model", folder, "--input", inputs],
                                capture_output=True, text=True)
        if result.returncode == 0 or words not in result.stderr:
            failures += 1
            print(f"FAIL {key}={value!r}: exit {result.returncode}, stderr {result.stderr.strip()[:200]!r}")
        else:
            print(f"refused {key}={value!r}: {result.stderr.strip().splitlines()[-1][:160]}")
    # Training, LoRA included, works (tests/train/families_finetune_test.py);
    # an adapter on another module than the fused Wqkv is refused by name.
    adapted = os.path.join(work, "adapter-on-wo")
    shutil.rmtree(adapted, ignore_errors=True)
    shutil.copytree(base, adapted)
    with open(os.path.join(adapted, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["Wo"]}, f)
    write_safetensors(os.path.join(adapted, "adapter_model.safetensors"),
                      {"base_model.model.model.layers.0.attn.Wo.lora_A.weight": torch.zeros(2, 32)}, "F32")
    result = subprocess.run([modelgate, "embed", "--model", adapted, "--input", inputs],
                            capture_output=True, text=True)
    if result.returncode == 0 or "Wqkv" not in result.stderr:
        failures += 1
        print(f"FAIL adapter on Wo: exit {result.returncode}, stderr {result.stderr.strip()[:200]!r}")
    else:
        print(f"refused adapter on Wo: {result.stderr.strip().splitlines()[-1][:160]}")
    return failures


def check_releases(modelgate, work, inputs):
    """Open, closed and hybrid releases of a ModernBERT classifier answer exactly
    as its folder does, the hybrid base holds no head tensor, and releases
    stored in int8 or bf16 answer exactly as the folder does in that precision."""
    folder = os.path.join(work, "modernbert-classify-cls-gelu-f32")
    rel = os.path.join(work, "releases")
    shutil.rmtree(rel, ignore_errors=True)
    os.makedirs(rel)
    vendor, deploy = os.path.join(rel, "vendor"), os.path.join(rel, "deploy")

    def mg(*args):
        result = subprocess.run([modelgate, *args], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"FAIL modelgate {' '.join(args[:2])}: {result.stderr.strip()[:300]}")
        return result

    mg("keygen", "--out", vendor)
    mg("keygen", "--out", deploy, "--type", "deploy")
    sign = ["--sign", vendor + ".key"]
    mg("release", "open", "--model", folder, "--out", os.path.join(rel, "open"), "--license", "MIT", *sign)
    mg("release", "closed", "--model", folder, "--out", os.path.join(rel, "closed.mgb"),
       "--to", deploy + ".pub", *sign)
    mg("release", "hybrid", "--model", folder, "--base-out", os.path.join(rel, "base"),
       "--head-out", os.path.join(rel, "head.mgb"), "--to", deploy + ".pub", "--license", "MIT", *sign)
    want = mg("classify", "--model", folder, "--input", inputs).stdout
    pub = ["--vendor-pub", vendor + ".pub"]

    def same_answers(sources, expected, what):
        """How many of the releases in `sources` classify other than `expected`."""
        wrong = 0
        for name, source in sources:
            got = mg("classify", *source, *pub, "--input", inputs).stdout
            if not expected or got != expected:
                wrong += 1
                print(f"FAIL {name} {what}release of ModernBERT: classify differs from the folder's")
            else:
                print(f"{name} {what}release of ModernBERT classifies as its folder does")
        return wrong

    failures = same_answers((("open", ["--model", os.path.join(rel, "open")]),
                             ("closed", ["--model", os.path.join(rel, "closed.mgb"), "--key", deploy + ".key"]),
                             ("hybrid", ["--model", os.path.join(rel, "head.mgb"), "--base",
                                         os.path.join(rel, "base"), "--key", deploy + ".key"])), want, "")
    with open(os.path.join(rel, "base", "model.safetensors"), "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    leaked = [k for k in header if k.startswith(("head.", "classifier.", "model.head."))]
    if leaked:
        failures += 1
        print(f"FAIL the hybrid base holds head tensors: {leaked}")
    # Releases validated in int8 or bf16 store the linear layers (Wqkv, Wo, Wi, Wo)
    # in it and classify exactly as the folder does in that precision.
    labelled = os.path.join(rel, "labelled.jsonl")
    with open(labelled, "w") as f:
        for line, row in zip(open(inputs), want.splitlines()):
            f.write(json.dumps({**json.loads(line), "label": json.loads(row)["label"]}) + "\n")
    linear = [k for k in json.loads(header_of(os.path.join(folder, "model.safetensors")))
              if k.endswith(("attn.Wqkv.weight", "attn.Wo.weight", "mlp.Wi.weight", "mlp.Wo.weight"))]
    for dtype, stored_as in (("int8", "I8"), ("bf16", "BF16")):
        out = os.path.join(rel, "open-" + dtype)
        mg("release", "open", "--model", folder, "--out", out, "--license", "MIT", "--dtype", dtype,
           "--validate", labelled, *sign)
        mg("release", "closed", "--model", folder, "--out", out + ".mgb", "--to", deploy + ".pub",
           "--dtype", dtype, "--validate", labelled, *sign)
        want_low = mg("classify", "--model", folder, "--input", inputs, "--dtype", dtype).stdout
        failures += same_answers((("open", ["--model", out]),
                                  ("closed", ["--model", out + ".mgb", "--key", deploy + ".key"])),
                                 want_low, dtype + " ")
        stored = json.loads(header_of(os.path.join(out, "model.safetensors")))
        wrong = [k for k in linear if stored.get(k, {}).get("dtype") != stored_as]
        if not linear or wrong:
            failures += 1
            print(f"FAIL the {dtype} release stores {wrong or 'no linear layers'} not as {stored_as}")
    return failures


def header_of(path):
    with open(path, "rb") as f:
        return f.read(struct.unpack("<Q", f.read(8))[0])


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def main():
    modelgate, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    inputs = os.path.join(work, "texts.jsonl")
    with open(inputs, "w") as f:
        for text, pair in zip(TEXTS, PAIRS):
            f.write(json.dumps({"text": text, **({"text_pair": pair} if pair else {})}) + "\n")
    failures, checks = 0, 0
    for seed, (name, shape, storage, dtype, opts) in enumerate(CASES):
        folder, cfg, sd = build_case(work, name, shape, storage, dtype, opts, seed + 31)
        limit = min(shape["max_pos"], 512)
        encodings = run([modelgate, "tokenize", "--model", folder, "--input", inputs, "--max-length", str(limit)])
        if not any(len(enc["ids"]) == limit for enc in encodings):
            failures += 1
            print(f"FAIL {name}: no text reached the {limit}-token limit")
        if not any(len(enc["ids"]) - 1 > shape["window"] // 2 for enc in encodings):
            failures += 1
            print(f"FAIL {name}: no text is longer than the sliding window")
        weights = stored(sd, dtype)
        if opts["classifier"]:
            got = run([modelgate, "classify", "--model", folder, "--input", inputs, "--batch-size", "3"])
        else:
            cmd = [modelgate, "embed", "--model", folder, "--input", inputs, "--batch-size", "4"]
            if opts.get("normalize"):
                cmd.append("--normalize")
            got = run(cmd)
        worst, worst_storage = 0.0, 0.0
        for index, enc in enumerate(encodings):
            want = outputs_for(weights, cfg, opts, enc["ids"])
            want_original = outputs_for(sd, cfg, opts, enc["ids"])
            if opts["classifier"]:
                values = [got[index]["scores"][label] for label in opts["labels"]]
            else:
                values = got[index]["embedding"]
            err, ok = close(values, want, 1e-4)
            # The pre-LayerNorm residual stream carries rounding through every layer
            # unnormalised, so BF16 storage drifts more than in the post-LayerNorm families.
            err_storage, ok_storage = close(values, want_original, {"F32": 1e-4, "F16": 5e-3, "BF16": 6e-2}[dtype])
            worst, worst_storage = max(worst, err), max(worst_storage, err_storage)
            checks += 1
            if not ok or not ok_storage:
                failures += 1
                print(f"FAIL {name} text {index}: error {err:.2e} vs stored weights, {err_storage:.2e} vs F32 original")
        print(f"{name}: {len(encodings)} texts, max relative error {worst:.2e} (vs {dtype} weights), "
              f"{worst_storage:.2e} (vs F32 original)")
        if not opts["classifier"]:
            # Low-precision engines (--dtype) on the same model: cosine to the F32 engine.
            for engine_dtype, floor in (("bf16", 0.999), ("int8", 0.99)):
                low = run(cmd + ["--dtype", engine_dtype])
                cosines = [cosine(a["embedding"], b["embedding"]) for a, b in zip(got, low)]
                checks += 1
                if len(low) != len(got) or min(cosines) < floor:
                    failures += 1
                    print(f"FAIL {name} --dtype {engine_dtype}: min cosine {min(cosines):.6f} < {floor}")
                else:
                    print(f"{name} --dtype {engine_dtype}: min cosine to F32 {min(cosines):.6f}")
    failures += check_refusals(modelgate, work, inputs)
    failures += check_releases(modelgate, work, inputs)
    checks += 10
    print(f"{checks - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
