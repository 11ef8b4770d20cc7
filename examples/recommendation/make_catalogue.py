#!/usr/bin/env python3
"""Generates the synthetic shop data of the recommendation scenario.

catalogue.jsonl: 60 products in six departments ({"id","text","tags"}).
train.jsonl: 480 product descriptions labelled with their department, the
training data of the encoder (its classifier head is discarded; its sentence
embeddings group products by department). Made from word lists with a fixed
seed; the files are committed and this script documents how.

usage: make_catalogue.py OUTDIR
"""
import json
import os
import random
import sys

DEPARTMENTS = {
    "audio": (["headphones", "earbuds", "speaker", "soundbar", "turntable", "microphone",
               "amplifier", "radio"],
              ["wireless", "bluetooth", "noise-cancelling", "stereo", "hi-fi", "portable",
               "bass-boosted", "studio"]),
    "outdoor": (["rain jacket", "tent", "hiking boots", "sleeping bag", "backpack",
                 "trekking poles", "headlamp", "camping stove"],
                ["waterproof", "lightweight", "windproof", "insulated", "trail-ready",
                 "breathable", "rugged", "four-season"]),
    "kitchen": (["chef's knife", "frying pan", "blender", "coffee grinder", "stock pot",
                 "cutting board", "toaster", "kettle"],
                ["non-stick", "stainless steel", "cast iron", "dishwasher-safe",
                 "electric", "ceramic", "induction-ready", "bamboo"]),
    "books": (["novel", "cookbook", "biography", "travel guide", "poetry collection",
               "history book", "comic album", "children's picture book"],
              ["bestselling", "illustrated", "paperback", "hardcover", "award-winning",
               "annotated", "first-edition", "large-print"]),
    "fitness": (["yoga mat", "dumbbells", "kettlebell", "resistance bands", "jump rope",
                 "exercise bike", "foam roller", "running shoes"],
                ["adjustable", "non-slip", "cushioned", "heavy-duty", "foldable",
                 "ergonomic", "high-density", "lightweight"]),
    "toys": (["building blocks", "puzzle", "board game", "teddy bear", "toy train",
              "doll house", "kite", "remote-control car"],
             ["colourful", "wooden", "educational", "plush", "battery-powered",
              "family-friendly", "1000-piece", "classic"]),
}
PATTERNS = [
    "{a} {n}",
    "{a} {n} for everyday use",
    "{a} {n}, a great gift",
    "{n}, {a} and {b}",
    "the {a} {n} customers love",
    "new {a} {n} with {b} design",
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261128)
    catalogue, train = [], []
    for d, (dept, (nouns, adjectives)) in enumerate(DEPARTMENTS.items()):
        for i, noun in enumerate(nouns[:8]):
            a, b = rng.sample(adjectives, 2)
            text = f"{a.capitalize()} {noun}, {b}"
            catalogue.append({"id": f"sku-{d + 1}{i + 1:02d}", "text": text, "tags": [dept]})
        for extra in range(2):
            a, b = rng.sample(adjectives, 2)
            noun = rng.choice(nouns)
            catalogue.append({"id": f"sku-{d + 1}{extra + 9:02d}",
                              "text": f"{a.capitalize()} {noun} set, {b}", "tags": [dept]})
        for _ in range(80):
            a, b = rng.sample(adjectives, 2)
            text = rng.choice(PATTERNS).format(a=a, b=b, n=rng.choice(nouns))
            train.append({"text": text[0].upper() + text[1:], "label": dept})
    rng.shuffle(train)
    for name, rows in (("catalogue", catalogue), ("train", train)):
        with open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        print(f"{name}.jsonl: {len(rows)} lines")


if __name__ == "__main__":
    main()
