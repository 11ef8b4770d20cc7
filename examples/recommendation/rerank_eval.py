#!/usr/bin/env python3
"""Recall, then rerank, over HTTP, measured on held-out queries.

For every query of QUERIES ({"query", "relevant": [ids]}), POST /v1/recommend
{"query", "k": K} on the catalogue server recalls K candidates; POST /rerank on
the cross-encoder's server scores the query against each candidate's text and
reorders them. Prints nDCG@10 and precision@5 of the recall order and of the
reranked order (binary relevance: the products the query asks for), and the
first query's top five both ways.

usage: rerank_eval.py CATALOGUE QUERIES RECALL_URL RECALL_KEY_FILE RERANK_URL [K]
"""
import json
import math
import sys
import urllib.request


def post(url, body, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    request = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def ndcg(ranked, relevant, depth=10):
    dcg = sum(1 / math.log2(rank + 2) for rank, item in enumerate(ranked[:depth])
              if item in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), depth)))
    return dcg / ideal if ideal else 0.0


def precision(ranked, relevant, depth=5):
    return sum(item in relevant for item in ranked[:depth]) / depth


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    catalogue_path, queries_path, recall_url, key_file, rerank_url = sys.argv[1:6]
    k = int(sys.argv[6]) if len(sys.argv) == 7 else 20
    with open(catalogue_path, encoding="utf-8") as f:
        texts = {item["id"]: item["text"] for item in map(json.loads, f)}
    with open(queries_path, encoding="utf-8") as f:
        queries = [json.loads(line) for line in f]
    with open(key_file, encoding="utf-8") as f:
        key = f.read().strip()
    totals = {"recall": [0.0, 0.0], "rerank": [0.0, 0.0]}
    example = None
    for q in queries:
        # Products added over HTTP since (not in CATALOGUE) are left out.
        recalled = [r["id"] for r in post(recall_url + "/v1/recommend",
                                          {"query": q["query"], "k": k}, key) if r["id"] in texts]
        scored = post(rerank_url + "/rerank",
                      {"query": q["query"], "texts": [texts[i] for i in recalled]})
        reranked = [recalled[r["index"]] for r in scored]
        relevant = set(q["relevant"])
        for name, ranked in (("recall", recalled), ("rerank", reranked)):
            totals[name][0] += ndcg(ranked, relevant)
            totals[name][1] += precision(ranked, relevant)
        if example is None:
            example = (q, recalled, reranked, {r["index"]: r["score"] for r in scored})
    n = len(queries)
    print(f"{n} held-out queries, {k} candidates recalled for each, reranked by the cross-encoder")
    for label, name in (("recall only:    ", "recall"), ("recall + rerank:", "rerank")):
        print(f"{label} nDCG@10 {totals[name][0] / n:.3f}  P@5 {totals[name][1] / n:.3f}")
    q, recalled, reranked, scores = example
    print(f"query \"{q['query']}\" (relevant: {', '.join(q['relevant'])})")
    for label, ranked in (("recall", recalled), ("rerank", reranked)):
        print(f"  {label}: " + ", ".join(
            ("*" if i in q["relevant"] else "") + i for i in ranked[:5]))
    best = reranked[0]
    print(f"  top after rerank: {best} {texts[best]!r} "
          f"(score {scores[recalled.index(best)]:.3f})")


if __name__ == "__main__":
    main()
