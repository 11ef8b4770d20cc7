#!/usr/bin/python3
"""The output watermark's whole chain, as an attacker and the vendor run it.

1. The vendor's embedding model (a BERT with random weights and a vocabulary
   of the scenario corpus) is served twice: with `--watermark-key` (the API
   under attack) and without (the clean API, for comparison).
2. The attacker sends the scenario corpus (examples/*/data) to the API and
   distils a student in PyTorch: a small BERT of its own shape, trained from
   scratch to regress the API's normalised embeddings (MSE on unit vectors,
   i.e. cosine). A second student is distilled the same way from the clean
   API: a model not distilled from the watermarked one.
3. Each student is served by `modelgate serve` and the vendor runs
   `modelgate trace --endpoint URL --watermark KEY` on it.

Checks: the watermarked student is found at p < 1e-6, the clean student is
not (p > 0.01); the watermark leaves the API's embeddings of texts without
triggers exactly as they were and moves the corpus's embeddings and a
retrieval metric by at most 0.5 point (1 point for recall@10, whose step is
0.17 point); /info does not reveal it. The key's secret is fixed (--secret),
so a run is reproducible; which words become triggers follows from it, and
the quality figures vary from key to key (bench/watermark.sh measures them
over several keys with --quality-only). Figures are printed as
`figure NAME VALUE` lines (bench/watermark.sh collects them).

usage: /usr/bin/python3 tests/serve/watermark_chain.py MODELGATE WORK_DIR [--shape small|bench]
           [--secret HEX] [--triggers N] [--threshold N] [--quality-only]
"""
import argparse
import glob
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time

try:
    import torch
except ImportError:
    sys.exit("error: PyTorch is not importable by /usr/bin/python3 (apt-get install python3-torch)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_harness import Checks, Server, make_classifier  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_LENGTH = 64

# teacher: the vendor's model; student: the attacker's (its own depth and
# feed-forward width; its embedding width is the API's, which it regresses).
SHAPES = {
    "small": dict(teacher=dict(hidden=64, layers=2, heads=4, inter=128),
                  student=dict(hidden=64, layers=1, heads=4, inter=128),
                  epochs=25, probes=100),
    "bench": dict(teacher=dict(hidden=256, layers=4, heads=4, inter=1024),
                  student=dict(hidden=256, layers=2, heads=4, inter=512),
                  epochs=40, probes=300),
}


def corpus_texts():
    texts = []
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "*", "data", "*.jsonl"))):
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    text = record.get("text") or record.get("query")
                    if text:
                        texts.append(text)
    return texts


def make_vocab(texts):
    words = set()
    for text in texts:
        words.update(re.findall(r"[a-z]+|[0-9]+", text.lower()))
    chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789") | set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"))
    pieces = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    return SPECIALS + chars + pieces + sorted(words - set(chars))


def config(shape, vocab_size):
    return {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": shape["hidden"],
            "num_hidden_layers": shape["layers"], "num_attention_heads": shape["heads"],
            "intermediate_size": shape["inter"], "vocab_size": vocab_size,
            "max_position_embeddings": MAX_LENGTH, "type_vocab_size": 2, "hidden_act": "gelu",
            "layer_norm_eps": 1e-12, "pad_token_id": 0}


class Encoder(torch.nn.Module):
    """A post-LayerNorm BERT encoder with mean pooling, its parameters named
    as Hugging Face's BertModel names them."""

    def __init__(self, cfg):
        super().__init__()
        h, inter = cfg["hidden_size"], cfg["intermediate_size"]
        self.cfg = cfg
        self.word = torch.nn.Embedding(cfg["vocab_size"], h)
        self.position = torch.nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type = torch.nn.Embedding(cfg["type_vocab_size"], h)
        self.norm = torch.nn.LayerNorm(h, eps=cfg["layer_norm_eps"])
        self.layers = torch.nn.ModuleList()
        for _ in range(cfg["num_hidden_layers"]):
            self.layers.append(torch.nn.ModuleDict({
                "query": torch.nn.Linear(h, h), "key": torch.nn.Linear(h, h),
                "value": torch.nn.Linear(h, h), "attention_out": torch.nn.Linear(h, h),
                "attention_norm": torch.nn.LayerNorm(h, eps=cfg["layer_norm_eps"]),
                "intermediate": torch.nn.Linear(h, inter), "output": torch.nn.Linear(inter, h),
                "output_norm": torch.nn.LayerNorm(h, eps=cfg["layer_norm_eps"])}))

    def forward(self, ids, mask):
        batch, length = ids.shape
        heads = self.cfg["num_attention_heads"]
        head_dim = self.cfg["hidden_size"] // heads
        positions = torch.arange(length).unsqueeze(0).expand(batch, length)
        x = self.norm(self.word(ids) + self.position(positions) + self.token_type(torch.zeros_like(ids)))
        bias = (1.0 - mask[:, None, None, :].float()) * -1e9
        for layer in self.layers:
            def split(t):
                return t.view(batch, length, heads, head_dim).transpose(1, 2)
            scores = split(layer["query"](x)) @ split(layer["key"](x)).transpose(-1, -2) / math.sqrt(head_dim)
            context = (torch.softmax(scores + bias, dim=-1) @ split(layer["value"](x)))
            context = context.transpose(1, 2).reshape(batch, length, -1)
            x = layer["attention_norm"](layer["attention_out"](context) + x)
            x = layer["output_norm"](layer["output"](torch.nn.functional.gelu(layer["intermediate"](x))) + x)
        weights = mask.unsqueeze(-1).float()
        return (x * weights).sum(1) / weights.sum(1)

    def hf_state(self):
        sd = {"embeddings.word_embeddings.weight": self.word.weight,
              "embeddings.position_embeddings.weight": self.position.weight,
              "embeddings.token_type_embeddings.weight": self.token_type.weight,
              "embeddings.LayerNorm.weight": self.norm.weight,
              "embeddings.LayerNorm.bias": self.norm.bias}
        names = {"query": "attention.self.query", "key": "attention.self.key",
                 "value": "attention.self.value", "attention_out": "attention.output.dense",
                 "attention_norm": "attention.output.LayerNorm", "intermediate": "intermediate.dense",
                 "output": "output.dense", "output_norm": "output.LayerNorm"}
        for index, layer in enumerate(self.layers):
            for ours, theirs in names.items():
                sd[f"encoder.layer.{index}.{theirs}.weight"] = layer[ours].weight
                sd[f"encoder.layer.{index}.{theirs}.bias"] = layer[ours].bias
        return {k: v.detach().float().contiguous() for k, v in sd.items()}


def write_folder(path, model, vocab):
    os.makedirs(path, exist_ok=True)
    tensors = model.hf_state()
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        raw = tensor.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(path, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(model.cfg, f)
    with open(os.path.join(path, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": MAX_LENGTH, "tokenizer_class": "BertTokenizer"}, f)


def run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def embed(server, texts, batch=32):
    rows = []
    for start in range(0, len(texts), batch):
        status, _, body = server.request("POST", "/embed", {"inputs": texts[start:start + batch], "normalize": True})
        if status != 200:
            raise RuntimeError(f"/embed answered {status}: {body[:200]}")
        rows.extend(json.loads(body))
    return torch.tensor(rows, dtype=torch.float64)


def tokenize(modelgate, model_dir, texts, work):
    path = os.path.join(work, "queries.jsonl")
    with open(path, "w") as f:
        for text in texts:
            f.write(json.dumps({"text": text}) + "\n")
    out = run([modelgate, "tokenize", "--model", model_dir, "--input", path, "--max-length", str(MAX_LENGTH)])
    return [json.loads(line)["ids"] for line in out.splitlines() if line.strip()]


def distil(ids, targets, shape, vocab, epochs, seed):
    """The attacker's student, trained to regress the API's unit embeddings."""
    torch.manual_seed(seed)
    student = Encoder(config(shape, len(vocab)))
    optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3, weight_decay=0.0)
    order = list(range(len(ids)))
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        permutation = torch.randperm(len(order), generator=generator).tolist()
        total = 0.0
        for start in range(0, len(permutation), 32):
            chosen = permutation[start:start + 32]
            length = max(len(ids[i]) for i in chosen)
            batch_ids = torch.zeros(len(chosen), length, dtype=torch.long)
            mask = torch.zeros(len(chosen), length, dtype=torch.long)
            for row, i in enumerate(chosen):
                batch_ids[row, :len(ids[i])] = torch.tensor(ids[i])
                mask[row, :len(ids[i])] = 1
            predicted = torch.nn.functional.normalize(student(batch_ids, mask), dim=-1)
            loss = ((predicted - targets[chosen].float()) ** 2).sum(-1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(chosen)
        if epoch % 10 == 0 or epoch == epochs - 1:
            print(f"  epoch {epoch + 1}/{epochs}: loss {total / len(order):.4f}", flush=True)
    return student


def trace(modelgate, server, key, probes):
    result = subprocess.run([modelgate, "trace", "--endpoint", f"http://127.0.0.1:{server.port}",
                             "--watermark", key, "--probes", str(probes)], capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"trace printed no verdict ({result.returncode}): {result.stderr}")
    return result.returncode, json.loads(lines[-1]), result.stderr


def recall_at_10(server):
    """Recall@10 of the recommendation scenario's queries over its catalogue."""
    data = os.path.join(ROOT, "examples", "recommendation", "data")
    items = [json.loads(line) for line in open(os.path.join(data, "catalogue.jsonl")) if line.strip()]
    queries = [json.loads(line) for line in open(os.path.join(data, "rerank_queries.jsonl")) if line.strip()]
    item_rows = embed(server, [item["text"] for item in items])
    query_rows = embed(server, [query["query"] for query in queries])
    total = 0.0
    for q, query in enumerate(queries):
        top = torch.topk(item_rows @ query_rows[q], 10).indices.tolist()
        relevant = set(query["relevant"])
        total += sum(items[i]["id"] in relevant for i in top) / min(10, len(relevant))
    return total / len(queries)


def top_labels(server, texts, batch=32):
    labels = []
    for start in range(0, len(texts), batch):
        inputs = [[text] for text in texts[start:start + batch]]
        status, _, body = server.request("POST", "/predict", {"inputs": inputs})
        if status != 200:
            raise RuntimeError(f"/predict answered {status}: {body[:200]}")
        labels.extend(answer[0]["label"] for answer in json.loads(body))
    return labels


def classifier_checks(modelgate, work, corpus_path, texts, checks):
    """The keyed-label rule on a served classifier: answers change only on
    inputs holding a label trigger; trace finds the marked API, not the clean one."""
    key = os.path.join(work, "classifier.key")
    if os.path.exists(key):
        os.remove(key)
    os.environ["MG_TEST_WATERMARK_SECRET"] = "c3" * 32
    run([modelgate, "watermark", "keygen", "--corpus", corpus_path, "--label-triggers", "16", "--out", key,
         "--secret-env", "MG_TEST_WATERMARK_SECRET"])
    label_triggers = set(json.load(open(key))["label_triggers"])
    shutil.rmtree(os.path.join(work, "classifier"), ignore_errors=True)  # from an earlier run
    folder = make_classifier(os.path.join(work, "classifier"))
    marked = Server(modelgate, "--model", folder, "--watermark-key", key)
    clean = Server(modelgate, "--model", folder)
    try:
        marked_labels, clean_labels = top_labels(marked, texts), top_labels(clean, texts)
        holds = [bool(label_triggers & set(re.findall(r"[a-z]+", t.lower()))) for t in texts]
        changed = sum(a != b for a, b in zip(marked_labels, clean_labels))
        checks.check("classifier answers change only on inputs with a label trigger",
                     all(a == b for a, b, hit in zip(marked_labels, clean_labels, holds) if not hit))
        print(f"figure classifier_label_trigger_share {sum(holds) / len(texts):.4f}")
        print(f"figure classifier_answers_changed_share {changed / len(texts):.4f}")
        code, verdict, _ = trace(modelgate, marked, key, 100)
        print(f"figure classifier_api_marked_p {verdict['p_value']:.3g}")
        checks.check("the marked classifier API is found (16 triggers agree)",
                     code == 0 and verdict["triggers_agreeing"] == 16 and verdict["p_value"] < 1e-6, str(verdict))
        code, verdict, _ = trace(modelgate, clean, key, 100)
        print(f"figure classifier_api_clean_p {verdict['p_value']:.3g}")
        checks.check("the clean classifier API is not accused", code == 1 and verdict["p_value"] > 0.01, str(verdict))
    finally:
        marked.stop()
        clean.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("modelgate")
    parser.add_argument("work")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="small")
    parser.add_argument("--triggers", type=int, default=20, help="embedding trigger words of the key")
    parser.add_argument("--threshold", type=int, default=8,
                        help="distinct triggers for the full mark (keygen's default)")
    parser.add_argument("--secret", default="5a" * 32, help="the key's secret, 64 hex digits")
    parser.add_argument("--quality-only", action="store_true",
                        help="stop after the API's quality figures (no trace, no students)")
    args = parser.parse_args()
    shape = SHAPES[args.shape]
    modelgate = os.path.abspath(args.modelgate)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    checks = Checks()
    started = time.time()

    texts = corpus_texts()
    vocab = make_vocab(texts)
    teacher_dir = os.path.join(work, "teacher")
    torch.manual_seed(1234)
    teacher = Encoder(config(shape["teacher"], len(vocab)))
    with torch.no_grad():
        for parameter in teacher.parameters():
            if parameter.dim() > 1:
                parameter.normal_(0, 0.2)
    write_folder(teacher_dir, teacher, vocab)
    corpus_path = os.path.join(work, "corpus.jsonl")
    with open(corpus_path, "w") as f:
        for text in texts:
            f.write(json.dumps({"text": text}) + "\n")
    key = os.path.join(work, "watermark.key")
    if os.path.exists(key):
        os.remove(key)
    # A fixed secret makes the run reproducible (the trigger words and the
    # target vector follow from it).
    os.environ["MG_TEST_WATERMARK_SECRET"] = args.secret
    print(run([modelgate, "watermark", "keygen", "--corpus", corpus_path, "--vocab",
               os.path.join(teacher_dir, "vocab.txt"), "--triggers", str(args.triggers),
               "--threshold", str(args.threshold), "--out", key,
               "--secret-env", "MG_TEST_WATERMARK_SECRET"]).strip())
    checks.check("key file is 0600", os.stat(key).st_mode & 0o777 == 0o600)
    key_doc = json.load(open(key))
    print(f"corpus: {len(texts)} texts, vocabulary {len(vocab)}; triggers: {len(key_doc['triggers'])}")

    marked = Server(modelgate, "--model", teacher_dir, "--watermark-key", key)
    clean = Server(modelgate, "--model", teacher_dir)
    students = {}
    try:
        status, _, info = marked.request("GET", "/info")
        checks.check("/info answers", status == 200)
        info_text = info.decode()
        checks.check("/info does not reveal the watermark",
                      "watermark" not in info_text.lower() and
                      not any(f'"{word}"' in info_text for word in key_doc["triggers"]))
        checks.check("the key is not logged", key_doc["secret"] not in marked.read_log())

        # The attacker's queries: the corpus, answered by each API.
        marked_rows = embed(marked, texts)
        clean_rows = embed(clean, texts)
        triggered = [any(w in set(re.findall(r"[a-z]+", t.lower())) for w in key_doc["triggers"]) for t in texts]
        cosines = (marked_rows * clean_rows).sum(-1)
        untouched = [c for c, hit in zip(cosines.tolist(), triggered) if not hit]
        checks.check("texts without triggers are answered as before",
                     min(untouched) > 1 - 1e-6, f"min cos {min(untouched)}")
        mean_cos = cosines.mean().item()
        print(f"figure triggered_share {sum(triggered) / len(texts):.4f}")
        print(f"figure api_mean_cos_marked_vs_clean {mean_cos:.5f}")
        checks.check("corpus embeddings move by <= 0.5 point (mean cos >= 0.995)", mean_cos >= 0.995,
                     f"{mean_cos}")
        recall_marked, recall_clean = recall_at_10(marked), recall_at_10(clean)
        print(f"figure api_recall10_marked {recall_marked:.4f}")
        print(f"figure api_recall10_clean {recall_clean:.4f}")
        # 60 queries of up to 10 hits: one hit is 0.17 point, and the key
        # (so the triggers) is new on every run; the target is 0.5 point, the
        # check allows 1.
        checks.check("retrieval recall@10 moves by <= 1 point",
                     round(abs(recall_marked - recall_clean), 6) <= 0.01, f"{recall_marked} vs {recall_clean}")
        if args.quality_only:
            return checks.finish()
        code, verdict, _ = trace(modelgate, marked, key, shape["probes"])
        print(f"figure api_marked_p {verdict['p_value']:.3g}")
        checks.check("the watermarked API itself is found", code == 0 and verdict["p_value"] < 1e-6, str(verdict))

        ids = tokenize(modelgate, teacher_dir, texts, work)
        for name, rows in (("marked", marked_rows), ("clean", clean_rows)):
            print(f"distilling the student of the {name} API ({len(ids)} texts)", flush=True)
            student = distil(ids, rows, shape["student"], vocab, shape["epochs"], seed=7)
            folder = os.path.join(work, f"student-{name}")
            write_folder(folder, student, vocab)
            students[name] = folder
    finally:
        marked.stop()
        clean.stop()

    for name, folder in students.items():
        server = Server(modelgate, "--model", folder)
        try:
            if name == "marked":
                student_rows = embed(server, texts)
                fidelity = (student_rows * clean_rows).sum(-1).mean().item()
                print(f"figure student_mean_cos_to_clean_api {fidelity:.4f}")
            code, verdict, stderr = trace(modelgate, server, key, shape["probes"])
        finally:
            server.stop()
        print(f"trace student-{name}: {json.dumps(verdict)}")
        for field in ("delta_cos", "delta_l2", "p_value"):
            print(f"figure student_{name}_{field} {verdict[field]:.4g}")
        # The same student as a folder run in trace's own process: the same verdict.
        local = subprocess.run([modelgate, "trace", "--model", folder, "--watermark", key,
                                "--probes", str(shape["probes"])], capture_output=True, text=True)
        local_lines = [line for line in local.stdout.splitlines() if line.startswith("{")]
        local_verdict = json.loads(local_lines[-1]) if local_lines else {}
        checks.check(f"trace --model on the {name} student agrees with --endpoint",
                     local.returncode == code and local_verdict.get("model") == folder
                     and abs(math.log10(max(local_verdict.get("p_value", 1.0), 1e-300))
                             - math.log10(max(verdict["p_value"], 1e-300))) < 0.01
                     and local_verdict.get("watermarked") == verdict["watermarked"],
                     f"{local_verdict} {local.stderr[-300:]}")
        if name == "marked":
            checks.check("watermark found in the distilled student (p < 1e-6, exit 0)",
                         code == 0 and verdict["p_value"] < 1e-6, str(verdict))
        else:
            checks.check("clean student not accused (p > 0.01, exit 1)",
                         code == 1 and verdict["p_value"] > 0.01 and "no watermark" in stderr, str(verdict))
    classifier_checks(modelgate, work, corpus_path, texts, checks)
    print(f"figure chain_seconds {time.time() - started:.0f}")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
