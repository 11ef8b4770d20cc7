#!/usr/bin/python3
"""`modelgate serve` with DistilBERT, RoBERTa and ModernBERT models: /embed equals
`modelgate embed --normalize` and /predict equals `modelgate classify` for
tiny random-weight folders of each family (built by
tests/model/families_vs_torch.py and modernbert_vs_torch.py, whose references check the commands
themselves against PyTorch), text pairs included.

usage: /usr/bin/python3 tests/serve/families_serve_test.py MODELGATE_BINARY WORK_DIR
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "model"))
from serve_harness import Checks, Server  # noqa: E402
import families_vs_torch as fam  # noqa: E402
import modernbert_vs_torch as modernbert  # noqa: E402

TEXTS = ["hello world", "the refund never arrived", "a longer input with several words in it " * 3, "x"]


def cli_lines(mg, work, *args):
    path = os.path.join(work, "in.jsonl")
    with open(path, "w") as f:
        for text in TEXTS:
            f.write(json.dumps({"text": text}) + "\n")
    out = subprocess.run([mg, *args, "--input", path], check=True, capture_output=True).stdout
    return [json.loads(line) for line in out.decode().splitlines()]


def build(work, family, model_type, name, opts, seed):
    """A tiny random-weight F32 safetensors folder of the family."""
    if family == "modernbert":
        # A window narrower than the longest text, a global and a sliding layer.
        shape = dict(layers=2, hidden=32, heads=4, inter=48, every=2, window=8, max_pos=512)
        return modernbert.build_case(work, name, shape, "safetensors", "F32", opts, seed)[0]
    shape = dict(layers=2, hidden=32, heads=4, inter=64, max_pos=514)
    return fam.build_case(work, name, family, model_type, shape, "safetensors", "F32", opts, seed)[0]


def main():
    mg, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.makedirs(work, exist_ok=True)
    checks = Checks()
    check = checks.check
    for family, model_type in (("distilbert", "distilbert"), ("roberta", "xlm-roberta"),
                               ("modernbert", "modernbert")):
        embed_dir = build(work, family, model_type, f"{model_type}-embed", dict(classifier=False, pooling="mean"), 5)
        server = Server(mg, "--model", embed_dir)
        want = [line["embedding"] for line in cli_lines(mg, work, "embed", "--model", embed_dir, "--normalize")]
        status, _, reply = server.post("/embed", {"inputs": TEXTS})
        check(f"{model_type}: /embed equals `modelgate embed`", status == 200 and len(reply) == len(want) and all(
            len(a) == len(b) and all(abs(x - y) <= 1e-5 for x, y in zip(a, b)) for a, b in zip(reply, want)),
            str(status))
        check(f"{model_type}: embedding server exits 0", server.stop() == 0)

        labels = ["billing", "bug", "praise"]
        cls_dir = build(work, family, model_type, f"{model_type}-classify", dict(classifier=True, labels=labels), 6)
        server = Server(mg, "--model", cls_dir)
        want = cli_lines(mg, work, "classify", "--model", cls_dir)
        status, _, reply = server.post("/predict", {"inputs": [[t] for t in TEXTS]})
        check(f"{model_type}: /predict equals `modelgate classify`", status == 200 and len(reply) == len(want) and all(
            r[0]["label"] == w["label"] and abs(r[0]["score"] - w["score"]) < 1e-5 for r, w in zip(reply, want)),
            str(reply)[:200])
        status, _, reply = server.post("/predict", {"inputs": ["what is it?", "a thing"]})
        check(f"{model_type}: /predict a text pair", status == 200 and len(reply) == 3
              and abs(sum(r["score"] for r in reply) - 1) < 1e-4, str(reply)[:200])
        check(f"{model_type}: classifier server exits 0", server.stop() == 0)
    sys.exit(checks.finish())


if __name__ == "__main__":
    main()
