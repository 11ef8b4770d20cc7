#!/usr/bin/python3
"""modelgate's DistilBERT and RoBERTa (XLM-RoBERTa, CamemBERT) against
reference implementations in PyTorch.

The references are written here from each architecture's definition, as
Hugging Face implements it, and run in float64:
  DistilBERT (Sanh et al. 2019): word + position embeddings (no token types),
    LayerNorm; post-LayerNorm layers (q_lin/k_lin/v_lin, out_lin,
    sa_layer_norm, ffn.lin1 GELU ffn.lin2, output_layer_norm); classifier:
    pre_classifier, ReLU, classifier on the first token.
  RoBERTa (Liu et al. 2019): BERT's layers; position ids count the
    non-padding tokens from padding_idx + 1 (padding tokens sit at
    padding_idx); one token type; classification head on <s>: dense, tanh,
    out_proj.
The script builds tiny random-weight checkpoints with the real Hugging Face
tensor names and config.json keys, in every storage variant modelgate reads
(safetensors F32/F16/BF16, sharded safetensors, pytorch_model.bin; with and
without the family prefix), asks `modelgate tokenize` for the token ids of a
set of texts (pairs, a long one that is truncated, an empty one), computes
the reference outputs from those ids, runs `modelgate embed` / `classify`,
and compares with bert_vs_torch.py's tolerance: |modelgate - reference| <=
1e-4 * max|reference| against the stored (rounded) weights, plus the storage
rounding bound against the F32 original.

usage: /usr/bin/python3 tests/model/families_vs_torch.py MODELGATE_BINARY WORK_DIR
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_vs_torch import (attention_block, close, layer_norm, make_state, reference_forward, run,  # noqa: E402
                           stored, write_safetensors)

import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORDPIECE = os.path.join(ROOT, "tests/data/vocab/bert-base-uncased/vocab.txt")
BPE_DIR = os.path.join(ROOT, "tests/data/vocab/roberta-base")
TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Customer reports that the refund for order #1234 never arrived!",
    "",
    "Stocks rallied after the central bank held rates steady; analysts expect cuts in 2025. " * 30,
    "a",
    "Café déjà vu — naïve façade, résumé.",
    "padding <pad> inside the text",
]
PAIRS = [None, "billing", None, None, "b", None, "second segment"]


def rnd_factory(seed):
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, scale=0.2):
        return torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    return rnd


def distilbert_state(cfg, seed, classifier, labels):
    """DistilBertFor* state dict (names with the distilbert. prefix)."""
    rnd = rnd_factory(seed)
    h, inter = cfg["dim"], cfg["hidden_dim"]
    sd = {
        "distilbert.embeddings.word_embeddings.weight": rnd(cfg["vocab_size"], h),
        "distilbert.embeddings.position_embeddings.weight": rnd(cfg["max_position_embeddings"], h),
        "distilbert.embeddings.LayerNorm.weight": 1 + rnd(h, scale=0.1),
        "distilbert.embeddings.LayerNorm.bias": rnd(h, scale=0.1),
    }
    for i in range(cfg["n_layers"]):
        p = f"distilbert.transformer.layer.{i}."
        for lin in ("q_lin", "k_lin", "v_lin", "out_lin"):
            sd[p + f"attention.{lin}.weight"] = rnd(h, h)
            sd[p + f"attention.{lin}.bias"] = rnd(h, scale=0.05)
        sd[p + "sa_layer_norm.weight"] = 1 + rnd(h, scale=0.1)
        sd[p + "sa_layer_norm.bias"] = rnd(h, scale=0.1)
        sd[p + "ffn.lin1.weight"] = rnd(inter, h)
        sd[p + "ffn.lin1.bias"] = rnd(inter, scale=0.05)
        sd[p + "ffn.lin2.weight"] = rnd(h, inter)
        sd[p + "ffn.lin2.bias"] = rnd(h, scale=0.05)
        sd[p + "output_layer_norm.weight"] = 1 + rnd(h, scale=0.1)
        sd[p + "output_layer_norm.bias"] = rnd(h, scale=0.1)
    if classifier:
        sd["pre_classifier.weight"] = rnd(h, h)
        sd["pre_classifier.bias"] = rnd(h, scale=0.05)
        sd["classifier.weight"] = rnd(labels, h)
        sd["classifier.bias"] = rnd(labels, scale=0.05)
    return sd


def roberta_state(cfg, seed, classifier, labels):
    """RobertaFor* state dict: BERT's encoder under the roberta. prefix; a
    classifier has RobertaClassificationHead and no pooler."""
    sd = {"roberta." + k: v for k, v in make_state(cfg, seed, False, 0).items()}
    if classifier:  # RobertaForSequenceClassification has no pooler
        del sd["roberta.pooler.dense.weight"], sd["roberta.pooler.dense.bias"]
        rnd = rnd_factory(seed + 1)
        h = cfg["hidden_size"]
        sd["classifier.dense.weight"] = rnd(h, h)
        sd["classifier.dense.bias"] = rnd(h, scale=0.05)
        sd["classifier.out_proj.weight"] = rnd(labels, h)
        sd["classifier.out_proj.bias"] = rnd(labels, scale=0.05)
    return sd


def distilbert_forward(sd, cfg, ids, type_ids):
    del type_ids  # DistilBERT has no token types
    eps = 1e-12
    ids = torch.tensor(ids, dtype=torch.long)
    length = len(ids)
    e = "distilbert.embeddings."
    x = sd[e + "word_embeddings.weight"][ids] + sd[e + "position_embeddings.weight"][:length]
    x = layer_norm(x, sd[e + "LayerNorm.weight"], sd[e + "LayerNorm.bias"], eps)
    for i in range(cfg["n_layers"]):
        p = f"distilbert.transformer.layer.{i}."

        def lin(name, v):
            return v @ sd[p + name + ".weight"].T + sd[p + name + ".bias"]

        ctx = attention_block(x, cfg["n_heads"], lin("attention.q_lin", x), lin("attention.k_lin", x),
                              lin("attention.v_lin", x))
        sa = layer_norm(lin("attention.out_lin", ctx) + x, sd[p + "sa_layer_norm.weight"],
                        sd[p + "sa_layer_norm.bias"], eps)
        ffn = lin("ffn.lin2", torch.nn.functional.gelu(lin("ffn.lin1", sa)))
        x = layer_norm(ffn + sa, sd[p + "output_layer_norm.weight"], sd[p + "output_layer_norm.bias"], eps)
    return x


def distilbert_logits(sd, hidden):
    pre = torch.relu(hidden[0] @ sd["pre_classifier.weight"].T + sd["pre_classifier.bias"])
    return pre @ sd["classifier.weight"].T + sd["classifier.bias"]


def roberta_forward(sd, cfg, ids, type_ids):
    pad = cfg["pad_token_id"]
    mask = (torch.tensor(ids, dtype=torch.long) != pad).long()
    positions = torch.cumsum(mask, 0) * mask + pad  # padding_idx + 1 onwards, pads at padding_idx
    assert len(ids) == 0 or int(positions.max()) < cfg["max_position_embeddings"]
    types = [min(t, cfg["type_vocab_size"] - 1) for t in type_ids]
    return reference_forward(sd, cfg, ids, types, prefix="roberta.", positions=positions)


def roberta_logits(sd, hidden):
    dense = torch.tanh(hidden[0] @ sd["classifier.dense.weight"].T + sd["classifier.dense.bias"])
    return dense @ sd["classifier.out_proj.weight"].T + sd["classifier.out_proj.bias"]


def distilbert_config(shape, classifier):
    return {
        "model_type": "distilbert", "vocab_size": 30522, "dim": shape["hidden"], "n_layers": shape["layers"],
        "n_heads": shape["heads"], "hidden_dim": shape["inter"], "max_position_embeddings": shape["max_pos"],
        "activation": "gelu", "sinusoidal_pos_embds": False, "dropout": 0.1, "attention_dropout": 0.1,
        "pad_token_id": 0, "seq_classif_dropout": 0.2, "tie_weights_": True,
        "architectures": ["DistilBertForSequenceClassification" if classifier else "DistilBertModel"],
    }


def roberta_config(shape, classifier, model_type):
    stem = {"roberta": "Roberta", "xlm-roberta": "XLMRoberta", "camembert": "Camembert"}[model_type]
    return {
        "model_type": model_type, "vocab_size": 50265, "hidden_size": shape["hidden"],
        "num_hidden_layers": shape["layers"], "num_attention_heads": shape["heads"],
        "intermediate_size": shape["inter"], "max_position_embeddings": shape["max_pos"],
        "type_vocab_size": 1, "layer_norm_eps": 1e-5, "hidden_act": "gelu", "pad_token_id": 1,
        "bos_token_id": 0, "eos_token_id": 2,
        "architectures": [stem + ("ForSequenceClassification" if classifier else "Model")],
    }


FAMILIES = {
    "distilbert": dict(state=distilbert_state, forward=distilbert_forward, logits=distilbert_logits,
                       prefix="distilbert.", reserved=lambda cfg: 0),
    "roberta": dict(state=roberta_state, forward=roberta_forward, logits=roberta_logits,
                    prefix="roberta.", reserved=lambda cfg: cfg["pad_token_id"] + 1),
}

# name, family, model_type, shape, storage, dtype, options
CASES = [
    ("distilbert-embed-f32-safetensors", "distilbert", "distilbert",
     dict(layers=2, hidden=32, heads=4, inter=64, max_pos=512), "safetensors", "F32",
     dict(classifier=False, pooling="mean")),
    ("distilbert-embed-cls-bin-unprefixed", "distilbert", "distilbert",
     dict(layers=3, hidden=48, heads=3, inter=96, max_pos=64), "bin", "F32",
     dict(classifier=False, pooling="cls", strip_prefix=True, normalize=True)),
    ("distilbert-classify-single-f16", "distilbert", "distilbert",
     dict(layers=2, hidden=32, heads=4, inter=64, max_pos=512), "safetensors", "F16",
     dict(classifier=True, labels=["negative", "neutral", "positive"])),
    ("distilbert-classify-multilabel-bf16-bin", "distilbert", "distilbert",
     dict(layers=1, hidden=48, heads=4, inter=96, max_pos=128), "bin", "BF16",
     dict(classifier=True, labels=["billing", "bug", "praise", "refund"], problem="multi_label_classification")),
    ("roberta-embed-f32-safetensors", "roberta", "roberta",
     dict(layers=2, hidden=32, heads=4, inter=64, max_pos=514), "safetensors", "F32",
     dict(classifier=False, pooling="mean")),
    ("xlm-roberta-embed-cls-bf16-sharded-unprefixed", "roberta", "xlm-roberta",
     dict(layers=2, hidden=64, heads=8, inter=128, max_pos=514), "sharded", "BF16",
     dict(classifier=False, pooling="cls", strip_prefix=True)),
    ("roberta-classify-single-bin", "roberta", "roberta",
     dict(layers=2, hidden=32, heads=4, inter=64, max_pos=514), "bin", "F32",
     dict(classifier=True, labels=["negative", "positive"], position_ids=True)),
    ("camembert-classify-regression-f16-short", "roberta", "camembert",
     dict(layers=2, hidden=32, heads=2, inter=48, max_pos=40), "safetensors", "F16",
     dict(classifier=True, labels=["LABEL_0"], problem="regression")),
]


def build_case(work, name, family, model_type, shape, storage, dtype, opts, seed):
    folder = os.path.join(work, name)
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    labels = opts.get("labels", [])
    if family == "distilbert":
        cfg = distilbert_config(shape, opts["classifier"])
        shutil.copy(WORDPIECE, os.path.join(folder, "vocab.txt"))
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump({"do_lower_case": True, "model_max_length": shape["max_pos"]}, f)
    else:
        cfg = roberta_config(shape, opts["classifier"], model_type)
        for file in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"):
            shutil.copy(os.path.join(BPE_DIR, file), os.path.join(folder, file))
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
    spec = FAMILIES[family]
    sd = spec["state"](cfg, seed, opts["classifier"], len(labels))
    files = {}
    for key, value in sd.items():
        out = key[len(spec["prefix"]):] if opts.get("strip_prefix") and key.startswith(spec["prefix"]) else key
        files[out] = value
    if opts.get("position_ids"):
        files[spec["prefix"] + "embeddings.position_ids"] = torch.arange(shape["max_pos"]).view(1, -1)
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


def main():
    modelgate, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    inputs = os.path.join(work, "texts.jsonl")
    with open(inputs, "w") as f:
        for text, pair in zip(TEXTS, PAIRS):
            f.write(json.dumps({"text": text, **({"text_pair": pair} if pair else {})}) + "\n")
    failures, checks = 0, 0
    for seed, (name, family, model_type, shape, storage, dtype, opts) in enumerate(CASES):
        spec = FAMILIES[family]
        folder, cfg, sd = build_case(work, name, family, model_type, shape, storage, dtype, opts, seed + 11)
        max_tokens = shape["max_pos"] - spec["reserved"](cfg)
        encodings = run([modelgate, "tokenize", "--model", folder, "--input", inputs,
                         "--max-length", str(min(max_tokens, 512))])
        if not any(len(enc["ids"]) == min(max_tokens, 512) for enc in encodings):
            failures += 1
            print(f"FAIL {name}: no text reached the {min(max_tokens, 512)}-token limit")
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
            outputs = []
            for w in (weights, sd):
                hidden = spec["forward"](w, cfg, enc["ids"], enc["type_ids"])
                if opts["classifier"]:
                    logits = spec["logits"](w, hidden)
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
                values = [got[index]["scores"][label] for label in opts["labels"]]
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
