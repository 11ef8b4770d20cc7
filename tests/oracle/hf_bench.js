#!/usr/bin/env node
'use strict';
// Throughput of Hugging Face tokenizers (npm "tokenizers") on one thread.
//
// Usage:
//   node hf_bench.js (--tokenizer-json PATH | --vocab VOCAB.txt [--lowercase true|false]
//                    [--strip-accents true|false|none] [--chinese true|false])
//                    [--reps N] [--warmup N] [--batch N] CORPUS.jsonl
//
// Tokenises every line of the corpus ({"text": ..., optional "text_pair"})
// with special tokens, no truncation and no padding. Single texts go through
// encodeBatch in batches of --batch lines (default 256); pairs through
// encode. One warm-up pass (--warmup, default 1) precedes --reps timed passes
// (default 3); the best pass is reported as one JSON line:
//   {"tool":"hf-tokenizers","docs":N,"bytes":B,"tokens":T,"seconds":s,
//    "tokens_per_s":x,"mb_per_s":y}
// bytes is the UTF-8 size of all texts (text + text_pair), tokens the total
// number of tokens including [CLS]/[SEP]; MB means 10^6 bytes.
//
// Single thread: hf_common.js sets TOKENIZERS_PARALLELISM=false and
// RAYON_NUM_THREADS=1 before loading the binding, and every call is awaited
// before the next, so one libuv worker thread tokenises while the JavaScript
// thread waits. `/usr/bin/time -v node hf_bench.js ...` reports about 100%
// CPU.
//
// A timed pass includes what a caller of the library pays per batch: crossing
// from JavaScript into Rust, tokenisation (normalisation, pre-tokenisation,
// WordPiece, post-processing, offsets) and creation of the Encoding objects;
// reading each Encoding's length is the only work done on the results.

const fs = require('fs');
const { parseArgs, loadTokenizer } = require('./hf_common');

function intOpt(opts, name, dflt, min) {
  if (opts[name] === undefined) return dflt;
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} expects an integer >= ${min}`);
  return n;
}

/** Loads the corpus into batches: {texts: string[]} or {pair: [a, b]}. */
function loadCorpus(file, batchSize) {
  const batches = [];
  let docs = 0;
  let bytes = 0;
  let current = null;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const obj = JSON.parse(lines[i]);
    if (typeof obj.text !== 'string') throw new Error(`${file}:${i + 1}: no string "text"`);
    docs++;
    bytes += Buffer.byteLength(obj.text, 'utf8');
    if (typeof obj.text_pair === 'string') {
      bytes += Buffer.byteLength(obj.text_pair, 'utf8');
      batches.push({ pair: [obj.text, obj.text_pair] });
      current = null;
      continue;
    }
    if (current === null || current.texts.length >= batchSize) {
      current = { texts: [] };
      batches.push(current);
    }
    current.texts.push(obj.text);
  }
  return { batches, docs, bytes };
}

/** One pass over the corpus; returns the number of tokens produced. */
async function pass(tokenizer, batches) {
  const options = { addSpecialTokens: true };
  let tokens = 0;
  for (const b of batches) {
    if (b.pair !== undefined) {
      const enc = await tokenizer.encode(b.pair[0], b.pair[1], options);
      tokens += enc.getLength();
    } else {
      const encs = await tokenizer.encodeBatch(b.texts, options);
      for (const e of encs) tokens += e.getLength();
    }
  }
  return tokens;
}

async function main() {
  const { opts, positional } = parseArgs(process.argv.slice(2), new Set());
  if (positional.length !== 1) throw new Error('usage: node hf_bench.js (--vocab VOCAB.txt ... | --tokenizer-json PATH) [--reps N] [--warmup N] [--batch N] CORPUS.jsonl');
  const reps = intOpt(opts, 'reps', 3, 1);
  const warmup = intOpt(opts, 'warmup', 1, 0);
  const batchSize = intOpt(opts, 'batch', 256, 1);
  const { tokenizer } = loadTokenizer(opts);
  const { batches, docs, bytes } = loadCorpus(positional[0], batchSize);

  for (let i = 0; i < warmup; i++) await pass(tokenizer, batches);
  let best = Infinity;
  let tokens = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    tokens = await pass(tokenizer, batches);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  const result = {
    tool: 'hf-tokenizers',
    docs,
    bytes,
    tokens,
    seconds: Number(best.toFixed(6)),
    tokens_per_s: Math.round(tokens / best),
    mb_per_s: Number((bytes / 1e6 / best).toFixed(3)),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  process.stderr.write(`hf_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
