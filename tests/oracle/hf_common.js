'use strict';
// Shared helpers for the Hugging Face tokenizer oracle scripts (hf_tokenize.js,
// hf_bench.js): command-line parsing, construction of a BERT WordPiece
// tokenizer identical to the one transformers' BertTokenizerFast builds from a
// vocab.txt, and conversion of the binding's offsets to UTF-8 byte offsets.
//
// The environment variables below are set before the native binding is
// loaded so that the Rust library never starts more than one worker:
//   TOKENIZERS_PARALLELISM=false  makes encode_batch iterate serially;
//   RAYON_NUM_THREADS=1           caps rayon's global pool at one thread.
// Each encode()/encodeBatch() call runs on one libuv worker thread while the
// JavaScript thread waits, and the callers await every call before issuing
// the next, so at most one thread does tokenisation work at any time.
process.env.TOKENIZERS_PARALLELISM = 'false';
process.env.RAYON_NUM_THREADS = '1';

const fs = require('fs');
const { Tokenizer } = require('tokenizers');

// The five BERT special tokens, registered as added special tokens.
const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

// Order in which transformers registers special tokens that are missing from
// the vocabulary (SPECIAL_TOKENS_ATTRIBUTES: unk, sep, pad, cls, mask); such
// tokens receive ids after the last vocabulary line.
const MISSING_SPECIAL_ORDER = ['[UNK]', '[SEP]', '[PAD]', '[CLS]', '[MASK]'];

/**
 * Parses "--name value" / "--flag" style arguments.
 * @param {string[]} argv arguments after the script name
 * @param {Set<string>} flags option names that take no value
 * @returns {{opts: Object<string,string|boolean>, positional: string[]}}
 */
function parseArgs(argv, flags) {
  const opts = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      let name = a.slice(2);
      let value;
      const eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.slice(eq + 1);
        name = name.slice(0, eq);
      } else if (flags.has(name)) {
        value = true;
      } else {
        if (i + 1 >= argv.length) throw new Error(`option --${name} needs a value`);
        value = argv[++i];
      }
      opts[name] = value;
    } else {
      positional.push(a);
    }
  }
  return { opts, positional };
}

/** Parses "true"/"false" (case-insensitive); returns dflt when value is undefined. */
function parseBool(name, value, dflt) {
  if (value === undefined) return dflt;
  if (value === true) return true;
  const v = String(value).toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error(`--${name} expects true or false, got ${JSON.stringify(value)}`);
}

/**
 * Reads a BERT vocab.txt the way transformers' load_vocab does: one token per
 * line, the id is the 0-based line number, a later duplicate overrides an
 * earlier one. Lines are split on '\n' only (some vocabularies, e.g.
 * bert-base-chinese, contain U+2028 inside tokens); a trailing '\r' is
 * removed when present; a final '\n' does not start an extra empty token.
 * @returns {{vocab: Map<string, number>, size: number}} size = number of lines
 */
function readVocab(path) {
  const text = fs.readFileSync(path, 'utf8');
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map();
  for (let i = 0; i < lines.length; i++) {
    let tok = lines[i];
    if (tok.endsWith('\r')) tok = tok.slice(0, -1);
    vocab.set(tok, i);
  }
  return { vocab, size: lines.length };
}

/**
 * Builds the tokenizer.json document that BertTokenizerFast produces for a
 * vocab.txt (same schema as bert-base-uncased/tokenizer.json):
 *   normalizer     BertNormalizer(clean_text, handle_chinese_chars,
 *                  strip_accents, lowercase)
 *   pre_tokenizer  BertPreTokenizer
 *   model          WordPiece(unk "[UNK]", prefix "##", max 100 chars/word)
 *   post_processor TemplateProcessing "[CLS]:0 $A:0 [SEP]:0" /
 *                  "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"
 *   added_tokens   [PAD] [UNK] [CLS] [SEP] [MASK], special, normalized=false
 * @param {string} vocabPath path of vocab.txt
 * @param {{lowercase: boolean, stripAccents: boolean|null, chinese: boolean}} o
 *        stripAccents null means "follow lowercase" (BertNormalizer's rule)
 * @returns {string} tokenizer.json text
 */
function bertTokenizerJson(vocabPath, o) {
  const { vocab, size } = readVocab(vocabPath);
  // Special tokens absent from the vocabulary get ids after the last line.
  let next = size;
  const specialId = {};
  for (const tok of MISSING_SPECIAL_ORDER) {
    if (vocab.has(tok)) {
      specialId[tok] = vocab.get(tok);
    } else {
      specialId[tok] = next++;
      process.stderr.write(`warning: ${tok} is not in ${vocabPath}; using id ${specialId[tok]}\n`);
    }
  }
  const addedTokens = SPECIAL_TOKENS.map((tok) => ({
    id: specialId[tok],
    content: tok,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  })).sort((a, b) => a.id - b.id);

  // Prototype-less object so that tokens such as "__proto__" or "constructor"
  // are ordinary keys; duplicates were already resolved by readVocab.
  const vocabObj = Object.create(null);
  for (const [tok, id] of vocab) vocabObj[tok] = id;

  const cls = specialId['[CLS]'];
  const sep = specialId['[SEP]'];
  const doc = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: o.chinese,
      strip_accents: o.stripAccents,
      lowercase: o.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: vocabObj,
    },
  };
  return JSON.stringify(doc);
}

/**
 * Creates the tokenizer selected by the common options:
 *   --tokenizer-json PATH
 *   --vocab PATH [--lowercase true|false] [--strip-accents true|false|none]
 *                [--chinese true|false]
 *   --pad-token TOKEN  the padding token (default [PAD])
 * Truncation and padding stored in a tokenizer.json are switched off (as
 * transformers does for a call without truncation/padding); callers enable
 * them explicitly.
 * @returns {{tokenizer: Tokenizer, padId: number, padToken: string}}
 */
function loadTokenizer(opts) {
  let tokenizer;
  if (opts['tokenizer-json'] !== undefined) {
    if (opts.vocab !== undefined) throw new Error('give either --tokenizer-json or --vocab, not both');
    tokenizer = Tokenizer.fromFile(opts['tokenizer-json']);
  } else if (opts.vocab !== undefined) {
    const lowercase = parseBool('lowercase', opts.lowercase, true);
    const chinese = parseBool('chinese', opts.chinese, true);
    let stripAccents = null;
    if (opts['strip-accents'] !== undefined) {
      const v = String(opts['strip-accents']).toLowerCase();
      stripAccents = v === 'none' || v === 'null' ? null : parseBool('strip-accents', v, null);
    }
    tokenizer = Tokenizer.fromString(bertTokenizerJson(opts.vocab, { lowercase, stripAccents, chinese }));
  } else {
    throw new Error('one of --tokenizer-json PATH or --vocab PATH is required');
  }
  tokenizer.disableTruncation();
  tokenizer.disablePadding();
  const padToken = opts['pad-token'] === undefined ? '[PAD]' : String(opts['pad-token']);
  const padId = tokenizer.tokenToId(padToken);
  return { tokenizer, padId: padId === null ? 0 : padId, padToken };
}

/**
 * Maps code-point positions of a string to UTF-8 byte positions.
 *
 * Offset unit of this binding (tokenizers 0.23.2, Node): Encoding.getOffsets()
 * returns offsets in Unicode code points (Rust chars) of the original input
 * string, not UTF-16 code units and not bytes. Measured with the
 * bert-base-uncased tokenizer:
 *   "é x"   -> x at [2,3]  (UTF-16 [2,3], bytes [3,4])
 *   "😀 x"  -> x at [2,3]  (UTF-16 [3,4], bytes [5,6])
 *   "中 x"  -> x at [2,3]  (bytes [4,5])
 *   "a😀😀 b" -> [UNK] at [0,3], b at [4,5] (UTF-16 [0,5]/[6,7], bytes [0,9]/[10,11])
 * Offsets of a pair's second sequence are relative to the second text.
 *
 * Returns null for pure-ASCII strings (code points == bytes); otherwise an
 * Int32Array of length (code points + 1) whose entry i is the byte offset of
 * code point i. A lone surrogate counts as one code point of 3 bytes, because
 * the binding receives it as U+FFFD.
 */
function cpToByteMap(s) {
  if (Buffer.byteLength(s, 'utf8') === s.length) return null;
  const map = new Int32Array(s.length + 1);
  let cp = 0;
  let b = 0;
  for (let i = 0; i < s.length; ) {
    map[cp++] = b;
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      b += 1;
      i += 1;
    } else if (c < 0x800) {
      b += 2;
      i += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      b += 4;
      i += 2;
    } else {
      b += 3;
      i += 1;
    }
  }
  map[cp] = b;
  return map.subarray(0, cp + 1);
}

/** Converts one code-point offset with a map from cpToByteMap. */
function toByte(map, pos) {
  if (map === null) return pos;
  if (pos < 0 || pos >= map.length) throw new Error(`offset ${pos} outside text of ${map.length - 1} code points`);
  return map[pos];
}

/**
 * Converts an Encoding to the oracle's output object with UTF-8 byte offsets.
 * Tokens of sequence 1 (the pair) are mapped through pairMap, tokens of
 * sequence 0 through textMap; special and padding tokens (sequence id null)
 * get [0,0].
 */
function encodingToRecord(enc, textMap, pairMap) {
  const offsets = enc.getOffsets();
  const seqIds = enc.getSequenceIds();
  const out = new Array(offsets.length);
  for (let i = 0; i < offsets.length; i++) {
    const s = seqIds[i];
    if (s === null || s === undefined) {
      out[i] = [0, 0];
    } else {
      const map = s === 1 ? pairMap : textMap;
      out[i] = [toByte(map, offsets[i][0]), toByte(map, offsets[i][1])];
    }
  }
  return { ids: enc.getIds(), tokens: enc.getTokens(), type_ids: enc.getTypeIds(), offsets: out };
}

module.exports = {
  parseArgs,
  parseBool,
  readVocab,
  bertTokenizerJson,
  loadTokenizer,
  cpToByteMap,
  encodingToRecord,
  SPECIAL_TOKENS,
};
