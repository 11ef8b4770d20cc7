// Shared helpers of the interop tests: the modelgate CLI, a `modelgate serve`
// on a free loopback port, plain HTTP with fetch, and named checks.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'tests', 'data', 'fixtures');
const EMBED_MODEL = path.join(FIXTURES, 'tiny-bert-model-safetensors');
const UNCASED_VOCAB = path.join(ROOT, 'tests', 'data', 'vocab', 'bert-base-uncased', 'vocab.txt');
const SKIP = 77;

// The npm packages a test drives (`names`: openai, langchain, hf,
// tokenizers); exits 77 (skipped) when one is not installed, unless CI is set
// (then a missing client is a failure).
function requireClients(names) {
  const wanted = {
    openai: path.join(__dirname, 'node_modules', 'openai'),
    langchain: path.join(__dirname, 'node_modules', '@langchain', 'openai'),
    hf: path.join(__dirname, 'node_modules', '@huggingface', 'inference'),
    tokenizers: path.join(ROOT, 'tests', 'oracle', 'node_modules', 'tokenizers'),
  };
  const missing = names.map((name) => wanted[name]).filter((dir) => !fs.existsSync(dir));
  if (missing.length > 0) {
    console.log(`npm packages not installed (${missing.join(', ')}); run \`make interop oracle\``);
    process.exit(process.env.CI ? 1 : SKIP);
  }
  return Object.fromEntries(names.map((name) => [name, require(wanted[name])]));
}

class Checks {
  constructor() {
    this.passed = 0;
    this.failed = [];
  }

  check(name, condition, detail = '') {
    if (condition) {
      this.passed += 1;
    } else {
      this.failed.push(name);
      console.log(`FAIL: ${name} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    }
  }

  // Runs `body`; an exception fails the check `name` instead of the suite.
  async section(name, body) {
    try {
      await body();
    } catch (error) {
      this.check(name, false, `threw ${error && error.stack ? error.stack : error}`);
    }
  }

  finish() {
    console.log(`${this.passed} passed, ${this.failed.length} failed`);
    return this.failed.length === 0 ? 0 : 1;
  }
}

function mkTemp(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Runs the CLI; {status, stdout, stderr}.
function cli(binary, args, options = {}) {
  const result = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  return { status: result.status, stdout: result.stdout || '', stderr: result.stderr || '' };
}

function cliOk(binary, args) {
  const result = cli(binary, args);
  if (result.status !== 0) {
    throw new Error(`modelgate ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

// A running `modelgate serve`.
class Server {
  static async start(binary, args) {
    const dir = mkTemp('mg-interop-serve-');
    const portFile = path.join(dir, 'port');
    const logPath = path.join(dir, 'log');
    const log = fs.openSync(logPath, 'w');
    const child = spawn(binary, ['serve', '--port', '0', '--port-file', portFile, ...args], {
      stdio: ['ignore', log, log],
    });
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 60000;
    while (!fs.existsSync(portFile) || fs.readFileSync(portFile, 'utf8').trim() === '') {
      if (exited || Date.now() > deadline) {
        throw new Error(`server did not start: ${fs.readFileSync(logPath, 'utf8')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const server = new Server();
    server.child = child;
    server.logPath = logPath;
    server.port = Number(fs.readFileSync(portFile, 'utf8').trim());
    server.base = `http://127.0.0.1:${server.port}`;
    return server;
  }

  // {status, headers, text, json} of one request; `body` objects are sent as JSON.
  async request(method, route, body, headers = {}) {
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(this.base + route, init);
    const text = await response.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  post(route, body, headers) {
    return this.request('POST', route, body, headers);
  }

  // The value of modelgate_requests_total for `route` and `status` (summed
  // over any other labels).
  async requestCount(route, status) {
    const { text } = await this.request('GET', '/metrics');
    let total = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith('modelgate_requests_total{')) continue;
      if (!line.includes(`route="${route}"`) || !line.includes(`status="${status}"`)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return total;
  }

  log() {
    return fs.readFileSync(this.logPath, 'utf8');
  }

  async stop() {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const done = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    return done;
  }
}

function bearer(key) {
  return { Authorization: `Bearer ${key}` };
}

function norm(vector) {
  return Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
}

function maxAbsDiff(a, b) {
  if (!a || !b || a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; ++i) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function dot(a, b) {
  return a.reduce((sum, x, i) => sum + x * b[i], 0);
}

// Synthetic intent data whose label depends on topic words (as the CLI
// training test makes it).
function intentRows(count, seed) {
  const topics = {
    billing: ['refund', 'charged', 'money', 'invoice', 'payment', 'billing'],
    bug: ['crash', 'error', 'broken', 'freezes', 'bug', 'fails'],
    praise: ['thanks', 'great', 'love', 'wonderful', 'happy', 'excellent'],
  };
  const filler = ['the', 'my', 'a', 'this', 'it', 'today', 'again', 'please'];
  const labels = Object.keys(topics);
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const rows = [];
  for (let i = 0; i < count; ++i) {
    const label = labels[Math.floor(random() * 3)];
    const words = [];
    for (let j = 0; j < 6; ++j) {
      const pool = random() < 0.5 ? topics[label] : filler;
      words.push(pool[Math.floor(random() * pool.length)]);
    }
    rows.push({ id: `r${i}`, text: words.join(' '), label });
  }
  return rows;
}

module.exports = {
  ROOT,
  EMBED_MODEL,
  UNCASED_VOCAB,
  SKIP,
  Checks,
  Server,
  bearer,
  cli,
  cliOk,
  dot,
  intentRows,
  maxAbsDiff,
  mkTemp,
  norm,
  requireClients,
};
