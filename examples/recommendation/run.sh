#!/usr/bin/env bash
# Recommendation, end to end: train a small product encoder on the shop's own
# labelled descriptions, release it open (signed Hugging Face folder), verify
# it, index the catalogue with it and recommend products for a user's history;
# then serve the catalogue over HTTP with API keys in SQLite: the merchandiser
# adds a product, the storefront asks for recommendations. Last, a
# cross-encoder trained on shoppers' queries reranks what the catalogue
# recalls, over HTTP, and held-out queries measure what reranking adds.
#
# usage: examples/recommendation/run.sh [MODELGATE_BINARY] [WORK_DIR]
#   defaults: build/apps/modelgate/modelgate, out/recommendation
# Knobs (environment): EPOCHS (8), RERANK_EPOCHS (10), THREADS (2).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/examples/lib.sh"
scenario_setup recommendation "$@"
EPOCHS="${EPOCHS:-8}"
RERANK_EPOCHS="${RERANK_EPOCHS:-10}"
THREADS="${THREADS:-2}"
HERE="$ROOT/examples/recommendation"

section "1. data: a 120-product catalogue, 480 labelled descriptions, queries (synthetic)"
wc -l "$HERE/data/catalogue.jsonl" "$HERE/data/train.jsonl" "$HERE/data/rerank_train.jsonl" \
  "$HERE/data/rerank_needs.jsonl" "$HERE/data/rerank_queries.jsonl" | sed '$d'

section "2. train the product encoder (tiny preset, department as the training label)"
"$MG" train --train "$HERE/data/train.jsonl" --init tiny \
  --vocab "$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt" --out encoder \
  --epochs "$EPOCHS" --batch-size 16 --lr 1e-3 --max-length 32 --seed 42 --threads "$THREADS" |
  tail -n 1

section "3. release the encoder open (Apache-2.0) and verify it"
"$MG" keygen --out vendor
"$MG" release open --model encoder --out shop-encoder --license Apache-2.0 --sign vendor.key \
  --model-id shop-encoder
"$MG" verify shop-encoder --pub vendor.pub

section "4. index the catalogue with the released encoder"
"$MG" items add --model shop-encoder --index catalogue --input "$HERE/data/catalogue.jsonl" \
  --threads "$THREADS"
"$MG" items list --index catalogue >items.jsonl
head -n 3 items.jsonl

section "5. recommend for a user who bought a rain jacket and a backpack and searched for boots"
cat "$HERE/history.jsonl"
"$MG" recommend --model shop-encoder --index catalogue --history-file "$HERE/history.jsonl" \
  --k 5 --exclude-seen --threads "$THREADS" >recommended.jsonl
node -e '
const fs = require("fs");
const items = new Map(fs.readFileSync(process.argv[1], "utf8").trim().split("\n")
  .map((l) => JSON.parse(l)).map((i) => [i.id, i]));
for (const line of fs.readFileSync("recommended.jsonl", "utf8").trim().split("\n")) {
  const r = JSON.parse(line);
  const item = items.get(r.id);
  console.log(`  ${r.id}  ${r.score.toFixed(3)}  [${item.tags.join(",")}] ${item.text}`);
}' "$HERE/data/catalogue.jsonl"

section "6. search the catalogue: \"gift for a child who likes puzzles\", toys only"
"$MG" recommend --model shop-encoder --index catalogue --query "gift for a child who likes puzzles" \
  --k 3 --tags toys --threads "$THREADS"

section "7. serve the encoder and the catalogue over HTTP, keys in SQLite"
"$MG" keys create --db sqlite:shop.db --name merchandiser --scopes admin >merchandiser.secret
"$MG" keys create --db sqlite:shop.db --name storefront --scopes recommend >storefront.secret
echo "keys merchandiser (admin) and storefront (recommend) created"
start_server --model shop-encoder --vendor-pub vendor.pub --index catalogue --db sqlite:shop.db \
  --threads "$THREADS"
post() {  # KEY_FILE PATH BODY: prints the HTTP status, then the body
  curl -s -w '\n%{http_code}\n' -H "Authorization: Bearer $(cat "$1")" \
    -H 'Content-Type: application/json' -d "$3" "$URL$2" | tail -n 2 | tac | tr '\n' ' '
  echo
}
echo "serving $URL"

section "8. the merchandiser adds a new product through POST /v1/items"
post merchandiser.secret /v1/items \
  '{"items": [{"id": "sku-299", "text": "ultralight waterproof trail running shoes for mountain hikes", "tags": ["outdoor"]}]}'
echo "the storefront key may not change the catalogue:"
post storefront.secret /v1/items '{"items": [{"id": "sku-x", "text": "anything"}]}'

section "9. the storefront asks POST /v1/recommend for the same user"
post storefront.secret /v1/recommend \
  '{"history": [{"id": "sku-201"}, {"text": "waterproof hiking boots for the mountains"}, {"id": "sku-205"}], "k": 5}' |
  node -e '
const [status, ...rest] = require("fs").readFileSync(0, "utf8").trim().split(" ");
console.log(`HTTP ${status}`);
for (const r of JSON.parse(rest.join(" "))) console.log(`  ${r.id}  ${r.score.toFixed(3)}`);'

section "10. train the reranker: a cross-encoder on shoppers' queries paired with products"
# First a base that reads the shop's language: which department a product
# description or a shopper's need belongs to; then the cross-encoder,
# fine-tuned from it on (query, product, relevant or not) pairs.
cat "$HERE/data/train.jsonl" "$HERE/data/rerank_needs.jsonl" >rerank_base.jsonl
"$MG" train --train rerank_base.jsonl --init tiny --vocab "$HERE/data/rerank_vocab.txt" \
  --out reranker-base --epochs 8 --batch-size 16 --lr 1e-3 --max-length 32 --seed 42 \
  --threads "$THREADS" | tail -n 1
"$MG" train --cross-encoder --train "$HERE/data/rerank_train.jsonl" --base reranker-base \
  --out reranker --epochs "$RERANK_EPOCHS" --batch-size 16 --lr 2e-4 --max-length 32 --seed 42 \
  --threads "$THREADS" | tail -n 1

section "11. recall 100 products per held-out query (POST /v1/recommend), rerank them (POST /rerank)"
"$MG" keys create --db sqlite:shop.db --name search --scopes recommend >search.secret
# The reranker is a second, internal server (no keys) beside the catalogue's.
"$MG" serve --model reranker --port 0 --port-file rerank.port --threads "$THREADS" \
  --max-client-batch-size 100 --log-level warn >rerank-server.log 2>&1 &
RERANK_PID=$!
for _ in $(seq 1 300); do
  [[ -s rerank.port ]] && break
  kill -0 "$RERANK_PID" 2>/dev/null || { cat rerank-server.log; exit 1; }
  sleep 0.1
done
python3 "$HERE/rerank_eval.py" "$HERE/data/catalogue.jsonl" "$HERE/data/rerank_queries.jsonl" \
  "$URL" search.secret "http://127.0.0.1:$(cat rerank.port)" 100
kill -TERM "$RERANK_PID"
wait "$RERANK_PID" || true
stop_server
echo "server stopped"
"$MG" usage --db sqlite:shop.db

echo
echo "recommendation scenario done in $(($(date +%s) - started)) s"
