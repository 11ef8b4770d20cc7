// The re-ranking routes as their clients call them: TEI's POST /rerank and
// the Cohere/Jina POST /v1/rerank, against a cross-encoder trained here
// (train --cross-encoder). Scores are checked against /predict on the same
// (query, text) pairs, and the order against the scores.
//
// Usage: node rerank_test.js MODELGATE
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

const binary = path.resolve(process.argv[2] || '');
const checks = new h.Checks();
const work = h.mkTemp('mg-interop-rerank-');

const QUERY = 'refund for a double charge';
const TEXTS = ['the invoice charged me twice, I want my money back', 'the app crashes on start',
  'thanks, wonderful support', 'refund the payment please'];

// (query, passage, relevance) rows: passages of the query's topic are relevant.
function pairRows() {
  const rows = h.intentRows(96, 11);
  const queries = { billing: 'refund money', bug: 'app error', praise: 'happy customer' };
  return rows.map((row, i) => {
    const topic = Object.keys(queries)[i % 3];
    return { text: queries[topic], text_pair: row.text, label: row.label === topic ? 1 : 0 };
  });
}

async function main() {
  const data = path.join(work, 'pairs.jsonl');
  fs.writeFileSync(data, pairRows().map((row) => JSON.stringify(row)).join('\n') + '\n');
  const model = path.join(work, 'reranker');
  h.cliOk(binary, ['train', '--cross-encoder', '--train', data, '--init', 'tiny', '--vocab',
    h.UNCASED_VOCAB, '--epochs', '1', '--batch-size', '8', '--max-length', '32', '--threads', '2',
    '--out', model]);
  const server = await h.Server.start(binary, ['--model', model, '--threads', '1',
    '--log-level', 'warn']);
  try {
    const predicted = (await server.post('/predict', {
      inputs: TEXTS.map((text) => [QUERY, text]) })).json;
    const want = predicted.map((scores, index) => ({ index, score: scores[0].score }))
      .sort((a, b) => b.score - a.score);

    await checks.section('TEI /rerank', async () => {
      const response = await server.post('/rerank', { query: QUERY, texts: TEXTS,
        return_text: true });
      checks.check('/rerank -> 200', response.status === 200, response.text);
      const got = response.json;
      checks.check('/rerank: every text once, best first', got.length === TEXTS.length &&
        got.every((entry, i) => i === 0 || got[i - 1].score >= entry.score), response.text);
      checks.check('/rerank: order and scores of /predict on the pairs',
        got.every((entry, i) => entry.index === want[i].index &&
          Math.abs(entry.score - want[i].score) < 1e-5), `${response.text} vs ${JSON.stringify(want)}`);
      checks.check('/rerank return_text', got.every((entry) => entry.text === TEXTS[entry.index]),
        response.text);
    });

    await checks.section('Cohere/Jina /v1/rerank', async () => {
      const response = await server.post('/v1/rerank', { model: 'reranker', query: QUERY,
        documents: TEXTS.map((text, i) => (i % 2 ? { text } : text)), top_n: 2,
        return_documents: true });
      checks.check('/v1/rerank -> 200', response.status === 200, response.text);
      const results = response.json.results;
      checks.check('/v1/rerank: top_n best, relevance_score of /predict',
        results.length === 2 && results.every((entry, i) => entry.index === want[i].index &&
          Math.abs(entry.relevance_score - want[i].score) < 1e-5), response.text);
      checks.check('/v1/rerank return_documents', results.every((entry) =>
        entry.document && entry.document.text === TEXTS[entry.index]), response.text);
      checks.check('/v1/rerank usage', response.json.usage &&
        response.json.usage.total_tokens > 0, response.text);
      const bad = await server.post('/v1/rerank', { query: QUERY });
      checks.check('/v1/rerank without documents: OpenAI-style error with a string code',
        bad.status === 422 && bad.json && bad.json.error && typeof bad.json.error.code ===
        'string', bad.text);
    });
  } finally {
    checks.check('server stops cleanly', (await server.stop()) === 0, server.log().slice(-2000));
  }
}

main().then(() => {
  if (checks.failed.length === 0) fs.rmSync(work, { recursive: true, force: true });
  process.exit(checks.finish());
}, (error) => {
  console.log(`FAIL: ${error.stack || error}`);
  process.exit(1);
});
