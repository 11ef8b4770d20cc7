#!/usr/bin/env python3
"""Writes a tiny sequence classifier for the bundle tests: the tiny BERT
fixture plus seeded pooler and classifier tensors, config with two labels.

usage: make_classifier.py FIXTURE_DIR OUT_DIR [SEED]"""
import json, os, random, shutil, struct, sys

src, out = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
shutil.copytree(src, out)
blob = open(os.path.join(src, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", blob[:8])[0]
header = json.loads(blob[8:8 + n])
data = blob[8 + n:]
tensors = {k: (v, data[v["data_offsets"][0]:v["data_offsets"][1]])
           for k, v in header.items() if k != "__metadata__"}
cfg = json.load(open(os.path.join(src, "config.json")))
h = cfg["hidden_size"]
rng = random.Random(seed)
def add(name, shape):
    count = 1
    for d in shape:
        count *= d
    raw = struct.pack("<%df" % count, *[rng.uniform(-0.3, 0.3) for _ in range(count)])
    tensors[name] = ({"dtype": "F32", "shape": shape}, raw)
add("pooler.dense.weight", [h, h])
add("pooler.dense.bias", [h])
add("classifier.weight", [2, h])
add("classifier.bias", [2])
new_header, body, offset = {}, b"", 0
for name, (meta, raw) in tensors.items():
    new_header[name] = {"dtype": meta["dtype"], "shape": meta["shape"],
                        "data_offsets": [offset, offset + len(raw)]}
    body += raw
    offset += len(raw)
head = json.dumps(new_header).encode()
head += b" " * ((8 - len(head) % 8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head + body)
cfg["architectures"] = ["BertForSequenceClassification"]
cfg["id2label"] = {"0": "ham", "1": "spam"}
cfg["label2id"] = {"ham": 0, "spam": 1}
json.dump(cfg, open(os.path.join(out, "config.json"), "w"), indent=2)
