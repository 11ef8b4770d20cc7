// The dashboard in a real browser: Debian's headless Chromium driven by
// playwright-core (no browser download), against a real `modelgate serve`
// with the SQLite control plane, a 3-label classifier and real traffic from
// two keys. Checks sign-in (a wrong key refused, the admin key accepted),
// that every page shows the server's own data (compared with what the test
// sent and with the admin API read directly), creating a key in the page
// (secret shown once, then usable) and revoking it (then refused with 401),
// and that the page logs no console error and no request fails. Saves a
// screenshot of each page.
//
// Usage: node dashboard_test.js MODELGATE_BINARY ARTIFACT_DIR
'use strict';

const { chromium } = require('playwright-core');
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const BINARY = path.resolve(process.argv[2] || 'build/apps/modelgate/modelgate');
const ARTIFACTS = path.resolve(process.argv[3] || path.join(ROOT, 'build', 'test-artifacts'));
const CHROMIUM = process.env.MG_CHROMIUM || '/usr/bin/chromium';

let passed = 0;
let failed = 0;
function check(name, condition, detail = '') {
  if (condition) {
    passed += 1;
  } else {
    failed += 1;
    console.log(`FAIL: ${name} ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
}

function modelgate(args) {
  return execFileSync(BINARY, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function waitForFile(file, child, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (!fs.existsSync(file) || fs.readFileSync(file, 'utf8').trim() === '') {
    if (child.exitCode !== null) throw new Error('modelgate serve exited with ' + child.exitCode);
    if (Date.now() > deadline) throw new Error('modelgate serve did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return Number(fs.readFileSync(file, 'utf8').trim());
}

async function call(base, method, route, key, body) {
  const headers = {};
  if (key) headers.Authorization = 'Bearer ' + key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const reply = await fetch(base + route, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await reply.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
  return { status: reply.status, json, text };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mg-dashboard-'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const model = path.join(tmp, 'classifier');
  execFileSync('/usr/bin/python3', ['-B', '-c',
    'import sys; sys.path.insert(0, sys.argv[1]); from serve_harness import make_classifier; ' +
    'make_classifier(sys.argv[2])', path.join(ROOT, 'tests', 'serve'), model]);
  // Served as a closed release with a licence that has quotas, so that the
  // model page shows the licence and its counts.
  const file = (name) => path.join(tmp, name);
  modelgate(['keygen', '--out', file('vendor')]);
  modelgate(['keygen', '--out', file('deploy'), '--type', 'deploy']);
  modelgate(['keygen', '--out', file('audit')]);  // the audit page verifies with its public key
  modelgate(['release', 'closed', '--model', model, '--out', file('classifier.mgb'), '--sign',
    file('vendor.key'), '--to', file('deploy.pub'), '--model-id', 'classifier', '--require-license']);
  modelgate(['license', 'issue', '--sign', file('vendor.key'), '--licensee', 'Acme Support',
    '--model', 'classifier', '--expires', '2099-12-31', '--max-requests', '1000',
    '--max-tokens-per-day', '100000', '--out', file('acme.lic')]);
  const db = 'sqlite:' + path.join(tmp, 'control.db');
  const create = (name, scopes) =>
    modelgate(['keys', 'create', '--db', db, '--name', name, '--scopes', scopes]).trim();
  const adminKey = create('admin', 'admin,classify,embed');
  const acmeKey = create('acme', 'classify');
  const globexKey = create('globex', 'classify,embed');

  const portFile = path.join(tmp, 'port');
  const log = fs.openSync(path.join(tmp, 'serve.log'), 'w');
  // --metrics-auth: the Latency page reads /metrics with the admin key too.
  const server = spawn(BINARY, ['serve', '--model', file('classifier.mgb'), '--key',
    file('deploy.key'), '--license', file('acme.lic'), '--vendor-pub', file('vendor.pub'),
    '--db', db, '--auth', 'on', '--audit-key', file('audit.key'),
    '--metrics-auth', '--port', '0', '--port-file', portFile], { stdio: ['ignore', log, log] });
  let browser = null;
  try {
    const port = await waitForFile(portFile, server, 60);
    const base = `http://127.0.0.1:${port}`;

    // Traffic from two keys, so that usage, latency and audit have something to show.
    const sent = { acme: 0, globex: 0 };
    for (let i = 0; i < 5; i++) {
      const r = await call(base, 'POST', '/predict', acmeKey, { inputs: `refund for order ${i}` });
      check('acme /predict', r.status === 200, r.text);
      sent.acme += 1;
    }
    for (let i = 0; i < 3; i++) {
      const r = await call(base, 'POST', '/embed', globexKey, { inputs: [`hello ${i}`, 'world'] });
      check('globex /embed', r.status === 200, r.text);
      sent.globex += 1;
    }
    const forbidden = await call(base, 'POST', '/embed', acmeKey, { inputs: 'no embed scope' });
    check('acme has no embed scope: 403', forbidden.status === 403, forbidden.text);
    const anonymous = await call(base, 'POST', '/predict', '', { inputs: 'who am I' });
    check('no key: 401', anonymous.status === 401, anonymous.text);

    // The admin API, read directly: the reference for what the pages show.
    const keys = await call(base, 'GET', '/admin/keys', adminKey);
    check('GET /admin/keys', keys.status === 200, keys.text);
    const today = new Date(Date.now() - 7 * 86400e3).toISOString().slice(0, 10);
    const usage = await call(base, 'GET', '/admin/usage?since=' + today + '&bucket=hour', adminKey);
    check('GET /admin/usage', usage.status === 200, usage.text);
    const usageRequests = {};
    for (const row of (usage.json && usage.json.rows) || []) {
      usageRequests[row.key] = (usageRequests[row.key] || 0) + row.requests;
    }
    check('usage counts acme\'s requests', usageRequests.acme >= sent.acme, usageRequests);
    check('usage counts globex\'s requests', usageRequests.globex >= sent.globex, usageRequests);

    const userData = fs.mkdtempSync(path.join(tmp, 'chromium-'));
    browser = await chromium.launchPersistentContext(userData, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    const page = browser.pages()[0] || await browser.newPage();
    const problems = [];
    let expected401 = 0;  // the wrong key at sign-in: its response
    let expected401Logs = 0;  // and the console line Chromium writes for it
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // Chromium logs every 4xx fetch as a console error; the one expected
      // refusal is accounted for.
      if (/status of 401/.test(m.text()) && expected401Logs > 0) { expected401Logs -= 1; return; }
      problems.push('console: ' + m.text());
    });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('requestfailed', (r) => problems.push('request failed: ' + r.url() + ' ' +
      (r.failure() && r.failure().errorText)));
    page.on('response', (r) => {
      if (r.status() < 400) return;
      if (r.status() === 401 && expected401 > 0) { expected401 -= 1; return; }
      problems.push(`HTTP ${r.status()} ${r.url()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) problems.push('external request: ' + r.url());
    });
    page.on('dialog', (d) => d.accept());

    const shots = [];
    const shot = async (name) => {
      const file = path.join(ARTIFACTS, `dashboard-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      shots.push(file);
    };

    await page.goto(base + '/');
    await page.waitForSelector('#sign-in:not([hidden])');
    await shot('sign-in');
    expected401 = 1;
    expected401Logs = 1;
    await page.fill('#admin-key', 'mg_wrong_key_0000000000000000');
    await page.click('#sign-in-form button');
    await page.waitForFunction(() => document.getElementById('sign-in-error').textContent !== '');
    const refusal = await page.textContent('#sign-in-error');
    check('a wrong key is refused with a message', /Sign-in failed/.test(refusal), refusal);
    check('still on the sign-in form', await page.isVisible('#sign-in'));
    await shot('sign-in-refused');

    await page.fill('#admin-key', adminKey);
    await page.click('#sign-in-form button');
    await page.waitForSelector('#page-model');
    const modelText = await page.textContent('#page');
    check('model page: model id', modelText.includes('classifier'), modelText);
    check('model page: labels', /billing, technical, other/.test(modelText), modelText);
    const info = (await call(base, 'GET', '/info')).json;
    check('model page: release mode and weights hash from /info',
      modelText.includes('Release mode' + info.release_mode) && modelText.includes(info.sha256),
      modelText);
    // 5 /predict and 3 /embed were served; the 401 and the 403 do not count.
    check('model page: licensee', modelText.includes('LicenseeAcme Support'), modelText);
    check('model page: licence requests used of the quota',
      modelText.includes('Licence requests used8 of 1,000'), modelText);
    check('model page: licence tokens today', /Licence tokens today \(UTC\)\d+ of 100,000/.test(modelText),
      modelText);
    await shot('model');

    await page.goto(base + '/#/usage');
    await page.waitForSelector('#page-usage');
    const usageText = await page.textContent('#page-usage');
    check('usage page: both keys', usageText.includes('acme') && usageText.includes('globex'),
      usageText);
    const usageRows = await page.$$eval('#page-usage table tbody tr', (rows) =>
      rows.map((r) => [...r.cells].map((c) => c.textContent)));
    const rowOf = (name) => usageRows.find((r) => r[0] === name) || [];
    check('usage page: acme requests = admin API',
      Number(rowOf('acme')[1].replace(/,/g, '')) === usageRequests.acme, usageRows);
    check('usage page: globex requests = admin API',
      Number(rowOf('globex')[1].replace(/,/g, '')) === usageRequests.globex, usageRows);
    const charts = await page.$$eval('#page-usage svg.chart', (svgs) =>
      svgs.map((s) => s.querySelectorAll('circle').length));
    check('usage page: two charts with data points', charts.length === 2 &&
      charts.every((n) => n >= 2), charts);
    await shot('usage');

    const unauthenticated = await call(base, 'GET', '/metrics');
    check('/metrics needs a key (--metrics-auth)', unauthenticated.status === 401,
      String(unauthenticated.status));
    const metrics = (await call(base, 'GET', '/metrics', adminKey)).text;
    const predicted = metrics.match(/modelgate_requests_total\{route="\/predict",status="200"\} (\d+)/);
    await page.goto(base + '/#/latency');
    await page.waitForSelector('#page-latency');
    const latencyRows = await page.$$eval('#page-latency table:last-of-type tbody tr', (rows) =>
      rows.map((r) => [...r.cells].map((c) => c.textContent)));
    const predictRow = latencyRows.find((r) => r[0] === '/predict') || [];
    check('latency page: /predict requests from /metrics', predicted &&
      Number((predictRow[1] || '').replace(/,/g, '')) >= Number(predicted[1]), latencyRows);
    const latencyText = await page.textContent('#page-latency');
    check('latency page: percentiles', /p50 latency\s*[0-9.]+ ms/.test(latencyText), latencyText);
    await shot('latency');

    await page.goto(base + '/#/audit');
    await page.waitForSelector('#page-audit');
    const auditText = await page.textContent('#page-audit');
    check('audit page: chain verified', /chain verified/.test(auditText), auditText);
    check('audit page: entries of both keys', auditText.includes('acme') &&
      auditText.includes('globex'), auditText);
    await shot('audit');

    await page.goto(base + '/#/keys');
    await page.waitForSelector('#page-keys');
    const keysText = await page.textContent('#page-keys');
    check('keys page: every key', ['admin', 'acme', 'globex'].every((k) => keysText.includes(k)),
      keysText);
    check('keys page: no secret', ![adminKey, acmeKey, globexKey].some((k) => keysText.includes(k)));
    await page.fill('#create-key input[name=name]', 'from-the-ui');
    await page.fill('#create-key input[name=scopes]', 'classify');
    await page.fill('#create-key input[name=output_policy]', 'label');
    await page.click('#create-key button[type=submit]');
    await page.waitForSelector('#new-key-secret');
    const secret = (await page.textContent('#new-key-secret')).trim();
    check('created key: secret shown', /^mg_/.test(secret), secret);
    await shot('keys-created');
    const withNew = await call(base, 'POST', '/predict', secret, { inputs: 'new key works' });
    check('the new key is accepted', withNew.status === 200, withNew.text);
    const labelOnly = JSON.parse(withNew.text);
    check('the new key gets its output policy: one label, no score',
      labelOnly.length === 1 && typeof labelOnly[0].label === 'string' && labelOnly[0].score === null,
      withNew.text);
    await page.reload();
    await page.waitForSelector('#page-keys');
    check('secret not shown again', !(await page.textContent('#page')).includes(secret));
    const newRow = await page.$$eval('#page-keys table tbody tr', (rows) => rows
      .map((r) => r.textContent).find((t) => t.includes('from-the-ui')));
    check('key table shows the output policy', /label/.test(newRow || ''), newRow);
    await page.click('button[data-revoke="from-the-ui"]');
    await page.waitForFunction(() => !document.querySelector('button[data-revoke="from-the-ui"]'));
    const revokedRow = await page.$$eval('#page-keys table tbody tr', (rows) => rows
      .map((r) => r.textContent).find((t) => t.includes('from-the-ui')));
    check('revoked key shown as revoked', /revoked/.test(revokedRow || ''), revokedRow);
    await shot('keys');
    const afterRevoke = await call(base, 'POST', '/predict', secret, { inputs: 'revoked' });
    check('a revoked key gets 401', afterRevoke.status === 401, afterRevoke.text);

    check('no console errors, failed or external requests', problems.length === 0, problems);
    check('the expected refusal was seen', expected401 === 0 && expected401Logs === 0);
    for (const file of shots) console.log('screenshot: ' + file);
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r() : server.on('exit', r)));
  }
  check('server exits 0', server.exitCode === 0, String(server.exitCode));
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  console.log('FAIL: ' + (error.stack || error));
  process.exit(1);
});
