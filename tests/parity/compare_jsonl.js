#!/usr/bin/env node
'use strict';
// Compares two tokenisation outputs line by line (JSON lines with ids, tokens,
// type_ids, offsets) and reports every difference with the input text.
//
// usage: node compare_jsonl.js EXPECTED.jsonl ACTUAL.jsonl INPUT.jsonl LABEL
// Prints "LABEL: N/N identical" and exits 0 only when every line is identical.

const fs = require('fs');

function readLines(path) {
  const lines = fs.readFileSync(path, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const [expectedPath, actualPath, inputPath, label] = process.argv.slice(2);
if (!label) {
  console.error('usage: node compare_jsonl.js EXPECTED.jsonl ACTUAL.jsonl INPUT.jsonl LABEL');
  process.exit(2);
}
const expected = readLines(expectedPath);
const actual = readLines(actualPath);
const inputs = readLines(inputPath).filter((l) => l.trim() !== '');

let identical = 0;
let shown = 0;
const fields = ['ids', 'tokens', 'type_ids', 'offsets'];
const n = Math.max(expected.length, actual.length);
for (let i = 0; i < n; i++) {
  if (i >= expected.length || i >= actual.length) break;
  const e = JSON.parse(expected[i]);
  const a = JSON.parse(actual[i]);
  let firstBad = null;
  for (const f of fields) {
    if (JSON.stringify(e[f]) !== JSON.stringify(a[f])) {
      const len = Math.max(e[f].length, a[f].length);
      let pos = 0;
      while (pos < len && JSON.stringify(e[f][pos]) === JSON.stringify(a[f][pos])) pos++;
      firstBad = { field: f, pos };
      break;
    }
  }
  if (!firstBad) {
    identical++;
    continue;
  }
  if (shown++ < 10) {
    const { field, pos } = firstBad;
    const input = inputs[i] ? JSON.parse(inputs[i]) : {};
    const lo = Math.max(0, pos - 3);
    console.log(`${label}: line ${i + 1} differs in ${field} at token ${pos}` +
      (input.source ? ` (${input.source})` : ''));
    console.log(`  expected ${field}[${lo}..]: ${JSON.stringify(e[field].slice(lo, pos + 4))}`);
    console.log(`  actual   ${field}[${lo}..]: ${JSON.stringify(a[field].slice(lo, pos + 4))}`);
    console.log(`  expected tokens: ${JSON.stringify(e.tokens.slice(lo, pos + 4))}`);
    console.log(`  actual   tokens: ${JSON.stringify(a.tokens.slice(lo, pos + 4))}`);
    const off = e.offsets[pos] || a.offsets[pos];
    if (input.text !== undefined && off) {
      const bytes = Buffer.from(input.text, 'utf8');
      const snippet = bytes.slice(Math.max(0, off[0] - 20), off[1] + 20).toString('utf8');
      console.log(`  text near byte ${off[0]}: ${JSON.stringify(snippet)}`);
    }
  }
}
const lineCountOk = expected.length === actual.length;
console.log(`${label}: ${identical}/${expected.length} identical` +
  (lineCountOk ? '' : ` (line counts differ: expected ${expected.length}, actual ${actual.length})`));
process.exit(identical === expected.length && lineCountOk ? 0 : 1);
