// The real npm clients against `modelgate serve`: openai's embeddings,
// LangChain's OpenAIEmbeddings, @huggingface/inference against the server as
// an endpoint, plain fetch for the TEI routes, and promtool on /metrics.
// Two servers: the bundled tiny embedding model with API keys (SQLite), and a
// classifier trained from scratch here, without keys.
//
// Usage: node clients_test.js MODELGATE
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./harness');

const clients = h.requireClients(['openai', 'langchain', 'hf', 'tokenizers']);
const { OpenAI } = clients.openai;
const binary = path.resolve(process.argv[2] || '');
const checks = new h.Checks();
const work = h.mkTemp('mg-interop-clients-');
const HIDDEN = 32;  // the tiny embedding model's hidden size
const LONG_TEXT = 'refund '.repeat(3000);  // far over any max input length

// A key created in the test database; `args` are keys create's limit flags.
function createKey(db, name, args = []) {
  return h.cliOk(binary, ['keys', 'create', '--db', db, '--name', name, ...args]).trim();
}

function openai(server, apiKey, options = {}) {
  return new OpenAI({ apiKey, baseURL: `${server.base}/v1`, ...options });
}

// The error an async call throws, or null.
async function thrown(call) {
  try {
    await call();
    return null;
  } catch (error) {
    return error;
  }
}

function describe(error) {
  if (!error) return 'no error';
  return `${error.constructor && error.constructor.name} status=${error.status} ` +
    `code=${error.code} message=${error.message}`;
}

function decodeBase64Floats(text) {
  const bytes = Buffer.from(text, 'base64');
  const floats = [];
  for (let offset = 0; offset + 4 <= bytes.length; offset += 4) floats.push(bytes.readFloatLE(offset));
  return floats;
}

function cosine(a, b) {
  return h.dot(a, b) / (h.norm(a) * h.norm(b));
}

async function openaiSuite(server, keys) {
  const client = openai(server, keys.full);
  const teiRows = (await server.post('/embed', { inputs: ['hello world', 'my refund', 'it crashes'] },
    h.bearer(keys.full))).json;

  await checks.section('openai: string', async () => {
    const result = await client.embeddings.create({ model: 'tiny', input: 'hello world' });
    const row = result.data[0].embedding;
    checks.check('openai string: one row of the hidden size',
      result.data.length === 1 && row.length === HIDDEN, result.data.length);
    checks.check('openai string: unit length', Math.abs(h.norm(row) - 1) < 1e-4, h.norm(row));
    checks.check('openai string = TEI /embed', h.maxAbsDiff(row, teiRows[0]) < 1e-5);
    checks.check('openai usage counts tokens', result.usage.prompt_tokens > 0, result.usage);
  });

  await checks.section('openai: array', async () => {
    const input = ['hello world', 'my refund', 'it crashes'];
    const result = await client.embeddings.create({ model: 'tiny', input });
    checks.check('openai array: one row per input in order',
      result.data.length === 3 && result.data.every((d, i) => d.index === i));
    for (let i = 0; i < 3; ++i) {
      checks.check(`openai array row ${i} = TEI /embed`,
        h.maxAbsDiff(result.data[i].embedding, teiRows[i]) < 1e-5);
    }
  });

  await checks.section('openai: base64', async () => {
    const floats = await client.embeddings.create({ model: 'tiny', input: 'my refund',
      encoding_format: 'float' });
    const base64 = await client.embeddings.create({ model: 'tiny', input: 'my refund',
      encoding_format: 'base64' });
    const encoded = base64.data[0].embedding;
    checks.check('openai base64: a string', typeof encoded === 'string', typeof encoded);
    checks.check('openai base64 decodes to the float rows',
      h.maxAbsDiff(decodeBase64Floats(encoded), floats.data[0].embedding) < 1e-6);
  });

  await checks.section('openai: token ids', async () => {
    // The model's ids as /tokenize lists them, [CLS] and [SEP] included:
    // token ids run as given, nothing added.
    const tokens = (await server.post('/tokenize', { inputs: 'hello world' },
      h.bearer(keys.full))).json[0];
    const ids = tokens.map((token) => token.id);
    const text = (await client.embeddings.create({ model: 'tiny', input: 'hello world',
      encoding_format: 'float' })).data[0].embedding;
    const one = await client.embeddings.create({ model: 'tiny', input: ids,
      encoding_format: 'float' });
    checks.check('openai token ids: one row', one.data.length === 1, one.data.length);
    checks.check('openai token ids = the text they tokenize',
      h.maxAbsDiff(one.data[0].embedding, text) < 1e-5);
    const many = await client.embeddings.create({ model: 'tiny', input: [ids, ids.slice(0, 1)],
      encoding_format: 'float' });
    checks.check('openai arrays of token ids: one row each', many.data.length === 2 &&
      h.maxAbsDiff(many.data[0].embedding, text) < 1e-5, many.data.length);
    const bad = await thrown(() => client.embeddings.create({ model: 'tiny',
      input: [ids[0], 999999999] }));
    checks.check('openai token id outside the vocabulary -> 422',
      bad && bad.status === 422 && typeof bad.code === 'string', describe(bad));
  });

  await checks.section('openai: dimensions', async () => {
    const full = (await client.embeddings.create({ model: 'tiny', input: 'my refund',
      encoding_format: 'float' })).data[0].embedding;
    const cut = (await client.embeddings.create({ model: 'tiny', input: 'my refund',
      dimensions: 8, encoding_format: 'float' })).data[0].embedding;
    const prefix = full.slice(0, 8);
    const scale = h.norm(prefix);
    checks.check('openai dimensions: 8 values', cut.length === 8, cut.length);
    checks.check('openai dimensions: renormalised prefix',
      h.maxAbsDiff(cut, prefix.map((x) => x / scale)) < 1e-5);
    for (const dimensions of [0, HIDDEN + 1]) {
      const error = await thrown(() => client.embeddings.create({ model: 'tiny', input: 'x',
        dimensions }));
      checks.check(`openai dimensions ${dimensions} -> 422`, error && error.status === 422 &&
        typeof error.code === 'string', describe(error));
    }
  });

  await checks.section('openai: long input truncated', async () => {
    const response = await server.post('/v1/embeddings', { model: 'tiny', input: [LONG_TEXT, 'x'] },
      h.bearer(keys.full));
    checks.check('/v1/embeddings truncates an over-long input', response.status === 200,
      response.text.slice(0, 300));
    checks.check('/v1/embeddings says x-truncated-inputs: 1',
      response.headers.get('x-truncated-inputs') === '1', response.headers.get('x-truncated-inputs'));
  });

  await checks.section('openai: errors', async () => {
    const noKey = openai(server, 'unused', { defaultHeaders: { Authorization: null } });
    const missing = await thrown(() => noKey.embeddings.create({ model: 'tiny', input: 'x' }));
    checks.check('openai without a key -> AuthenticationError invalid_api_key',
      missing instanceof OpenAI.AuthenticationError && missing.code === 'invalid_api_key',
      describe(missing));
    checks.check('openai without a key: message says missing API key',
      missing && /missing API key/i.test(missing.message), describe(missing));
    const malformed = await thrown(() => openai(server, 'not-a-key').embeddings.create({
      model: 'tiny', input: 'x' }));
    checks.check('openai malformed key -> invalid_api_key, "malformed API key"',
      malformed instanceof OpenAI.AuthenticationError && malformed.code === 'invalid_api_key' &&
      /malformed API key/i.test(malformed.message), describe(malformed));
    const scope = await thrown(() => openai(server, keys.classifyOnly).embeddings.create({
      model: 'tiny', input: 'x' }));
    checks.check('openai key without embed scope -> PermissionDeniedError insufficient_scope',
      scope instanceof OpenAI.PermissionDeniedError && scope.code === 'insufficient_scope' &&
      scope.type === 'permission_error', describe(scope));
    const raw = await server.post('/v1/embeddings', { input: 'x' });
    checks.check('error code is a string, never the HTTP number',
      raw.json && raw.json.error && typeof raw.json.error.code === 'string', raw.text);

    // Token quota: refused at once, no retry and no sleep (x-should-retry: false).
    const quotaClient = openai(server, keys.quota);  // default maxRetries (2)
    let quotaError = null;
    let elapsed = 0;
    let quota429s = 0;
    for (let attempt = 0; attempt < 5 && !quotaError; ++attempt) {
      const before = await server.requestCount('/v1/embeddings', 429);
      const started = Date.now();
      quotaError = await thrown(() => quotaClient.embeddings.create({ model: 'tiny',
        input: 'my refund was charged twice' }));
      elapsed = Date.now() - started;
      quota429s = (await server.requestCount('/v1/embeddings', 429)) - before;
    }
    checks.check('openai quota -> RateLimitError insufficient_quota',
      quotaError instanceof OpenAI.RateLimitError && quotaError.code === 'insufficient_quota',
      describe(quotaError));
    checks.check('openai quota: answered within 10 s (no retry sleep)', elapsed < 10000, elapsed);
    checks.check('openai quota: one request reached the server (no retry)', quota429s === 1,
      quota429s);
    checks.check('openai quota: x-should-retry false',
      quotaError && quotaError.headers && quotaError.headers.get('x-should-retry') === 'false',
      quotaError && quotaError.headers && quotaError.headers.get('x-should-retry'));
    const teiQuota = await server.post('/embed', { inputs: 'my refund' }, h.bearer(keys.quota));
    checks.check('TEI quota: 429 with error_code insufficient_quota and x-should-retry false',
      teiQuota.status === 429 && teiQuota.json && teiQuota.json.error_code ===
      'insufficient_quota' && teiQuota.headers.get('x-should-retry') === 'false', teiQuota.text);

    // Requests per minute: rate_limit_exceeded, retry allowed after a short wait.
    const rpmClient = openai(server, keys.rpm, { maxRetries: 0 });
    await thrown(() => rpmClient.embeddings.create({ model: 'tiny', input: 'x' }));
    const rpm = await thrown(() => rpmClient.embeddings.create({ model: 'tiny', input: 'x' }));
    checks.check('openai rpm -> RateLimitError rate_limit_exceeded',
      rpm instanceof OpenAI.RateLimitError && rpm.code === 'rate_limit_exceeded', describe(rpm));
    checks.check('openai rpm: x-should-retry true and a short Retry-After',
      rpm && rpm.headers && rpm.headers.get('x-should-retry') === 'true' &&
      Number(rpm.headers.get('retry-after')) > 0 && Number(rpm.headers.get('retry-after')) <= 60,
      rpm && rpm.headers && `${rpm.headers.get('x-should-retry')} ${rpm.headers.get('retry-after')}`);
  });
}

async function langchainSuite(server, keys) {
  const { OpenAIEmbeddings } = clients.langchain;
  const embeddings = new OpenAIEmbeddings({
    apiKey: keys.full,
    model: 'tiny',
    configuration: { baseURL: `${server.base}/v1` },
  });
  await checks.section('langchain: embedDocuments 600', async () => {
    const texts = Array.from({ length: 600 }, (_, i) => `ticket ${i}: my refund is late`);
    const before = await server.requestCount('/v1/embeddings', 200);
    const rows = await embeddings.embedDocuments(texts);
    const requests = (await server.requestCount('/v1/embeddings', 200)) - before;
    checks.check('langchain embedDocuments: 600 rows of the hidden size',
      rows.length === 600 && rows.every((row) => row.length === HIDDEN), rows.length);
    checks.check('langchain embedDocuments: batches of 512 (2 requests)', requests === 2, requests);
    const tei = (await server.post('/embed', { inputs: [texts[0], texts[599]] },
      h.bearer(keys.full))).json;
    checks.check('langchain rows = TEI /embed', h.maxAbsDiff(rows[0], tei[0]) < 1e-5 &&
      h.maxAbsDiff(rows[599], tei[1]) < 1e-5);
  });
  await checks.section('langchain: embedQuery', async () => {
    const row = await embeddings.embedQuery('hello world');
    const tei = (await server.post('/embed', { inputs: 'hello world' }, h.bearer(keys.full))).json;
    checks.check('langchain embedQuery = TEI /embed', h.maxAbsDiff(row, tei[0]) < 1e-5);
  });
}

async function huggingFaceSuite(embedServer, classifier, keys) {
  const { InferenceClient } = clients.hf;
  const hf = new InferenceClient(keys.full);
  await checks.section('hf: featureExtraction', async () => {
    const rows = await hf.endpoint(embedServer.base).featureExtraction({ inputs: 'hello world' });
    const tei = (await embedServer.post('/embed', { inputs: 'hello world' }, h.bearer(keys.full)))
      .json;
    const row = Array.isArray(rows[0]) ? rows[0] : rows;
    checks.check('hf featureExtraction = TEI /embed', h.maxAbsDiff(row, tei[0]) < 1e-5);
  });
  await checks.section('hf: sentenceSimilarity', async () => {
    const sentences = ['my refund', 'the app crashes', 'hello world'];
    const scores = await hf.endpoint(`${embedServer.base}/similarity`).sentenceSimilarity({
      inputs: { source_sentence: 'hello world', sentences } });
    const rows = (await embedServer.post('/embed', { inputs: ['hello world', ...sentences] },
      h.bearer(keys.full))).json;
    const want = sentences.map((_, i) => cosine(rows[0], rows[i + 1]));
    checks.check('hf sentenceSimilarity = cosines of /embed', h.maxAbsDiff(scores, want) < 1e-4,
      `${scores} vs ${want}`);
  });
  await checks.section('hf: textClassification', async () => {
    const client = new InferenceClient().endpoint(classifier.base);
    const want = (await classifier.post('/predict', { inputs: 'my refund was charged twice' })).json;
    const got = await client.textClassification({ inputs: 'my refund was charged twice' });
    checks.check('hf textClassification (single string) = /predict',
      Array.isArray(got) && got.length === want.length && got[0].label === want[0].label &&
      Math.abs(got[0].score - want[0].score) < 1e-6, JSON.stringify(got));
  });
}

async function teiSuite(embedServer, classifier, keys) {
  const auth = h.bearer(keys.full);
  await checks.section('tei: ping and routing', async () => {
    const ping = await embedServer.request('GET', '/ping');
    checks.check('GET /ping -> 200 {"status":"ok"} without a key',
      ping.status === 200 && ping.json && ping.json.status === 'ok', ping.text);
    const embed = (await embedServer.post('/embed', { inputs: 'hello' }, auth)).json;
    for (const route of ['/', '/invocations']) {
      const response = await embedServer.post(route, { inputs: 'hello' }, auth);
      checks.check(`POST ${route} = /embed on an embedding model`, response.status === 200 &&
        h.maxAbsDiff(response.json && response.json[0], embed[0]) < 1e-6, response.text.slice(0, 200));
    }
    const predict = (await classifier.post('/predict', { inputs: [['my refund'], ['crash']] })).json;
    for (const route of ['/', '/invocations']) {
      const response = await classifier.post(route, { inputs: [['my refund'], ['crash']] });
      checks.check(`POST ${route} = /predict on a classifier`, response.status === 200 &&
        JSON.stringify(response.json) === JSON.stringify(predict), response.text.slice(0, 300));
    }
    const dashboard = await embedServer.request('GET', '/');
    checks.check('GET / stays the dashboard', dashboard.status === 200 &&
      /html/.test(dashboard.headers.get('content-type') || ''), dashboard.status);
  });

  await checks.section('tei: decode', async () => {
    const tokenizer = clients.tokenizers.Tokenizer.fromFile(
      path.join(classifier.modelDir, 'tokenizer.json'));
    const text = 'my refund was charged twice, please help';
    const ids = (await tokenizer.encode(text)).getIds();
    const want = await tokenizer.decode(ids, true);
    const one = await classifier.post('/decode', { ids, skip_special_tokens: true });
    checks.check('/decode = Hugging Face decode', one.status === 200 && one.json === want,
      `${one.text} vs ${JSON.stringify(want)}`);
    const many = await classifier.post('/decode', { ids: [ids, ids.slice(0, 3)],
      skip_special_tokens: true });
    checks.check('/decode of a batch: a list of texts', many.status === 200 &&
      Array.isArray(many.json) && many.json.length === 2 && many.json[0] === want, many.text);
  });

  await checks.section('tei: similarity, embed_all, embed_sparse', async () => {
    const sentences = ['my refund', 'the app crashes'];
    const similarity = await embedServer.post('/similarity', {
      inputs: { source_sentence: 'hello world', sentences } }, auth);
    const rows = (await embedServer.post('/embed', { inputs: ['hello world', ...sentences] },
      auth)).json;
    checks.check('/similarity = cosines of /embed', similarity.status === 200 &&
      h.maxAbsDiff(similarity.json, [cosine(rows[0], rows[1]), cosine(rows[0], rows[2])]) < 1e-4,
      similarity.text);
    const all = await embedServer.post('/embed_all', { inputs: ['hello world', 'my refund'] },
      auth);
    const tokens = (await embedServer.post('/tokenize', { inputs: ['hello world', 'my refund'] },
      auth)).json;
    checks.check('/embed_all: a row per token of each input', all.status === 200 &&
      all.json.length === 2 && all.json.every((input, i) => input.length === tokens[i].length &&
        input.every((row) => row.length === HIDDEN)), all.text.slice(0, 200));
    const sparse = await embedServer.post('/embed_sparse', { inputs: 'hello' }, auth);
    checks.check('/embed_sparse -> 424 Backend', sparse.status === 424 && sparse.json &&
      sparse.json.error_type === 'Backend', `${sparse.status} ${sparse.text}`);
  });

  await checks.section('tei: tokenize slices', async () => {
    const input = 'Héllo wörld';
    const response = await embedServer.post('/tokenize', { inputs: input }, auth);
    const tokens = response.json[0];
    const bytes = Buffer.from(input, 'utf8');
    checks.check('/tokenize: [CLS] keeps its text, special', tokens[0].text === '[CLS]' &&
      tokens[0].special === true, tokens[0]);
    const words = tokens.filter((token) => !token.special);
    checks.check('/tokenize: each text is the slice of the input it covers', words.length > 0 &&
      words.every((token) => token.text === bytes.subarray(token.start, token.stop).toString()),
      JSON.stringify(words));
    checks.check('/tokenize: "Héllo" spelled as in the input',
      words.map((token) => token.text).join('').startsWith('Héllo'), JSON.stringify(words));
  });

  await checks.section('tei: info', async () => {
    const info = (await embedServer.request('GET', '/info')).json;
    checks.check('/info served_model_name', typeof info.served_model_name === 'string' &&
      info.served_model_name === info.model_id, info);
    checks.check('/info auto_truncate on by default', info.auto_truncate === true, info);
  });

  await checks.section('tei: truncation', async () => {
    const truncated = await embedServer.post('/embed', { inputs: [LONG_TEXT, 'short'] }, auth);
    checks.check('/embed without truncate: over-long input truncated', truncated.status === 200,
      truncated.text.slice(0, 200));
    checks.check('/embed: x-truncated-inputs: 1',
      truncated.headers.get('x-truncated-inputs') === '1', truncated.headers.get('x-truncated-inputs'));
    const refused = await embedServer.post('/embed', { inputs: LONG_TEXT, truncate: false }, auth);
    checks.check('/embed "truncate": false over-long -> 422 Validation', refused.status === 422 &&
      refused.json && refused.json.error_type === 'Validation', refused.text.slice(0, 200));
    const dims = await embedServer.post('/embed', { inputs: 'hello', dimensions: 4 }, auth);
    checks.check('/embed dimensions', dims.status === 200 && dims.json[0].length === 4,
      dims.text.slice(0, 200));
  });

  await checks.section('tei: error types', async () => {
    const empty = await embedServer.post('/embed', { inputs: [] }, auth);
    checks.check('/embed [] -> 400 Empty', empty.status === 400 && empty.json &&
      empty.json.error_type === 'Empty', empty.text);
    const triple = await classifier.post('/predict', { inputs: ['a', 'b', 'c'] });
    checks.check('/predict ["a","b","c"] -> 422 Validation suggesting [["a"],…]',
      triple.status === 422 && triple.json && triple.json.error_type === 'Validation' &&
      triple.json.error.includes('[["a"]'), triple.text);
    const pair = await classifier.post('/predict', { inputs: ['a', 'b'] });
    checks.check('/predict ["a","b"] stays one pair', pair.status === 200 && pair.json.length > 0 &&
      typeof pair.json[0].label === 'string', pair.text);
    const noKey = await embedServer.post('/embed', { inputs: 'x' });
    checks.check('/embed without key: error_code invalid_api_key', noKey.status === 401 &&
      noKey.json && noKey.json.error_code === 'invalid_api_key' &&
      typeof noKey.json.error_type === 'string', noKey.text);
    const badJson = await embedServer.post('/embed', '{"inputs": ', auth);
    checks.check('/embed bad JSON: 4xx with error_type', badJson.status >= 400 &&
      badJson.status < 500 && badJson.json && typeof badJson.json.error_type === 'string',
      badJson.text);
    const notFound = await embedServer.post('/no-such-route', { inputs: 'x' }, auth);
    checks.check('unknown route: 404 with error_code not_found', notFound.status === 404 &&
      notFound.json && notFound.json.error_code === 'not_found', notFound.text);
  });
}

// promtool's own parser and linter on the server's /metrics after traffic.
async function metricsSuite(embedServer) {
  await checks.section('promtool', async () => {
    const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (promtool.error) {
      checks.check('promtool installed (Debian package prometheus)', false, promtool.error.message);
      return;
    }
    const metrics = (await embedServer.request('GET', '/metrics')).text;
    checks.check('/metrics has traffic', /modelgate_requests_total\{/.test(metrics));
    const result = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    checks.check('promtool check metrics', result.status === 0,
      `${result.status} ${result.stdout} ${result.stderr}`);
  });
}

async function main() {
  const db = `sqlite:${path.join(work, 'control.db')}`;
  const keys = {
    full: createKey(db, 'full', ['--scopes', 'embed,classify']),
    classifyOnly: createKey(db, 'classify-only', ['--scopes', 'classify']),
    quota: createKey(db, 'quota', ['--scopes', 'embed', '--quota-tokens', '1']),
    rpm: createKey(db, 'rpm', ['--scopes', 'embed', '--rpm', '1']),
  };
  const data = path.join(work, 'train.jsonl');
  fs.writeFileSync(data, h.intentRows(48, 5).map((row) => JSON.stringify(row)).join('\n') + '\n');
  const classifierDir = path.join(work, 'classifier');
  h.cliOk(binary, ['train', '--train', data, '--init', 'tiny', '--vocab', h.UNCASED_VOCAB,
    '--epochs', '1', '--batch-size', '8', '--max-length', '32', '--threads', '2', '--out',
    classifierDir]);

  const embedServer = await h.Server.start(binary, ['--model', h.EMBED_MODEL, '--db', db,
    '--threads', '1', '--log-level', 'warn']);
  const classifier = await h.Server.start(binary, ['--model', classifierDir, '--threads', '1',
    '--log-level', 'warn']);
  classifier.modelDir = classifierDir;
  try {
    await openaiSuite(embedServer, keys);
    await langchainSuite(embedServer, keys);
    await huggingFaceSuite(embedServer, classifier, keys);
    await teiSuite(embedServer, classifier, keys);
    await metricsSuite(embedServer);
  } finally {
    checks.check('embedding server stops cleanly', (await embedServer.stop()) === 0,
      embedServer.log().slice(-2000));
    checks.check('classifier server stops cleanly', (await classifier.stop()) === 0,
      classifier.log().slice(-2000));
  }
}

main().then(() => {
  if (checks.failed.length === 0) fs.rmSync(work, { recursive: true, force: true });
  process.exit(checks.finish());
}, (error) => {
  console.log(`FAIL: ${error.stack || error}`);
  process.exit(1);
});
