#!/usr/bin/env python3
"""Generates the synthetic financial headlines of this scenario from templates.

Each headline is made from a template with a clear sentiment (positive,
negative or neutral towards the company named), a fictional company and
figures drawn with a fixed seed, so the output is the same on every run.
Train and test use different companies; the stream (unlabelled) uses yet
others. The files are committed; this script documents how they were made.

usage: make_headlines.py OUTDIR   (writes train.jsonl, test.jsonl, stream.jsonl)
"""
import json
import os
import random
import sys

POSITIVE = [
    "{c} beats quarterly profit estimates as revenue jumps {p}%",
    "{c} shares surge {p}% after record sales",
    "{c} raises full-year guidance on strong demand",
    "{c} wins ${n} billion contract, stock rallies",
    "{c} reports {p}% rise in net income",
    "{c} lifts dividend by {p}% after strong year",
    "Analysts upgrade {c} to buy on robust growth outlook",
    "{c} posts record operating margin, shares climb",
    "{c} profit doubles as costs fall",
    "{c} expands into new markets, revenue soars {p}%",
    "{c} announces ${n} billion share buyback, stock gains",
    "Strong orders push {c} to all-time high",
]
NEGATIVE = [
    "{c} misses earnings estimates, shares plunge {p}%",
    "{c} cuts full-year outlook as demand weakens",
    "{c} shares tumble {p}% after profit warning",
    "{c} to lay off {k} workers amid falling sales",
    "{c} reports {p}% drop in quarterly revenue",
    "{c} suspends dividend after heavy losses",
    "Regulators fine {c} ${n} million over accounting failures",
    "Analysts downgrade {c} to sell on weak guidance",
    "{c} posts surprise loss, stock slumps",
    "{c} faces lawsuit over defective products, shares slide",
    "Credit agency cuts {c} rating to junk",
    "{c} recalls products, warns of lower profit",
]
NEUTRAL = [
    "{c} to hold annual shareholder meeting on {d}",
    "{c} appoints new chief financial officer",
    "{c} will report quarterly results on {d}",
    "{c} moves headquarters to a new office building",
    "{c} names {k} directors to its board",
    "{c} schedules investor day for {d}",
    "{c} completes previously announced name change",
    "{c} publishes annual sustainability report",
    "{c} confirms date of its earnings call",
    "{c} opens a regional office",
    "{c} updates its corporate governance guidelines",
    "{c} files annual report with regulators",
]

TRAIN_COMPANIES = [
    "Northwind Traders", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella Foods",
    "Stark Metals", "Wayne Logistics", "Acme Mining", "Vandelay Imports", "Hooli",
    "Soylent Corp", "Tyrell Systems", "Cyberdyne Energy", "Wonka Confectionery",
    "Oceanic Airlines", "Gringotts Bank", "Pied Piper", "Massive Dynamic", "Aperture Labs",
]
TEST_COMPANIES = [
    "Blue Harbor Bank", "Redwood Pharma", "Silverline Telecom", "Everest Motors",
    "Helios Solar", "Granite Insurance", "Lumen Retail", "Orion Shipping",
]
STREAM_COMPANIES = [
    "Atlas Chemicals", "Beacon Media", "Crescent Foods", "Delta Semiconductors",
    "Evergreen Utilities", "Falcon Aerospace", "Summit Healthcare", "Zenith Software",
]
DATES = ["March 3", "April 21", "May 14", "June 9", "July 30", "September 12", "October 8",
         "November 18"]


def headline(rng, template, company):
    return template.format(c=company, p=rng.randint(2, 45), n=rng.randint(1, 12),
                           k=rng.choice([3, 4, 5, 200, 1500, 4000]), d=rng.choice(DATES))


def make(rng, companies, count):
    rows = []
    for i in range(count):
        label, templates = [("positive", POSITIVE), ("negative", NEGATIVE),
                            ("neutral", NEUTRAL)][i % 3]
        rows.append({"text": headline(rng, rng.choice(templates), rng.choice(companies)),
                     "label": label})
    rng.shuffle(rows)
    return rows


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(20261128)
    sets = {"train": make(rng, TRAIN_COMPANIES, 360), "test": make(rng, TEST_COMPANIES, 120),
            "stream": make(rng, STREAM_COMPANIES, 120)}
    for name, rows in sets.items():
        with open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8") as f:
            for n, row in enumerate(rows):
                record = {"id": f"{name}-{n + 1:04d}", "text": row["text"]}
                if name != "stream":
                    record["label"] = row["label"]
                f.write(json.dumps(record) + "\n")
        print(f"{name}.jsonl: {len(rows)} headlines")


if __name__ == "__main__":
    main()
