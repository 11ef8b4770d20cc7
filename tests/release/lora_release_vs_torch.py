#!/usr/bin/python3
"""A LoRA-trained classifier end to end: train, folder, hybrid and open releases,
a PyTorch reference reader, and bad input.

1. `modelgate train --base FIXTURE --lora-rank 4 --lora-alpha 8` twice with one
   seed: the output's model.safetensors is the base's file byte for byte,
   adapter_config.json / adapter_model.safetensors follow PEFT's format, and
   the two runs write identical adapters.
2. A reference reader in PyTorch (float64) loads config.json, model.safetensors
   and the adapter itself, applies W + (alpha/r) B A and the head from the
   adapter, and runs BertForSequenceClassification's forward pass on the ids
   `modelgate tokenize` gives: `modelgate classify` on the folder must agree
   (|score difference| <= 1e-4).
3. `release hybrid` keeps the base untouched (its model.safetensors is the
   base's file) and seals the adapter in the head; `classify`/`embed` on
   HEAD.mgb + open base are bit-identical to the folder. `release open`
   carries the adapter files under the signed manifest; `serve` on the
   hybrid pair answers /predict with the folder's scores; `classify` on it is
   bit-identical too, and its model card says how PEFT loads it; so is a
   closed release of the folder.
4. Bad input, each one `error:` line, non-zero exit, no crash: the LoRA head
   with another base (hash binding) and with a base whose weights changed; a
   folder with half an adapter, rank 0, an unknown target module, a
   mis-shaped A, a NaN in B, an unknown tensor, a truncated adapter file;
   `train --lora-rank` 0, -3, above hidden_size, not a number, with --init,
   `--lora-alpha` 0 and without --lora-rank.

usage: /usr/bin/python3 tests/release/lora_release_vs_torch.py MODELGATE WORK_DIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "train"))
sys.path.insert(0, os.path.join(ROOT, "tests", "serve"))
from grad_vs_torch import forward, read_safetensors  # noqa: E402
from serve_harness import Server  # noqa: E402

FIXTURE = os.path.join(ROOT, "tests/data/fixtures/tiny-bert-model-safetensors")
TEXTS = ["t5 t17 t23 t9", "t120 t133 t101", "t7 t140 t30 t111 t12", "t150", "t44 t45 t46 t47 t48 t49"]
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f" ({detail})" if detail and not ok else ""))
    if not ok:
        failures.append(name)


def run(mg, *args):
    return subprocess.run([mg, *args], capture_output=True, text=True)


def refused(name, result, needle):
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    crashed = any(w in result.stderr.lower() for w in ("terminate", "abort", "segmentation", "exception"))
    check(name, result.returncode != 0 and len(errors) == 1 and needle in result.stderr and not crashed
          and not result.stdout, result.stderr.strip()[:300])


def read_raw(path):
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def write_raw(path, header, data):
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def reference_scores(folder, tokens):
    """Reads the folder as a PEFT user would and classifies in float64."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(folder, "adapter_config.json")) as f:
        acfg = json.load(f)
    sd = {("" if k.startswith("bert.") else "bert.") + k: v
          for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    adapter = {k[len("base_model.model."):]: v
               for k, v in read_safetensors(os.path.join(folder, "adapter_model.safetensors")).items()}
    scale = acfg["lora_alpha"] / acfg["r"]
    for name, value in adapter.items():
        if name.endswith(".lora_A.weight"):
            target = name[:-len(".lora_A.weight")]
            b = adapter[target + ".lora_B.weight"]
            sd[target + ".weight"] = sd[target + ".weight"] + scale * (b @ value)
        elif not name.endswith(".lora_B.weight"):
            sd[name] = value  # modules_to_save: the trained pooler and classifier
    labels = [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    out = []
    for line in tokens:
        enc = json.loads(line)
        ids = torch.tensor([enc["ids"]])
        logits = forward(sd, cfg, ids, torch.tensor([enc["type_ids"]]), torch.ones_like(ids))
        out.append(dict(zip(labels, torch.softmax(logits[0], -1).tolist())))
    return out


def main():
    mg, work = os.path.realpath(sys.argv[1]), sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    data = os.path.join(work, "train.jsonl")
    with open(data, "w") as f:
        for i in range(64):
            words = " ".join(f"t{5 + (i * 7 + k) % 45}" for k in range(4)) if i % 2 else \
                " ".join(f"t{100 + (i * 5 + k) % 50}" for k in range(4))
            f.write(json.dumps({"text": words, "label": "a" if i % 2 else "b"}) + "\n")
    inputs = os.path.join(work, "in.txt")
    with open(inputs, "w") as f:
        f.write("\n".join(TEXTS) + "\n")
    train = ["train", "--train", data, "--base", FIXTURE, "--epochs", "4", "--batch-size", "8",
             "--lr", "3e-2", "--threads", "2", "--seed", "11", "--lora-rank", "4", "--lora-alpha", "8"]
    out = os.path.join(work, "lora")
    r = run(mg, *train, "--out", out)
    check("train --lora-rank exits 0", r.returncode == 0, r.stderr)
    r2 = run(mg, *train, "--out", os.path.join(work, "lora2"))
    with open(os.path.join(out, "model.safetensors"), "rb") as a, open(os.path.join(FIXTURE, "model.safetensors"), "rb") as b:
        check("model.safetensors is the base's file, byte for byte", a.read() == b.read())
    with open(os.path.join(out, "adapter_model.safetensors"), "rb") as a, \
            open(os.path.join(work, "lora2", "adapter_model.safetensors"), "rb") as b:
        check("same seed, same adapter (deterministic)", r2.returncode == 0 and a.read() == b.read())
    with open(os.path.join(out, "adapter_config.json")) as f:
        acfg = json.load(f)
    check("adapter_config.json in PEFT's format",
          acfg["peft_type"] == "LORA" and acfg["r"] == 4 and acfg["lora_alpha"] == 8 and
          sorted(acfg["target_modules"]) == ["query", "value"] and acfg["task_type"] == "SEQ_CLS" and
          "classifier" in acfg["modules_to_save"] and acfg["base_model_name_or_path"] == FIXTURE, acfg)
    header, _ = read_raw(os.path.join(out, "adapter_model.safetensors"))
    names = sorted(k for k in header if k != "__metadata__")
    check("adapter tensors under PEFT's names",
          "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight" in names and
          "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight" in names and
          "base_model.model.classifier.weight" in names and
          header["base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"]["shape"] == [4, 32] and
          header["base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight"]["shape"] == [32, 4] and
          len(names) == 2 * 2 * 2 + 4, names)
    adapter = read_safetensors(os.path.join(out, "adapter_model.safetensors"))
    check("the adapter trained (B no longer zero)",
          adapter["base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight"].abs().max().item() > 0)

    tokens = run(mg, "tokenize", "--model", out, "--input", inputs).stdout.splitlines()
    folder_cls = run(mg, "classify", "--model", out, "--input", inputs)
    check("classify on the LoRA folder exits 0", folder_cls.returncode == 0, folder_cls.stderr)
    got = [json.loads(line)["scores"] for line in folder_cls.stdout.splitlines()]
    want = reference_scores(out, tokens)
    worst = max(abs(g[k] - w[k]) for g, w in zip(got, want, strict=True) for k in w)
    spread = max(abs(w["a"] - want[0]["a"]) for w in want)
    print(f"reference reader vs classify: worst score difference {worst:.2e} over {len(TEXTS)} texts")
    check("PyTorch reference reader agrees with classify (<= 1e-4)", worst <= 1e-4, worst)
    check("the scores depend on the text", spread > 1e-3, spread)
    # The merge matters: without the adapter the base's scores differ.
    plain = reference_scores_without_adapter(out, tokens)
    check("the adapter changes the scores", max(abs(p["a"] - w["a"]) for p, w in zip(plain, want)) > 1e-4)

    keys = os.path.join(work, "keys")
    os.makedirs(keys)
    for args in (["--out", os.path.join(keys, "vendor")], ["--out", os.path.join(keys, "deploy"), "--type", "deploy"]):
        run(mg, "keygen", *args)
    sign = ["--sign", os.path.join(keys, "vendor.key")]
    base, head = os.path.join(work, "base"), os.path.join(work, "head.mgb")
    r = run(mg, "release", "hybrid", "--model", out, "--base-out", base, "--head-out", head, *sign,
            "--to", os.path.join(keys, "deploy.pub"), "--license", "MIT")
    check("release hybrid of the LoRA folder exits 0", r.returncode == 0, r.stderr)
    with open(os.path.join(base, "model.safetensors"), "rb") as a, open(os.path.join(FIXTURE, "model.safetensors"), "rb") as b:
        check("the open base's weights are the untouched base", a.read() == b.read())
    check("the open base carries no adapter",
          not any(n.startswith("adapter_") for n in os.listdir(base)), os.listdir(base))
    with open(head, "rb") as f:
        sealed = f.read()
    check("the adapter is not in the clear in the head", b"lora_A" not in sealed)
    hybrid = ["--model", head, "--base", base, "--key", os.path.join(keys, "deploy.key"),
              "--vendor-pub", os.path.join(keys, "vendor.pub"), "--input", inputs]
    r = run(mg, "classify", *hybrid)
    check("classify on HEAD.mgb + base is bit-identical to the folder",
          r.returncode == 0 and r.stdout == folder_cls.stdout, r.stderr)
    folder_emb = run(mg, "embed", "--model", out, "--input", inputs)
    r = run(mg, "embed", *hybrid)
    check("embed on HEAD.mgb + base is bit-identical to the folder",
          r.returncode == 0 and folder_emb.returncode == 0 and r.stdout == folder_emb.stdout, r.stderr)

    # serve runs the same pair: /predict gives the folder's scores.
    server = Server(mg, "--model", head, "--base", base, "--key", os.path.join(keys, "deploy.key"),
                    "--vendor-pub", os.path.join(keys, "vendor.pub"))
    try:
        served_ok = True
        for text, scores in zip(TEXTS, got):
            status, _, body = server.request("POST", "/predict", {"inputs": text})
            reply = {item["label"]: item["score"] for item in json.loads(body)} if status == 200 else {}
            served_ok &= status == 200 and all(abs(reply.get(k, -1) - v) <= 1e-6 for k, v in scores.items())
        check("serve --model HEAD.mgb --base DIR gives the folder's scores", served_ok)
    finally:
        server.stop()

    opened = os.path.join(work, "open")
    r = run(mg, "release", "open", "--model", out, "--out", opened, "--license", "MIT", *sign)
    check("release open of the LoRA folder exits 0", r.returncode == 0, r.stderr)
    with open(os.path.join(opened, "manifest.json")) as f:
        listed = [e["path"] for e in json.load(f)["files"]]
    check("the open release signs the adapter files",
          "adapter_model.safetensors" in listed and "adapter_config.json" in listed, listed)
    r = run(mg, "classify", "--model", opened, "--vendor-pub", os.path.join(keys, "vendor.pub"), "--input", inputs)
    check("classify on the open release is bit-identical to the folder",
          r.returncode == 0 and r.stdout == folder_cls.stdout, r.stderr)
    with open(os.path.join(opened, "README.md")) as f:
        check("the open release's model card says how to load the adapter", "PeftModel.from_pretrained" in f.read())
    closed = os.path.join(work, "closed.mgb")
    r = run(mg, "release", "closed", "--model", out, "--out", closed, *sign, "--to", os.path.join(keys, "deploy.pub"))
    r = run(mg, "classify", "--model", closed, "--key", os.path.join(keys, "deploy.key"), "--input", inputs)
    check("classify on a closed release of the LoRA folder is bit-identical to the folder",
          r.returncode == 0 and r.stdout == folder_cls.stdout, r.stderr)

    # Hash binding: another base, and this base with changed weights.
    other_fixture = os.path.join(work, "other_fixture")
    shutil.copytree(FIXTURE, other_fixture)
    h, blob = read_raw(os.path.join(other_fixture, "model.safetensors"))
    blob = bytearray(blob)
    blob[100] ^= 0x10
    write_raw(os.path.join(other_fixture, "model.safetensors"), h, bytes(blob))
    other = os.path.join(work, "other_cls")
    subprocess.run(["python3", os.path.join(ROOT, "tests/cli/make_classifier.py"), other_fixture, other],
                   check=True, stdout=subprocess.DEVNULL)
    other_base = os.path.join(work, "other_base")
    run(mg, "release", "hybrid", "--model", other, "--base-out", other_base, "--head-out",
        os.path.join(work, "other_head.mgb"), *sign, "--to", os.path.join(keys, "deploy.pub"), "--license", "MIT")
    refused("the LoRA head refuses another base", run(mg, "classify", "--model", head, "--base", other_base, "--key",
                                                       os.path.join(keys, "deploy.key"), "--input", inputs),
            "was made for another base")
    tampered = os.path.join(work, "tampered_base")
    shutil.copytree(base, tampered)
    h, blob = read_raw(os.path.join(tampered, "model.safetensors"))
    blob = bytearray(blob)
    blob[-3] ^= 0x01
    write_raw(os.path.join(tampered, "model.safetensors"), h, bytes(blob))
    os.remove(os.path.join(tampered, "manifest.json"))
    os.remove(os.path.join(tampered, "manifest.sig"))
    refused("the LoRA head refuses a base with changed weights",
            run(mg, "classify", "--model", head, "--base", tampered, "--key", os.path.join(keys, "deploy.key"),
                "--input", inputs), "was made for another base")

    # A hybrid release needs the adapter to carry the head it keeps closed.
    headless = os.path.join(work, "headless")
    shutil.copytree(out, headless)
    h, blob = read_raw(os.path.join(headless, "adapter_model.safetensors"))
    kept, body = {}, b""
    for name, info in h.items():
        if name == "__metadata__" or name.startswith("base_model.model.classifier."):
            continue
        b, e = info["data_offsets"]
        kept[name] = dict(info, data_offsets=[len(body), len(body) + e - b])
        body += blob[b:e]
    write_raw(os.path.join(headless, "adapter_model.safetensors"), kept, body)
    r = run(mg, "release", "hybrid", "--model", headless, "--base-out", os.path.join(work, "headless_base"),
            "--head-out", os.path.join(work, "headless.mgb"), *sign, "--to", os.path.join(keys, "deploy.pub"),
            "--license", "MIT")
    refused("release hybrid refuses an adapter without the classifier", r, "carries no classifier")
    check("no half hybrid release left", not os.path.exists(os.path.join(work, "headless_base")))
    bad_rank = os.path.join(work, "bad_rank_model")
    shutil.copytree(out, bad_rank)
    edit_config_file(os.path.join(bad_rank, "adapter_config.json"), r=0)
    r = run(mg, "release", "hybrid", "--model", bad_rank, "--base-out", os.path.join(work, "bad_rank_base"),
            "--head-out", os.path.join(work, "bad_rank.mgb"), *sign, "--to", os.path.join(keys, "deploy.pub"),
            "--license", "MIT")
    refused("release hybrid checks the adapter (rank 0)", r, "r (the rank) must be a positive integer")

    # Malformed adapters in a folder.
    def broken(name, change, needle):
        folder = os.path.join(work, "bad-" + name)
        shutil.copytree(out, folder)
        change(folder)
        refused("refused: " + name, run(mg, "classify", "--model", folder, "--input", inputs), needle)

    def edit_config(**fields):
        return lambda folder: edit_config_file(os.path.join(folder, "adapter_config.json"), **fields)

    def edit_tensor(name, fn):
        def change(folder):
            path = os.path.join(folder, "adapter_model.safetensors")
            h, blob = read_raw(path)
            fn(h, bytearray(blob), name)
            write_raw(path, *edit_tensor.result)
        return change

    def transpose_shape(h, blob, name):
        h[name]["shape"] = list(reversed(h[name]["shape"]))
        edit_tensor.result = (h, bytes(blob))

    def put_nan(h, blob, name):
        begin = h[name]["data_offsets"][0]
        blob[begin:begin + 4] = struct.pack("<f", float("nan"))
        edit_tensor.result = (h, bytes(blob))

    def rename(h, blob, name):
        h["base_model.model.bert.encoder.layer.0.output.dense.lora_A.weight"] = h.pop(name)
        edit_tensor.result = (h, bytes(blob))

    a0 = "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"
    b1 = "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight"
    broken("missing adapter_config.json", lambda d: os.remove(os.path.join(d, "adapter_config.json")),
           "half a LoRA adapter")
    broken("rank 0", edit_config(r=0), "r (the rank) must be a positive integer")
    broken("unknown target module", edit_config(target_modules=["query", "output.dense"]), "unknown target module")
    broken("not LORA", edit_config(peft_type="IA3"), "only LORA adapters")
    broken("peft_type not a string", edit_config(peft_type=7), "only LORA adapters")
    broken("use_rslora not a boolean", edit_config(use_rslora="yes"), "use_rslora must be true or false")
    broken("lora_alpha not a number", edit_config(lora_alpha="8"), "lora_alpha must be a positive number")
    broken("DoRA", edit_config(use_dora=True), "use_dora")
    broken("mis-shaped A", edit_tensor(a0, transpose_shape), "has shape [32, 4], expected [4, 32]")
    broken("NaN in B", edit_tensor(b1, put_nan), "non-finite")
    broken("unknown tensor", edit_tensor(a0, rename), "unknown tensor")

    def truncate(folder):
        path = os.path.join(folder, "adapter_model.safetensors")
        with open(path, "rb") as f:
            blob = f.read()
        with open(path, "wb") as f:
            f.write(blob[:len(blob) // 2])
    broken("truncated adapter", truncate, "adapter_model.safetensors")

    # CLI: invalid --lora-rank / --lora-alpha.
    base_args = ["train", "--train", data, "--epochs", "1", "--out", os.path.join(work, "never")]
    for value, needle in (("0", "--lora-rank must be a positive"), ("-3", "--lora-rank must be a positive"),
                          ("33", "exceeds the model's hidden_size"), ("abc", "--lora-rank")):
        refused(f"train --lora-rank {value}", run(mg, *base_args, "--base", FIXTURE, "--lora-rank", value), needle)
    refused("train --lora-rank with --init",
            run(mg, *base_args, "--init", "tiny", "--vocab", os.path.join(FIXTURE, "vocab.txt"), "--lora-rank", "4"),
            "--base")
    refused("train --lora-alpha 0", run(mg, *base_args, "--base", FIXTURE, "--lora-rank", "4", "--lora-alpha", "0"),
            "--lora-alpha must be a positive number")
    refused("train --lora-alpha without --lora-rank", run(mg, *base_args, "--base", FIXTURE, "--lora-alpha", "8"),
            "--lora-alpha goes with --lora-rank")
    check("no output folder from refused runs", not os.path.exists(os.path.join(work, "never")))
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


def edit_config_file(path, **fields):
    with open(path) as f:
        c = json.load(f)
    c.update(fields)
    with open(path, "w") as f:
        json.dump(c, f)


def reference_scores_without_adapter(folder, tokens):
    plain = folder + "-no-lora-reference"
    shutil.rmtree(plain, ignore_errors=True)
    shutil.copytree(folder, plain)
    adapter = os.path.join(plain, "adapter_model.safetensors")
    h, blob = read_raw(adapter)
    for name in list(h):
        if name.endswith(".lora_B.weight"):
            begin, end = h[name]["data_offsets"]
            blob = blob[:begin] + bytes(end - begin) + blob[end:]
    write_raw(adapter, h, blob)
    return reference_scores(plain, tokens)


if __name__ == "__main__":
    main()
