"""Model extraction against `modelgate serve --extraction-alarm`, end to end.

A victim (a financial-sentiment classifier trained here with `modelgate train`)
is served with API keys in SQLite and --extraction-action suspend. Then, one
key per client, one input per request over real HTTP:
  - ordinary traffic: each scenario's own texts (customer-service mails,
    financial headlines, recommendation product texts and shopper needs);
  - synthetic attacks (PRADA, Papernot et al.): random vocabulary tokens, and
    random whole words;
  - natural attacks: SQuAD questions (tests/data/reftok, Apache-2.0), and the
    other scenarios' texts sent to the sentiment model.
Each attacker queries until the server refuses its key (the alarm revoked it)
or its budget is spent. Reported: whether and after how many queries each
attack was detected, false alarms on ordinary traffic, and with --students
the agreement with the victim (on the victim's test headlines) of a student
trained with `modelgate train` on the labels the attacker got before
detection, next to one trained on the whole budget's labels.

Fails (exit 1) when a synthetic attack is not detected, ordinary traffic
alarms, or the alarm's audit entries and revocations are missing.

usage: extraction_attack.py MODELGATE [--shape small|realistic] [--students] [--json FILE]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Checks, Server, ROOT  # noqa: E402

SHAPES = {
    # victim epochs, attack budget (queries), passes over each ordinary stream
    "small": {"epochs": 1, "budget": 300, "passes": 2, "student_epochs": 2},
    "realistic": {"epochs": 5, "budget": 1000, "passes": 2, "student_epochs": 3},
}
VOCAB = os.path.join(ROOT, "tests", "data", "vocab", "bert-base-uncased", "vocab.txt")
EXAMPLES = os.path.join(ROOT, "examples")
SENTIMENT = os.path.join(EXAMPLES, "financial-sentiment", "data")


def texts(path, field="text"):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)[field] for line in f if line.strip()]


def decode(vocab, ids):
    words = []
    for i in ids:
        token = vocab[i]
        if token.startswith("##") and words:
            words[-1] += token[2:]
        else:
            words.append(token)
    return " ".join(words)


def run(*args):
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(" ".join(args[:2]) + ": " + result.stderr.strip()[-400:])
    return result.stdout


class Client:
    """One key's client: one input per request, on a kept-alive connection."""

    def __init__(self, server, key):
        self.server, self.headers = server, {"Authorization": "Bearer " + key}
        self.connection = server.connection()

    def predict(self, text):
        for attempt in range(3):
            try:
                status, _, body = self.server.request("POST", "/predict", {"inputs": text},
                                                      self.headers, self.connection)
                break
            except (ConnectionError, OSError):
                self.connection = self.server.connection()
                if attempt == 2:
                    raise
        return status, (json.loads(body)[0]["label"] if status == 200 else None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("modelgate")
    parser.add_argument("--shape", choices=SHAPES, default="small")
    parser.add_argument("--students", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    shape = SHAPES[args.shape]
    mg = args.modelgate
    work = tempfile.mkdtemp(prefix="mg-extraction-")
    checks = Checks()
    rng = random.Random(2019)

    # The victim.
    t0 = time.time()
    victim = os.path.join(work, "victim")
    run(mg, "train", "--train", os.path.join(SENTIMENT, "train.jsonl"), "--init", "tiny",
        "--vocab", VOCAB, "--out", victim, "--epochs", str(shape["epochs"]), "--batch-size", "16",
        "--lr", "1e-3", "--max-length", "32", "--seed", "42")
    print(f"victim trained in {time.time() - t0:.0f} s", flush=True)

    # The query streams.
    vocab = [line.rstrip("\n") for line in open(VOCAB, encoding="utf-8")]
    pieces = [i for i, t in enumerate(vocab) if i >= 1000 and not t.startswith("[")]
    words = [i for i, t in enumerate(vocab) if i >= 1000 and t.isalpha()]
    budget = shape["budget"]

    def random_sequences(pool, low, high):
        return [decode(vocab, [rng.choice(pool) for _ in range(rng.randint(low, high))])
                for _ in range(budget)]

    squad = json.load(open(os.path.join(ROOT, "tests", "data", "reftok", "swift-transformers",
                                        "tokenized_questions.json")))
    rng.shuffle(squad)
    mails = texts(os.path.join(EXAMPLES, "customer-service", "data", "desk_mail.jsonl"))
    products = texts(os.path.join(EXAMPLES, "recommendation", "data", "train.jsonl"))
    needs = texts(os.path.join(EXAMPLES, "recommendation", "data", "rerank_needs.jsonl"))
    headlines = sum((texts(os.path.join(SENTIMENT, f + ".jsonl"))
                     for f in ("train", "test", "stream")), [])
    others = mails + products
    rng.shuffle(others)
    attacks = {
        "synthetic-tokens": random_sequences(pieces, 5, 30),
        "synthetic-words": random_sequences(words, 5, 20),
        "natural-squad": [decode(vocab, q) for q in squad[:budget]],
        "natural-other-scenarios": (others * (budget // len(others) + 1))[:budget],
    }
    ordinary = {
        "customer-service": mails,
        "financial-sentiment": headlines,
        "recommendation": products + needs,
    }

    db = "sqlite:" + os.path.join(work, "cp.db")
    secrets = {}
    for name in list(ordinary) + list(attacks) + ["admin"]:
        scopes = "admin" if name == "admin" else "classify"
        secrets[name] = run(mg, "keys", "create", "--db", db, "--name", name, "--scopes",
                            scopes).strip()
    server = Server(mg, "--model", victim, "--db", db, "--log-level", "warn",
                    "--extraction-alarm", "--extraction-action", "suspend")
    results = {"shape": args.shape, "ordinary": {}, "attacks": {}}
    answered = {}
    try:
        for name, stream in ordinary.items():
            client = Client(server, secrets[name])
            statuses = {}
            queries = 0
            for _ in range(shape["passes"]):
                order = list(stream)
                rng.shuffle(order)
                for text in order:
                    status, _ = client.predict(text)
                    statuses[status] = statuses.get(status, 0) + 1
                    queries += 1
            results["ordinary"][name] = {"queries": queries, "refused": queries -
                                         statuses.get(200, 0)}
            checks.check(f"ordinary traffic {name} is never refused", statuses.get(200) == queries,
                         str(statuses))
        for name, stream in attacks.items():
            client = Client(server, secrets[name])
            got = []
            refused_with = None
            for text in stream:
                status, label = client.predict(text)
                if status != 200:
                    refused_with = status
                    break
                got.append({"text": text, "label": label})
            answered[name] = got
            results["attacks"][name] = {"budget": budget, "answered": len(got),
                                        "detected": refused_with is not None,
                                        "refused_with": refused_with}
        _, _, metrics = server.request("GET", "/metrics")
        metrics = metrics.decode()
    finally:
        server.stop()

    audit = [json.loads(line) for line in run(mg, "audit", "export", "--db", db).splitlines()
             if line.strip()]
    alarms = {e["target"]: e for e in audit if e.get("action") == "extraction.alarm"}
    revoked = {e["target"]: e for e in audit if e.get("action") == "key.revoke"}
    for name in ordinary:
        results["ordinary"][name]["alarmed"] = name in alarms
        checks.check(f"no alarm on ordinary traffic {name}", name not in alarms,
                     alarms.get(name, {}).get("detail", ""))
    for name, result in results["attacks"].items():
        entry = alarms.get(name)
        if entry:
            fields = dict(part.split("=", 1) for part in entry["detail"].split() if "=" in part)
            result.update(signal=fields.get("signal"), w=float(fields.get("w", "nan")),
                          novelty=float(fields.get("novelty", "nan")),
                          queries_to_detection=int(fields.get("queries", "0")))
        checks.check(f"{name}: refused only after an audited alarm and revocation",
                     result["detected"] == (entry is not None) and
                     (entry is None or (name in revoked and
                                        "extraction alarm" in revoked[name]["detail"])),
                     json.dumps(result))
        if name.startswith("synthetic"):
            checks.check(f"{name} is detected", result["detected"], json.dumps(result))
    checks.check("the audit holds no query text",
                 not any(t["text"][:40] in json.dumps(audit) for a in answered.values()
                         for t in a[:20]))
    checks.check("/metrics counts the alarms",
                 "modelgate_extraction_alarms_total" in metrics and
                 "modelgate_extraction_alarmed_key_w{key_id=" in metrics)
    run(mg, "audit", "verify", "--db", db)

    if args.students:
        test_file = os.path.join(SENTIMENT, "test.jsonl")
        victim_labels = [json.loads(line)["label"] for line in
                         run(mg, "classify", "--model", victim, "--input", test_file).splitlines()]
        for name, got in answered.items():
            result = results["attacks"][name]
            full = [{"text": t} for t in attacks[name]]
            full_file = os.path.join(work, name + "-all.jsonl")
            with open(full_file, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in full)
            labels = [json.loads(line)["label"] for line in
                      run(mg, "classify", "--model", victim, "--input", full_file).splitlines()]
            for which, rows in (("before_detection", got),
                                ("whole_budget", [{"text": r["text"], "label": l}
                                                  for r, l in zip(full, labels)])):
                result[f"student_{which}_examples"] = len(rows)
                data = os.path.join(work, f"{name}-{which}.jsonl")
                with open(data, "w") as f:
                    f.writelines(json.dumps(r) + "\n" for r in rows)
                student = os.path.join(work, f"student-{name}-{which}")
                try:
                    run(mg, "train", "--train", data, "--init", "tiny", "--vocab", VOCAB, "--out",
                        student, "--epochs", str(shape["student_epochs"]), "--batch-size", "16",
                        "--lr", "1e-3", "--max-length", "32", "--seed", "7")
                    predicted = [json.loads(line)["label"] for line in
                                 run(mg, "classify", "--model", student, "--input",
                                     test_file).splitlines()]
                    agree = sum(a == b for a, b in zip(predicted, victim_labels))
                    result[f"student_{which}_agreement"] = round(agree / len(victim_labels), 3)
                except RuntimeError as error:
                    result[f"student_{which}_agreement"] = None
                    result[f"student_{which}_error"] = str(error)[-200:]
            print(f"student {name}: {result}", flush=True)

    print(json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    shutil.rmtree(work, ignore_errors=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
