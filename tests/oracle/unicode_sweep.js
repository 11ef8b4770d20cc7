#!/usr/bin/env node
'use strict';
// Character-class sweep of Hugging Face's BERT normalizer and pre-tokenizer
// over every Unicode scalar value. For each code point C it prints one line:
//   hex(C) \t clean("x" C "y") \t pieces("x" C "y") \t uncased(C)
// where clean() is BertNormalizer with only text cleaning, pieces() is
// BertPreTokenizer's split (pieces joined by "|"), uncased() is the full
// uncased BertNormalizer (clean, CJK spacing, accent stripping, lower-case);
// strings are written as hex of their UTF-8 bytes.
// tests/parity/unicode_sweep.cc prints the same for modelgate.
process.env.RAYON_NUM_THREADS = '1';
process.env.TOKENIZERS_PARALLELISM = 'false';
const { bertNormalizer, bertPreTokenizer } = require('tokenizers');

const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
const clean = bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const uncased = bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true });
const pre = bertPreTokenizer();

const out = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  const probe = 'x' + c + 'y';
  const pieces = pre.preTokenizeString(probe).map((p) => hex(p[0])).join('|');
  out.push(`${cp.toString(16)}\t${hex(clean.normalizeString(probe))}\t${pieces}\t${hex(uncased.normalizeString(c))}`);
  if (out.length >= 65536) {
    process.stdout.write(out.join('\n') + '\n');
    out.length = 0;
  }
}
process.stdout.write(out.join('\n') + '\n');
