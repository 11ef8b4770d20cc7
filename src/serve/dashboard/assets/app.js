// modelgate dashboard: a single page that reads the server's own API
// (/info, /metrics, /admin/keys, /admin/usage, /admin/audit) with an admin
// key held in this tab's sessionStorage. No external requests.
'use strict';

const KEY_STORE = 'modelgate.admin-key';
const COLORS = ['#2e5bda', '#e04f16', '#12b76a', '#7a5af8', '#f79009', '#0ba5ec', '#ee46bc', '#667085'];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svgEl(tag, attrs = {}) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

function adminKey() { return sessionStorage.getItem(KEY_STORE) || ''; }

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = Object.assign({ 'Authorization': 'Bearer ' + adminKey() }, options.headers || {});
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const reply = await fetch(path, {
    method: options.method || 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await reply.text();
  if (!reply.ok) {
    let message = text;
    try {
      const body = JSON.parse(text);
      message = typeof body.error === 'string' ? body.error : (body.error && body.error.message) || text;
    } catch (_) { /* plain text */ }
    throw new ApiError(reply.status, message || reply.statusText);
  }
  return options.raw ? text : JSON.parse(text);
}

const fmt = {
  int: (n) => (n === null || n === undefined) ? '—' : Number(n).toLocaleString('en-US'),
  usd: (n) => (n === null || n === undefined) ? '—' : '$' + Number(n).toFixed(4),
  ms: (n) => (n === null || n === undefined || !isFinite(n)) ? '—' : Number(n).toFixed(1) + ' ms',
  pct: (n) => (n === null || n === undefined || !isFinite(n)) ? '—' : (100 * n).toFixed(2) + ' %',
  text: (s) => (s === null || s === undefined || s === '') ? '—' : String(s),
};

function card(label, value, cls) {
  return el('div', { class: 'card' }, el('div', { class: 'label' }, label),
    el('div', { class: 'value' + (cls ? ' ' + cls : '') }, value));
}

function table(columns, rows) {
  const head = el('tr', {}, columns.map((c) => el('th', { class: c.num ? 'num' : '' }, c.title)));
  const body = rows.length === 0
    ? [el('tr', {}, el('td', { colspan: String(columns.length) }, 'Nothing yet.'))]
    : rows.map((row) => el('tr', {}, columns.map((c) => {
      const value = c.render ? c.render(row) : row[c.key];
      return el('td', { class: c.num ? 'num' : '' }, value instanceof Node ? value : fmt.text(value));
    })));
  return el('table', {}, el('thead', {}, head), el('tbody', {}, body));
}

// A line chart of series [{name, points: [[x (ms), y], …]}] with time on x.
function lineChart(series, yLabel) {
  const width = 1000, height = 260, left = 70, right = 16, top = 14, bottom = 30;
  const svg = svgEl('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img' });
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    const t = svgEl('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' });
    t.textContent = 'No data in this period.';
    svg.append(t);
    return svg;
  }
  let x0 = Math.min(...all.map((p) => p[0])), x1 = Math.max(...all.map((p) => p[0]));
  if (x1 === x0) { x0 -= 3600e3; x1 += 3600e3; }
  const y1 = Math.max(...all.map((p) => p[1])) * 1.1 || 1;
  const sx = (x) => left + (x - x0) / (x1 - x0) * (width - left - right);
  const sy = (y) => height - bottom - y / y1 * (height - top - bottom);
  for (let i = 0; i <= 4; i++) {
    const y = y1 * i / 4;
    svg.append(svgEl('line', { x1: left, x2: width - right, y1: sy(y), y2: sy(y), stroke: '#eaecf0' }));
    const t = svgEl('text', { x: left - 6, y: sy(y) + 4, 'text-anchor': 'end' });
    t.textContent = y >= 100 ? Math.round(y).toLocaleString('en-US') : y.toPrecision(2);
    svg.append(t);
  }
  for (let i = 0; i <= 4; i++) {
    const x = x0 + (x1 - x0) * i / 4;
    const t = svgEl('text', { x: sx(x), y: height - 8, 'text-anchor': 'middle' });
    t.textContent = new Date(x).toISOString().slice(5, 16).replace('T', ' ');
    svg.append(t);
  }
  const label = svgEl('text', { x: 12, y: top + 4 });
  label.textContent = yLabel;
  svg.append(label);
  series.forEach((s, i) => {
    const points = [...s.points].sort((a, b) => a[0] - b[0]);
    const color = COLORS[i % COLORS.length];
    svg.append(svgEl('polyline', {
      fill: 'none', stroke: color, 'stroke-width': 2,
      points: points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' '),
    }));
    for (const p of points) svg.append(svgEl('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 3, fill: color }));
  });
  return svg;
}

function legend(names) {
  // Colours through the CSSOM: the page's Content-Security-Policy refuses style attributes.
  return el('div', { class: 'legend' }, names.map((name, i) => {
    const swatch = el('i');
    swatch.style.background = COLORS[i % COLORS.length];
    return el('span', {}, swatch, name);
  }));
}

// Prometheus text format → [{name, labels, value}].
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

// Quantile q of a cumulative histogram [{le, count}], by linear interpolation.
function histogramQuantile(buckets, q) {
  const sorted = buckets.filter((b) => isFinite(b.le)).sort((a, b) => a.le - b.le);
  const total = buckets.reduce((m, b) => Math.max(m, b.count), 0);
  if (total === 0) return NaN;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      const span = b.count - prevCount;
      return prevLe + (b.le - prevLe) * (span > 0 ? (rank - prevCount) / span : 1);
    }
    prevLe = b.le; prevCount = b.count;
  }
  return prevLe;
}

// The licence's quotas (from /info) beside the counts the server last saw (/metrics).
async function quotaCards(licence) {
  if (!licence.max_requests && !licence.max_tokens_per_day) return [];
  const samples = parseMetrics(await api('/metrics', { raw: true }));
  const seen = (name) => {
    const s = samples.find((x) => x.name === name);
    return s ? s.value : null;
  };
  const cards = [];
  const quota = (title, used, max) => card(title, `${fmt.int(used)} of ${fmt.int(max)}`,
    used !== null && used >= max ? 'error' : '');
  if (licence.max_requests) {
    cards.push(quota('Licence requests used', seen('modelgate_licence_requests_used'), licence.max_requests));
  }
  if (licence.max_tokens_per_day) {
    cards.push(quota('Licence tokens today (UTC)', seen('modelgate_licence_tokens_used_today'),
      licence.max_tokens_per_day));
  }
  return cards;
}

const pages = {
  async model(root) {
    const info = await api('/info');
    const licence = info.licence || info.license || null;
    const expires = licence && licence.expires;
    const daysLeft = expires ? Math.floor((Date.parse(expires + 'T23:59:59Z') - Date.now()) / 86400e3) : null;
    root.append(el('h1', {}, 'Model'),
      el('div', { class: 'cards' },
        card('Model id', fmt.text(info.model_id)),
        card('Release mode', fmt.text(info.release_mode)),
        card('Signer', fmt.text(info.signer_key_id || info.signer)),
        card('Weights SHA-256', fmt.text(info.sha256 || info.model_sha)),
        card('Max input length', fmt.int(info.max_input_length)),
        card('Version', fmt.text(info.version))),
      el('h2', {}, 'Licence'),
      licence
        ? el('div', { class: 'cards' },
          card('Licensee', fmt.text(licence.licensee)),
          card('Expires', fmt.text(expires) + (daysLeft === null ? '' : daysLeft < 0 ? ' (expired)' : ` (${daysLeft} days left)`),
            daysLeft !== null && daysLeft < 0 ? 'error' : ''),
          card('Features', fmt.text((licence.features || []).join(', '))),
          ...(await quotaCards(licence)))
        : el('p', {}, 'This deployment runs without a licence.'));
    const labels = info.labels || (info.model_type && info.model_type.classifier &&
      Object.values(info.model_type.classifier.id2label || {}));
    if (labels && labels.length) root.append(el('h2', {}, 'Labels'), el('p', {}, labels.join(', ')));
  },

  async usage(root) {
    const days = Number(new URLSearchParams(location.hash.split('?')[1] || '').get('days') || 7);
    const since = new Date(Date.now() - days * 86400e3).toISOString().slice(0, 10);
    const usage = await api('/admin/usage?since=' + since + '&bucket=hour');
    const rows = usage.rows || [];
    const byKey = new Map();
    for (const r of rows) {
      if (!byKey.has(r.key)) byKey.set(r.key, { key: r.key, requests: 0, errors: 0, tokens: 0, cost_usd: 0, tokenPoints: [], costPoints: [] });
      const k = byKey.get(r.key);
      k.requests += r.requests || 0; k.errors += r.errors || 0; k.tokens += r.tokens || 0; k.cost_usd += r.cost_usd || 0;
      const t = Date.parse(r.period);
      k.tokenPoints.push([t, r.tokens || 0]);
      k.costPoints.push([t, r.cost_usd || 0]);
    }
    const keys = [...byKey.values()];
    root.append(el('h1', {}, `Usage and cost since ${since}`),
      el('div', { class: 'cards' },
        card('Requests', fmt.int(keys.reduce((s, k) => s + k.requests, 0))),
        card('Tokens', fmt.int(keys.reduce((s, k) => s + k.tokens, 0))),
        card('Cost', fmt.usd(keys.reduce((s, k) => s + k.cost_usd, 0)))),
      el('h2', {}, 'Tokens per hour, by key'),
      lineChart(keys.map((k) => ({ name: k.key, points: k.tokenPoints })), 'tokens'),
      legend(keys.map((k) => k.key)),
      el('h2', {}, 'Cost per hour, by key'),
      lineChart(keys.map((k) => ({ name: k.key, points: k.costPoints })), 'USD'),
      legend(keys.map((k) => k.key)),
      el('h2', {}, 'Per key'),
      table([
        { title: 'Key', key: 'key' },
        { title: 'Requests', num: true, render: (r) => fmt.int(r.requests) },
        { title: 'Errors', num: true, render: (r) => fmt.int(r.errors) },
        { title: 'Tokens', num: true, render: (r) => fmt.int(r.tokens) },
        { title: 'Cost', num: true, render: (r) => fmt.usd(r.cost_usd) },
      ], keys));
  },

  // The server's latency histogram (modelgate_request_duration_seconds) covers
  // every request the workers answer (inference, recommendation, admin) and
  // has no route label; requests and errors are counted per route and status
  // (modelgate_requests_total).
  async latency(root) {
    const samples = parseMetrics(await api('/metrics', { raw: true }));
    const histogram = (name) => samples
      .filter((s) => s.name === name + '_bucket')
      .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }));
    const stages = [
      ['Whole request', 'modelgate_request_duration_seconds'],
      ['Queue wait', 'modelgate_queue_duration_seconds'],
      ['Tokenisation', 'modelgate_tokenize_duration_seconds'],
      ['Forward pass (per batch)', 'modelgate_inference_duration_seconds'],
    ].map(([stage, name]) => {
      const buckets = histogram(name);
      const count = samples.find((s) => s.name === name + '_count');
      return { stage, buckets, count: count ? count.value : 0 };
    });
    const routes = new Map();
    for (const s of samples) {
      if (s.name !== 'modelgate_requests_total' || !s.labels.route) continue;
      if (!routes.has(s.labels.route)) routes.set(s.labels.route, { route: s.labels.route, requests: 0, client: 0, errors: 0 });
      const r = routes.get(s.labels.route);
      const status = Number(s.labels.status);
      r.requests += s.value;
      if (status >= 500 || status === 429) r.errors += s.value;
      else if (status >= 400) r.client += s.value;
    }
    const rows = [...routes.values()].filter((r) => r.requests > 0).sort((a, b) => b.requests - a.requests);
    const total = rows.reduce((t, r) => t + r.requests, 0);
    const errors = rows.reduce((t, r) => t + r.errors, 0);
    root.append(el('h1', {}, 'Latency and errors (since the server started)'),
      el('div', { class: 'cards' },
        card('Requests', fmt.int(total)),
        card('Error rate (5xx, 429)', fmt.pct(total ? errors / total : NaN), errors > 0 ? 'error' : ''),
        card('p50 latency', fmt.ms(1000 * histogramQuantile(stages[0].buckets, 0.5))),
        card('p99 latency', fmt.ms(1000 * histogramQuantile(stages[0].buckets, 0.99)))),
      el('h2', {}, 'Latency by stage (requests that reach the workers: inference, recommendation, admin)'),
      table([
        { title: 'Stage', key: 'stage' },
        { title: 'Observations', num: true, render: (r) => fmt.int(r.count) },
        { title: 'p50', num: true, render: (r) => fmt.ms(1000 * histogramQuantile(r.buckets, 0.5)) },
        { title: 'p90', num: true, render: (r) => fmt.ms(1000 * histogramQuantile(r.buckets, 0.9)) },
        { title: 'p99', num: true, render: (r) => fmt.ms(1000 * histogramQuantile(r.buckets, 0.99)) },
      ], stages),
      el('h2', {}, 'Requests and errors, by route'),
      table([
        { title: 'Route', key: 'route' },
        { title: 'Requests', num: true, render: (r) => fmt.int(r.requests) },
        { title: 'Client errors (4xx)', num: true, render: (r) => fmt.int(r.client) },
        { title: 'Errors (5xx, 429)', num: true, render: (r) => fmt.int(r.errors) },
        { title: 'Error rate', num: true, render: (r) => fmt.pct(r.requests ? r.errors / r.requests : NaN) },
      ], rows));
  },

  async audit(root) {
    const audit = await api('/admin/audit?limit=200');
    // "unsigned": the server has no audit key, so only the hash links were
    // checked, which anyone who can write the database can recompute.
    const status = audit.status === 'verified'
      ? el('span', { class: 'badge good' }, `chain verified with the audit key (${fmt.int(audit.entries_checked)} entries)`)
      : audit.status === 'unsigned'
        ? el('span', { class: 'badge bad' }, `chain unsigned (${fmt.int(audit.entries_checked)} entries): ` +
          'the server has no audit key, so a rewrite of the database would go unnoticed')
        : el('span', { class: 'badge bad' }, 'chain broken at entry ' + fmt.text(audit.first_bad && audit.first_bad.seq) +
          ': ' + fmt.text(audit.first_bad && audit.first_bad.reason));
    root.append(el('h1', {}, 'Audit trail'), el('p', {}, status),
      table([
        { title: '#', key: 'seq', num: true },
        { title: 'Time', key: 'time' },
        { title: 'Who', key: 'actor' },
        { title: 'Action', key: 'action' },
        { title: 'Route', key: 'route' },
        { title: 'Status', key: 'status', num: true },
        { title: 'Tokens', num: true, render: (r) => fmt.int(r.tokens) },
        { title: 'Hash', render: (r) => el('code', {}, String(r.hash || '').slice(0, 16)) },
      ], audit.entries || []));
  },

  async keys(root) {
    const list = await api('/admin/keys');
    const secretBox = el('div');
    const form = el('form', { class: 'inline', id: 'create-key' },
      el('label', {}, 'Name', el('input', { name: 'name', required: '', pattern: '[A-Za-z0-9_.\\-]{1,64}' })),
      el('label', {}, 'Scopes', el('input', { name: 'scopes', value: 'classify,embed' })),
      el('label', {}, 'Requests/min', el('input', { name: 'rpm', type: 'number', min: '0' })),
      el('label', {}, 'Tokens/min', el('input', { name: 'tpm', type: 'number', min: '0' })),
      el('label', {}, 'Token quota', el('input', { name: 'quota_tokens', type: 'number', min: '0' })),
      el('label', {}, 'Budget (USD)', el('input', { name: 'budget_usd', type: 'number', min: '0', step: 'any' })),
      el('label', {}, 'Expires', el('input', { name: 'expires', type: 'date' })),
      el('label', {}, 'Output policy', el('input', { name: 'output_policy', value: 'full', title: 'full, or e.g. label, topk:2, scores:2, embed-dims:128,embed-decimals:3, no-embed' })),
      el('button', { type: 'submit' }, 'Create key'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const body = { name: data.get('name'), scopes: String(data.get('scopes')).split(',').map((s) => s.trim()).filter(Boolean) };
      for (const f of ['rpm', 'tpm', 'quota_tokens']) if (data.get(f)) body[f] = Number(data.get(f));
      if (data.get('budget_usd')) body.budget_usd = Number(data.get('budget_usd'));
      if (data.get('expires')) body.expires = data.get('expires');
      if (data.get('output_policy')) body.output_policy = String(data.get('output_policy')).trim();
      try {
        const created = await api('/admin/keys', { method: 'POST', body });
        await render();
        const box = document.getElementById('new-key');
        box.replaceChildren(el('p', {}, `Key "${created.name}" created. Copy it now: it is not shown again.`),
          el('div', { class: 'secret', id: 'new-key-secret' }, created.key));
      } catch (e) {
        secretBox.replaceChildren(el('p', { class: 'error', role: 'alert' }, e.message));
      }
    });
    secretBox.id = 'new-key';
    const revoke = async (name) => {
      if (!confirm(`Revoke key "${name}"? Requests with it are refused from now on.`)) return;
      try {
        await api('/admin/keys/revoke', { method: 'POST', body: { name } });
        await render();
      } catch (e) {
        alert(e.message);
      }
    };
    root.append(el('h1', {}, 'API keys'), form, secretBox,
      el('h2', {}, 'Keys'),
      table([
        { title: 'Name', key: 'name' },
        { title: 'Id', key: 'key_id' },
        { title: 'Scopes', render: (k) => (k.scopes || []).join(', ') },
        { title: 'Limits', render: (k) => limitsText(k.limits || {}) },
        { title: 'Output', render: (k) => el('code', {}, k.output_policy || 'full') },
        { title: 'Tokens used', num: true, render: (k) => fmt.int(k.usage && k.usage.tokens) },
        { title: 'Spent', num: true, render: (k) => fmt.usd(k.usage && k.usage.cost_usd) },
        { title: 'Expires', render: (k) => fmt.text(k.expires_at) },
        { title: 'State', render: (k) => k.revoked_at ? el('span', { class: 'badge bad' }, 'revoked') : el('span', { class: 'badge good' }, 'active') },
        { title: '', render: (k) => k.revoked_at ? '' : el('button', { type: 'button', 'data-revoke': k.name, onclick: () => revoke(k.name) }, 'Revoke') },
      ], list.keys || []));
  },
};

function limitsText(l) {
  const parts = [];
  if (l.rpm) parts.push(`${fmt.int(l.rpm)} req/min`);
  if (l.tpm) parts.push(`${fmt.int(l.tpm)} tok/min`);
  if (l.quota_tokens) parts.push(`${fmt.int(l.quota_tokens)} tokens${l.quota_period ? ' per ' + l.quota_period : ''}`);
  if (l.budget_usd) parts.push(`budget ${fmt.usd(l.budget_usd)}`);
  return parts.length ? parts.join(', ') : 'none';
}

async function render() {
  const signIn = document.getElementById('sign-in');
  const page = document.getElementById('page');
  const nav = document.getElementById('nav');
  if (!adminKey()) {
    signIn.hidden = false; page.hidden = true; nav.hidden = true;
    return;
  }
  const name = (location.hash.replace(/^#\//, '').split('?')[0]) || 'model';
  const draw = pages[name] || pages.model;
  signIn.hidden = true; nav.hidden = false; page.hidden = false;
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.page === name);
  const root = el('div', { id: 'page-' + name });
  try {
    await draw(root);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      sessionStorage.removeItem(KEY_STORE);
      document.getElementById('sign-in-error').textContent = 'That key was refused: ' + e.message;
      return render();
    }
    root.replaceChildren(el('p', { class: 'error', role: 'alert' }, 'Could not load this page: ' + e.message));
  }
  page.replaceChildren(root);
}

document.getElementById('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = document.getElementById('admin-key').value.trim();
  document.getElementById('sign-in-error').textContent = '';
  sessionStorage.setItem(KEY_STORE, key);
  try {
    await api('/admin/keys');  // admin scope check
    document.getElementById('admin-key').value = '';
    if (!location.hash) location.hash = '#/model';
    await render();
  } catch (e) {
    sessionStorage.removeItem(KEY_STORE);
    document.getElementById('sign-in-error').textContent = e.status === 404
      ? 'This server runs without the control plane: start it with --db to use the dashboard.'
      : 'Sign-in failed: ' + e.message;
  }
});
document.getElementById('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORE);
  render();
});
window.addEventListener('hashchange', render);
render();
