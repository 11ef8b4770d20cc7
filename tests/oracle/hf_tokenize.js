#!/usr/bin/env node
'use strict';
// Reference tokenisation with Hugging Face tokenizers (npm "tokenizers").
//
// Input: JSON lines, each {"text": "...", "text_pair": "..."} (text_pair
// optional; a string, even an empty one, makes the line a pair; null or
// absent means a single sequence). Blank lines are skipped.
// Output: one JSON line per input line, in input order:
//   {"ids":[...],"tokens":[...],"type_ids":[...],"offsets":[[b,e],...]}
// Offsets are UTF-8 byte offsets into the text the token came from ("text"
// for sequence 0, "text_pair" for sequence 1); special and padding tokens
// have [0,0]. See cpToByteMap in hf_common.js for the binding's native unit.
//
// Usage:
//   node hf_tokenize.js --tokenizer-json PATH [options] [INPUT.jsonl] < in > out
//   node hf_tokenize.js --vocab PATH/vocab.txt [--lowercase true|false]
//        [--strip-accents true|false|none] [--chinese true|false] [options]
// Options:
//   --max-length N   truncate to N tokens (longest_first, stride 0, right)
//   --no-special     do not add [CLS]/[SEP]
//   --pad-to N       pad to N tokens with [PAD] (type id 0, offsets [0,0])
//   --pad-token T    the padding token (default [PAD]; <pad> for RoBERTa)
//   --batch N        lines per encodeBatch call (default 256)
// Input is read from the file given as positional argument, or from stdin.
// All input is read before any output is written, so a caller may write its
// whole input before reading the output without risk of a pipe deadlock.
//
// Runs tokenisation on one thread (see hf_common.js) and keeps input order:
// consecutive single-text lines go through encodeBatch (which accepts only
// single strings in this binding), pair lines through encode, each call
// awaited before the next.

const fs = require('fs');
const { parseArgs, loadTokenizer, cpToByteMap, encodingToRecord } = require('./hf_common');

const USAGE =
  'usage: node hf_tokenize.js (--tokenizer-json PATH | --vocab VOCAB.txt [--lowercase true|false] ' +
  '[--strip-accents true|false|none] [--chinese true|false]) [--max-length N] [--no-special] ' +
  '[--pad-to N] [--pad-token T] [--batch N] [INPUT.jsonl]';

/** Parses a positive integer option. */
function intOpt(opts, name, dflt) {
  if (opts[name] === undefined) return dflt;
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} expects a positive integer`);
  return n;
}

/** Reads the whole input (file or stdin) as UTF-8 text. */
function readInput(path) {
  return fs.readFileSync(path === undefined ? 0 : path, 'utf8');
}

/**
 * Parses the JSON lines. Returns [{text, pair, line}] where pair is null for
 * a single sequence; line is the 1-based input line number for messages.
 */
function parseLines(input) {
  const items = [];
  const lines = input.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (raw.trim() === '') continue;
    let obj;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      throw new Error(`line ${i + 1}: invalid JSON: ${e.message}`);
    }
    if (obj === null || typeof obj !== 'object' || typeof obj.text !== 'string') {
      throw new Error(`line ${i + 1}: expected an object with a string "text"`);
    }
    const pair = obj.text_pair === undefined || obj.text_pair === null ? null : obj.text_pair;
    if (pair !== null && typeof pair !== 'string') {
      throw new Error(`line ${i + 1}: "text_pair" must be a string or null`);
    }
    items.push({ text: obj.text, pair, line: i + 1 });
  }
  return items;
}

/** Buffered writer for stdout that flushes in large chunks. */
class Output {
  constructor() {
    this.parts = [];
    this.size = 0;
  }
  push(line) {
    this.parts.push(line, '\n');
    this.size += line.length + 1;
    if (this.size >= 1 << 20) this.flush();
  }
  flush() {
    if (this.parts.length === 0) return;
    fs.writeSync(1, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

async function main() {
  const { opts, positional } = parseArgs(process.argv.slice(2), new Set(['no-special', 'help']));
  if (opts.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (positional.length > 1) throw new Error(USAGE);
  const { tokenizer, padId, padToken } = loadTokenizer(opts);
  const maxLength = intOpt(opts, 'max-length', 0);
  const padTo = intOpt(opts, 'pad-to', 0);
  const batchSize = intOpt(opts, 'batch', 256);
  const addSpecialTokens = !opts['no-special'];

  if (maxLength > 0) {
    tokenizer.setTruncation(maxLength, { strategy: 'LongestFirst', stride: 0, direction: 'right' });
  }
  if (padTo > 0) {
    tokenizer.setPadding({ maxLength: padTo, direction: 'right', padId, padTypeId: 0, padToken });
  }
  const encodeOptions = { addSpecialTokens };

  const items = parseLines(readInput(positional[0]));
  const out = new Output();

  let i = 0;
  while (i < items.length) {
    if (items[i].pair !== null) {
      // Pair: encode(text, pair) on its own.
      const it = items[i];
      const enc = await tokenizer.encode(it.text, it.pair, encodeOptions);
      out.push(JSON.stringify(encodingToRecord(enc, cpToByteMap(it.text), cpToByteMap(it.pair))));
      i++;
      continue;
    }
    // Run of single texts: one encodeBatch call (results come back in order).
    let j = i;
    while (j < items.length && j - i < batchSize && items[j].pair === null) j++;
    const texts = items.slice(i, j).map((it) => it.text);
    const encs = await tokenizer.encodeBatch(texts, encodeOptions);
    for (let k = 0; k < encs.length; k++) {
      out.push(JSON.stringify(encodingToRecord(encs[k], cpToByteMap(texts[k]), null)));
    }
    i = j;
  }
  out.flush();
}

main().catch((e) => {
  process.stderr.write(`hf_tokenize: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
