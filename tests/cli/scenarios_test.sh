#!/usr/bin/env bash
# Runs a business scenario of examples/ exactly as the README shows it and
# checks the key lines of its output: the model's accuracy on held-out data,
# verified releases, labels answered by the HTTP API, recommendations.
#
# usage: scenarios_test.sh MODELGATE_BINARY customer-service|financial-sentiment|recommendation
# (financial-sentiment reads PRESET and VOCAB from the environment, as its
# run.sh does: the model family and size it trains from scratch.)
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$1"
SCENARIO="$2"

"$ROOT/examples/$SCENARIO/run.sh" "$MG" "$TMP/work" >"$TMP/log" 2>&1
status=$?
cat "$TMP/log"
check "$SCENARIO exits 0" [ "$status" -eq 0 ]
has() { grep -qE -- "$1" "$TMP/log"; }
lacks() { ! grep -qE -- "$1" "$TMP/log"; }
count() { grep -cE -- "$1" "$TMP/log"; }
# "test accuracy 96.7 %" -> at least MIN percent.
accuracy_at_least() {
  local value
  value="$(sed -nE 's/^test accuracy ([0-9.]+) %.*/\1/p' "$TMP/log")"
  [[ -n "$value" ]] && awk -v v="$value" -v m="$1" 'BEGIN { exit !(v >= m) }'
}

# "recall only:     nDCG@10 0.244 …" and "recall + rerank: nDCG@10 0.746 …":
# the second at least MIN above the first.
rerank_gain_at_least() {
  local recall rerank
  recall="$(sed -nE 's/^recall only: +nDCG@10 ([0-9.]+) .*/\1/p' "$TMP/log")"
  rerank="$(sed -nE 's/^recall \+ rerank: nDCG@10 ([0-9.]+) .*/\1/p' "$TMP/log")"
  [[ -n "$recall" && -n "$rerank" ]] &&
    awk -v a="$recall" -v b="$rerank" -v m="$1" 'BEGIN { exit !(b >= a + m) }'
}

case "$SCENARIO" in
  customer-service)
    check "accuracy printed, >= 90 %" accuracy_at_least 90
    check "bundle verified" has "^OK: closed bundle of spam-filter, .*requires a licence"
    check "licence signature valid" has "^signature: valid"
    check "customer key created" has "created key 'acme-helpdesk'"
    check "server reports the closed release" has "^model spam-filter: closed release"
    check "five mails answered with labels" [ "$(count '^mail-[1-5] .* -> (ham|spam) \(0\.[0-9]{3}\)$')" -eq 5 ]
    # Every sample mail gets the label it carries in incoming.jsonl.
    while read -r id label; do
      check "$id is $label" has "^$id .* -> $label \("
    done < <(sed -E 's/^\{"id":"([^"]+)".*"label":"([a-z]+)"\}$/\1 \2/' \
      "$ROOT/examples/customer-service/incoming.jsonl")
    check "five sample mails checked" [ "$(grep -c '"label":"\(ham\|spam\)"}$' \
      "$ROOT/examples/customer-service/incoming.jsonl")" -eq 5 ]
    check "answers as labelled: 5 of 5" has "^answers as labelled in incoming.jsonl: 5 of 5$"
    check "dashboard served" has "^dashboard: http://127\.0\.0\.1:[0-9]+/ \(HTTP 200;"
    check "request without a key refused" has "^no key: HTTP 401$"
    check "trial key refused over its quota" has "^acme-trial request [0-9]: HTTP 429$"
    check "licence quota shown" has '^  modelgate_licence_max_requests\{licence_id="[0-9a-f]{32}"\} 100000$'
    check "licence requests counted" has '^  modelgate_licence_requests_used\{licence_id="[0-9a-f]{32}"\} ([6-9]|1[0-9])$'
    check "usage shows the help desk's 5 requests" has "^acme-helpdesk +[0-9TZ:-]+ +5 +0 "
    check "audit chain intact" has "^audit chain intact"
    check "server stopped" has "^server stopped"
    ;;
  financial-sentiment)
    check "trained the ${PRESET:-tiny} preset" has "^== 2\. train .* \(${PRESET:-tiny} preset,"
    check "accuracy printed, >= 90 %" accuracy_at_least 90
    check "stream classified with throughput" \
      has "^classified 3000 texts \([0-9]+ tokens\) in [0-9.]+ s: [0-9]+ texts/s, [0-9]+ tokens/s$"
    check "open base verified" has "^OK: open release of fin-sentiment-base"
    check "hybrid head verified" has "^OK: hybrid bundle of fin-sentiment"
    check "hybrid pair agrees with the model" has "^hybrid labels identical on 120 headlines"
    check "API: positive headline" has "^  positive [01]\.[0-9]{2}  Quantum Robotics beats"
    check "API: negative headline" has "^  negative [01]\.[0-9]{2}  Quantum Robotics shares tumble"
    check "API: neutral headline" has "^  neutral  [01]\.[0-9]{2}  Quantum Robotics will report"
    check "server stopped" has "^server stopped"
    ;;
  recommendation)
    check "open release verified" has "^OK: open release of shop-encoder"
    check "catalogue indexed" has '^\{"added":120,"items":120,"replaced":0\}'
    check "five recommendations" [ "$(count '^  sku-[0-9]+  [0-9.]+  \[')" -eq 5 ]
    check "recommendations are outdoor products" [ "$(count '^  sku-2[0-9]+  [0-9.]+  \[outdoor\]')" -eq 5 ]
    check "history items not recommended again" lacks "^  sku-20[15] "
    check "tag-filtered search returns toys" [ "$(count '^\{"id":"sku-6[0-9]+","score"')" -eq 3 ]
    check "product added over HTTP" has '^200 \{"added":1,"items":121,"replaced":0\}'
    check "storefront key may not add products" has '^403 .*"type":"permission_error".*"code":"insufficient_scope"'
    check "recommendations over HTTP" has '^HTTP 200$'
    check "five recommended over HTTP" [ "$(count '^  sku-[0-9]+  [0-9.]+$')" -eq 5 ]
    check "reranker trained" has '^\{"epoch":[0-9]+,.*"train_loss":[0-9.e-]+'
    check "held-out queries recalled and reranked over HTTP" \
      has '^60 held-out queries, 100 candidates recalled for each, reranked'
    check "reranking beats recall alone by >= 0.2 nDCG@10" rerank_gain_at_least 0.2
    check "usage per key" has '^storefront +[0-9TZ:-]+ +1 +0 '
    check "the search key's 60 recalls metered" has '^search +[0-9TZ:-]+ +60 +0 '
    check "server stopped" has "^server stopped"
    ;;
  *)
    echo "unknown scenario $SCENARIO"
    exit 2
    ;;
esac
finish
