#!/usr/bin/env python3
"""Generates the synthetic shop data of the recommendation scenario.

catalogue.jsonl: 120 products in six departments ({"id","text","tags"}).
train.jsonl: 480 product descriptions labelled with their department, the
training data of the encoder (its classifier head is discarded; its sentence
embeddings group products by department).
rerank_train.jsonl: shoppers' queries (a need in their own words, e.g. "stay
dry on a rainy walk") paired with product descriptions ({"text": query,
"text_pair": description, "label": 1 | 0}), the training data of the
cross-encoder that reranks recalled products: relevant (1) when the product's
department serves the need, irrelevant (0) otherwise.
rerank_needs.jsonl: the training queries labelled with the department that
serves them; with train.jsonl, the data of the cross-encoder's base model (a
department classifier of the shop's language, products and needs alike, which
the cross-encoder is then fine-tuned from).
rerank_queries.jsonl: held-out queries ({"query", "relevant": [ids]}): the same
needs in phrasings no training query uses, with the catalogue products that
serve them; the scenario measures recall and recall + rerank on them.
rerank_vocab.txt: the cross-encoder's vocabulary, every word of the above.
Made from word lists with fixed seeds; the files are committed and this script
documents how.

usage: make_catalogue.py OUTDIR
"""
import json
import os
import random
import re
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


# More catalogue products per department (ids sku-D11 to sku-D20).
PRODUCT_PATTERNS = [
    "{A} {n}, {b}",
    "{A} {n} set, {b}",
    "{A} {b} {n}",
    "{A} {n} for everyday use",
]
# What shoppers ask for, per department: needs in their own words, which no
# product description uses (so the product encoder, trained on descriptions,
# cannot place them), wrapped in a phrasing. The cross-encoder learns from the
# training wrappers; the held-out queries use only the others.
NEEDS = {
    "audio": ["listen to music on the commute", "better sound for movies at home",
              "record my podcast", "play my old vinyl records", "music at a party"],
    "outdoor": ["a weekend in the mountains", "stay dry on a rainy walk",
                "a camping trip next month", "sleep under the stars", "long walks in the hills"],
    "kitchen": ["cook dinner for friends", "fresh coffee every morning",
                "chop vegetables quickly", "boil water for tea", "fry eggs for breakfast"],
    "books": ["something to read on holiday", "learn about the past", "a story at bedtime",
              "plan a trip abroad", "read in the evening"],
    "fitness": ["get in shape at home", "stretch after work", "train for a marathon",
                "build muscle", "warm up before the gym"],
    "toys": ["keep the kids busy", "a present for a seven year old", "a rainy afternoon with the family",
             "something for children to build", "play outside on a windy day"],
}
TRAIN_WRAPPERS = ["{q}", "i want something to {q}", "ideas for {q} please", "what do i need for {q}",
                  "help me with {q}", "gift ideas: {q}"]
HELD_OUT_WRAPPERS = ["anything good for {q}?", "looking for products to {q}"]


def description(rng, noun, adjectives):
    a, b = rng.sample(adjectives, 2)
    text = rng.choice(PATTERNS).format(a=a, b=b, n=noun)
    return text[0].upper() + text[1:]


def rerank_data(catalogue):
    """(training pairs, training queries labelled with their department,
    held-out queries) of the cross-encoder: a product is relevant to a need
    when it belongs to the department that serves it."""
    rng = random.Random(20261203)
    pairs, labelled, queries = [], [], []
    departments = list(DEPARTMENTS)
    for dept, dept_needs in NEEDS.items():
        nouns, adjectives = DEPARTMENTS[dept]
        for need in dept_needs:
            for wrapper in TRAIN_WRAPPERS:
                query = wrapper.format(q=need)
                labelled.append({"text": query, "label": dept})
                passages = [(description(rng, rng.choice(nouns), adjectives), 1) for _ in range(2)]
                for other in rng.sample([d for d in departments if d != dept], 2):
                    other_nouns, other_adjectives = DEPARTMENTS[other]
                    passages.append((description(rng, rng.choice(other_nouns), other_adjectives), 0))
                pairs += [{"text": query, "text_pair": p, "label": label} for p, label in passages]
            relevant = [item["id"] for item in catalogue if item["tags"] == [dept]]
            for wrapper in HELD_OUT_WRAPPERS:
                queries.append({"query": wrapper.format(q=need), "relevant": relevant})
    rng.shuffle(pairs)
    return pairs, labelled, queries


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
    more = random.Random(20261202)
    for d, (dept, (nouns, adjectives)) in enumerate(DEPARTMENTS.items()):
        for i in range(10):
            a, b = more.sample(adjectives, 2)
            noun = nouns[(i + d) % len(nouns)] if i < 8 else more.choice(nouns)
            text = more.choice(PRODUCT_PATTERNS).format(A=a.capitalize(), b=b, n=noun)
            catalogue.append({"id": f"sku-{d + 1}{i + 11:02d}", "text": text, "tags": [dept]})
    pairs, needs, queries = rerank_data(catalogue)
    for name, rows in (("catalogue", catalogue), ("train", train), ("rerank_train", pairs),
                       ("rerank_needs", needs), ("rerank_queries", queries)):
        with open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        print(f"{name}.jsonl: {len(rows)} lines")
    # The cross-encoder's vocabulary: every word of the data, whole (a small
    # model for a small shop); any other word reads as [UNK].
    words = set()
    for row in catalogue + train + pairs + needs + queries:
        for text in (row.get("text"), row.get("text_pair"), row.get("query")):
            words.update(re.findall(r"[a-z0-9]+|[^\sa-z0-9]", (text or "").lower()))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + sorted(words)
    with open(os.path.join(out, "rerank_vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    print(f"rerank_vocab.txt: {len(vocab)} words")


if __name__ == "__main__":
    main()
