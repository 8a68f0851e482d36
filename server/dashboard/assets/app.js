// The quiver dashboard (docs/dashboard.md): one page, routed by the URL's
// hash, drawing the HTTP port's JSON documents with Chart.js. Every
// request carries X-Requested-With, which lets the server accept the login
// session's cookie and keeps the browser's own password prompt away.
// Nothing here builds HTML from text: names and values come from users,
// so every element is made with el() and its text set as text.
'use strict';

const state = {
  user: null,           // who is logged in (null: nobody needs to be)
  interval: 5000,       // the series' sample interval (/v1/session)
  statistics: true,     // the server keeps feature statistics (/v1/session)
  history: true,        // and a history (not --durability memory)
  timer: null,          // the current page's refresh
  charts: [],           // the current page's charts, destroyed on leaving
  views: null,          // /v1/views, cached for a refresh
  page: 0,              // bumped on each navigation; stale answers are dropped
};

const COLORS = ['#2f6fde', '#e8833a', '#2b8a3e', '#c83a2a', '#7b4fc9', '#13a3a3',
  '#b8730a', '#d6409f', '#5f6b7a', '#6e9b2f'];

// --- small helpers --------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function fmtNumber(x, digits = 3) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (typeof x !== 'number') return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toLocaleString('en-US');
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) return x.toExponential(2);
  return x.toLocaleString('en-US', { maximumSignificantDigits: digits + 1 });
}

function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}

function fmtMs(ms) {
  if (ms === null || ms === undefined || ms < 0) return '–';
  if (ms === 0) return '0';
  const steps = [[86400000, 'd'], [3600000, 'h'], [60000, 'm'], [1000, 's']];
  for (const [size, unit] of steps) {
    if (ms >= size) {
      const v = ms / size;
      return (Number.isInteger(v) ? v : v.toFixed(1)) + unit;
    }
  }
  return ms + 'ms';
}

function fmtUs(us) {
  if (us === null || us === undefined) return '–';
  if (us >= 10e6) return fmtMs(Math.round(us / 1000));
  return us >= 1000 ? (us / 1000).toFixed(us >= 10000 ? 0 : 1) + ' ms' : Math.round(us) + ' µs';
}

function clock(t) {
  return new Date(t).toLocaleTimeString('en-GB', { hour12: false });
}

function viewName(qualified) { return qualified.replace(/@v\d+$/, ''); }

function route(...parts) { return '#/' + parts.map(encodeURIComponent).join('/'); }

// --- the server -----------------------------------------------------------

class HttpError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const init = { credentials: 'same-origin', headers: { 'X-Requested-With': 'quiver-dashboard' } };
  if (options.body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const reply = await fetch(path, init);
  let doc = null;
  try { doc = await reply.json(); } catch (e) { doc = null; }
  if (reply.status === 401 && !options.login) {
    showLogin('Your session has ended: log in again.');
    throw new HttpError(401, 'not logged in');
  }
  if (!reply.ok) throw new HttpError(reply.status, (doc && doc.error) || reply.statusText);
  return doc;
}

function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message;
  box.hidden = !message;
}

// --- login ----------------------------------------------------------------

function showLogin(message) {
  stopPage();
  document.getElementById('main').replaceChildren();
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  document.getElementById('who').textContent = '';
  document.getElementById('login').hidden = false;
  const error = document.getElementById('login-error');
  error.textContent = message || '';
  error.hidden = !message;
  document.body.dataset.ready = 'login';
  document.getElementById('login-password').focus();
}

async function login(event) {
  event.preventDefault();
  const user = document.getElementById('login-user').value.trim();
  const password = document.getElementById('login-password').value;
  try {
    const session = await api('/v1/login', { body: { user: user || 'default', password }, login: true });
    document.getElementById('login-password').value = '';
    enter(session);
  } catch (e) {
    const error = document.getElementById('login-error');
    error.textContent = e.status === 401 ? 'Wrong user name or password.' : e.message;
    error.hidden = false;
  }
}

async function logout() {
  try { await api('/v1/logout', { body: {}, login: true }); } catch (e) { /* shown below */ }
  showLogin('Logged out.');
}

function enter(session) {
  state.user = session.user;
  state.statistics = session.statistics;
  state.history = session.history;
  if (session.series_interval_ms) state.interval = session.series_interval_ms;
  document.getElementById('login').hidden = true;
  document.getElementById('nav').hidden = false;
  document.getElementById('who').textContent = session.user ? 'user ' + session.user : '';
  document.getElementById('logout').hidden = !session.password_required;
  render();
}

// --- pages ------------------------------------------------------------------

function stopPage() {
  state.page++;
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
  for (const c of state.charts) c.destroy();
  state.charts = [];
}

// Runs a page: draw(main, token) builds it and returns an update function
// (or nothing), called again every sample interval.
function page(name, draw) {
  stopPage();
  const token = state.page;
  const main = document.getElementById('main');
  main.replaceChildren();
  document.body.dataset.ready = '';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === name);
  const run = async (update) => {
    try {
      await update();
      if (token !== state.page) return;
      showError('');
      // When the first page of this load was drawn (ms since navigation),
      // for bench/dashboard_bench.py.
      if (!document.body.dataset.readyMs) document.body.dataset.readyMs = Math.round(performance.now());
      document.body.dataset.ready = name;
    } catch (e) {
      if (token !== state.page || e.status === 401) return;
      showError(e.message);
      document.body.dataset.ready = name + ':error';
    }
  };
  run(async () => {
    const update = await draw(main, () => token !== state.page);
    if (typeof update === 'function' && token === state.page) {
      state.timer = setInterval(() => run(update), Math.max(state.interval, 1000));
    }
  });
}

function render() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [name, ...rest] = parts;
  switch (name) {
    case 'registry': return page('registry', (m) => registryPage(m, rest[0] || ''));
    case 'view': return page('view', (m, stale) => viewPage(m, rest[0], stale));
    case 'feature': return page('feature', (m, stale) => featurePage(m, rest[0], rest[1], stale));
    case 'kafka': return page('kafka', (m, stale) => kafkaPage(m, stale));
    case 'lookup': return page('lookup', (m) => lookupPage(m, rest[0] || '', rest[1] || ''));
    default: return page('overview', (m, stale) => overviewPage(m, stale));
  }
}

// --- charts -----------------------------------------------------------------

// A chart in a card; its Chart.js object is kept for updates and destroyed
// with the page. kind: 'line' or 'bar'.
function chartCard(parent, title, kind, options = {}) {
  const canvas = el('canvas', { 'data-chart': title });
  const card = el('div', { class: 'chart' }, el('h3', { text: title }), el('div', { class: 'box' }, canvas));
  parent.append(card);
  const chart = new Chart(canvas, {
    type: kind,
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: options.legend !== false, labels: { boxWidth: 10 } },
        tooltip: { callbacks: options.tooltip ? { label: options.tooltip } : {} },
      },
      scales: {
        x: { stacked: !!options.stacked, ticks: { maxTicksLimit: 8, autoSkip: true, maxRotation: 0 } },
        y: {
          stacked: !!options.stacked, beginAtZero: options.zero !== false,
          title: { display: !!options.unit, text: options.unit || '' },
          ticks: options.ticks ? { callback: options.ticks } : {},
        },
      },
      spanGaps: true,
    },
    plugins: [{ id: 'drawn', afterRender: (c) => { c.canvas.dataset.drawn = '1'; } }],
  });
  state.charts.push(chart);
  return chart;
}

// Replaces a chart's data: labels and series [{label, data, ...}].
function setSeries(chart, labels, series, fill = false) {
  chart.data.labels = labels;
  // Points are drawn where a series has few values, else only its line.
  const sparse = (data) => data.filter((v) => v !== null && v !== undefined).length < 20;
  chart.data.datasets = series.map((s, i) => Object.assign({
    borderColor: COLORS[i % COLORS.length],
    backgroundColor: COLORS[i % COLORS.length] + (fill ? 'aa' : '33'),
    borderWidth: 1.5, pointRadius: sparse(s.data) ? 2.5 : 0, fill: fill ? 'stack' : false, tension: 0.2,
  }, s));
  chart.update('none');
}

// The n series with the largest sums, and the rest summed as "other".
function topSeries(series, n) {
  const total = (s) => s.data.reduce((a, b) => a + (b || 0), 0);
  const sorted = [...series].sort((a, b) => total(b) - total(a));
  if (sorted.length <= n) return sorted;
  const other = sorted.slice(n).reduce((acc, s) => acc.map((v, i) => v + (s.data[i] || 0)),
    new Array(sorted[0].data.length).fill(0));
  return [...sorted.slice(0, n), { label: 'other', data: other }];
}

// --- overview ---------------------------------------------------------------

function card(label, value, attrs) {
  return el('div', Object.assign({ class: 'card' }, attrs || {}), el('div', { class: 'label', text: label }),
    el('div', { class: 'value', text: value }));
}

function memoryBar(memory) {
  const parts = Object.entries(memory.parts).filter(([, b]) => b > 0);
  const total = Math.max(memory.total, 1);
  const bar = el('div', { class: 'bar' });
  const legend = el('div', { class: 'legend' });
  parts.forEach(([name, bytes], i) => {
    const span = el('span', { title: name + ' ' + fmtBytes(bytes) });
    span.style.width = (100 * bytes / total) + '%';
    span.style.background = COLORS[i % COLORS.length];
    bar.append(span);
    const swatch = el('i');
    swatch.style.background = COLORS[i % COLORS.length];
    legend.append(el('span', {}, swatch, name + ' ' + fmtBytes(bytes)));
  });
  return el('div', {}, bar, legend);
}

async function overviewPage(main, stale) {
  main.append(el('h1', { text: 'Overview' }));
  const cards = el('div', { class: 'grid', id: 'status-cards' });
  const memory = el('div', { id: 'memory' });
  const alerts = el('div', { class: 'alerts' });
  const drifting = el('div', { class: 'alert', id: 'drifting' });
  const stale_views = el('div', { class: 'alert', id: 'stale' });
  alerts.append(drifting, stale_views);
  main.append(el('h2', { text: 'Needs attention' }), alerts, cards,
    el('h2', { text: 'Memory' }), memory);
  const charts = el('div', { class: 'charts' });
  main.append(el('h2', { text: 'Requests (last hour)' }), charts);
  const rate = chartCard(charts, 'Requests per second', 'line', { stacked: true, unit: 'req/s' });
  const pick = el('select', { id: 'latency-kind' });
  const latency = chartCard(charts, 'Latency of the busiest request kind', 'line', { unit: 'µs', ticks: (v) => fmtUs(v) });
  latency.canvas.closest('.chart').querySelector('h3').append(' ', pick);
  const mem = chartCard(charts, 'Memory', 'line', { stacked: true, ticks: (v) => fmtBytes(v) });

  let selected = null;
  pick.addEventListener('change', () => { selected = pick.value; update(); });
  async function update() {
    const [status, drift, fresh, requests, memSeries] = await Promise.all([
      api('/v1/status'), state.statistics ? api('/v1/drift') : { views: [], off: true },
      api('/v1/freshness'), api('/v1/series?part=requests'), api('/v1/series?part=memory')]);
    if (stale()) return;
    cards.replaceChildren(
      card('Version', status.version), card('Durability', status.durability),
      card('Uptime', fmtMs(status.uptime_seconds * 1000)), card('Views', fmtNumber(status.views)),
      card('Online rows', fmtNumber(status.rows)),
      card('Memory', fmtBytes(status.memory.total) + (status.memory.max_memory > 0 ? ' of ' + fmtBytes(status.memory.max_memory) : '')),
      card('Kafka', status.kafka ? (status.kafka.running ? 'ingesting' : 'stopped') : 'off'));
    memory.replaceChildren(memoryBar(status.memory));
    drawDriftAlert(drifting, drift);
    drawStaleAlert(stale_views, fresh);
    const labels = requests.t.map(clock);
    const kinds = requests.requests.map((r) => ({ label: r.front_end + ' ' + r.kind, data: r.rate, r }));
    setSeries(rate, labels, topSeries(kinds, 8), true);
    drawLatency(latency, pick, labels, kinds, selected);
    setSeries(mem, memSeries.t.map(clock), Object.entries(memSeries.memory)
      .filter(([, d]) => d.some((v) => v > 0)).map(([k, d]) => ({ label: k, data: d })), true);
  }
  await update();
  return update;
}

function drawLatency(chart, pick, labels, kinds, selected) {
  const busiest = topSeries(kinds, kinds.length).filter((k) => k.r);
  const names = busiest.map((k) => k.label);
  if (pick.options.length !== names.length || [...pick.options].some((o, i) => o.value !== names[i])) {
    pick.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
  }
  const chosen = busiest.find((k) => k.label === selected) || busiest[0];
  if (chosen) pick.value = chosen.label;
  setSeries(chart, labels, chosen ? [
    { label: 'p50', data: chosen.r.p50_us }, { label: 'p99', data: chosen.r.p99_us },
    { label: 'p999', data: chosen.r.p999_us }] : []);
}

function drawDriftAlert(box, drift) {
  const items = [];
  for (const v of drift.views || []) {
    for (const f of v.fields) {
      if (f.drifting) items.push({ view: v.view, field: f });
    }
  }
  box.className = 'alert ' + (items.length ? 'bad' : 'good');
  box.replaceChildren(el('strong', { text: items.length ? items.length + ' drifting feature' + (items.length > 1 ? 's' : '') : 'No feature drifts' }));
  if (!items.length) {
    box.append(el('div', { class: 'muted', text: drift.off ? 'Statistics are off (quiverd --statistics false): drift is not measured.' : (drift.views || []).length ? 'Every field with a baseline is within its thresholds.' : 'No view has a drift baseline yet (quiver baseline capture VIEW).' }));
    return;
  }
  box.append(el('ul', { id: 'drifting-list' }, items.map(({ view, field }) => el('li', { 'data-feature': view + ':' + field.name },
    el('a', { href: route('feature', view, field.name), text: view + ' · ' + field.name }),
    ' ', el('span', { class: 'bad', text: field.exceeded.join(', ') }),
    el('span', { class: 'muted', text: ` PSI ${fmtNumber(field.psi, 2)}, KS ${fmtNumber(field.ks, 2)}, mean shift ${fmtNumber(field.mean_shift, 2)}σ` })))));
}

function drawStaleAlert(box, fresh) {
  const late = fresh.views.filter((v) => v.sla_ms > 0 && v.past_sla > 0);
  box.className = 'alert ' + (late.length ? 'bad' : 'good');
  box.replaceChildren(el('strong', { text: late.length ? late.length + ' view' + (late.length > 1 ? 's' : '') + ' past their freshness SLA' : 'Every view is within its freshness SLA' }));
  if (!late.length) return;
  box.append(el('ul', { id: 'stale-list' }, late.map((v) => el('li', { 'data-view': v.view },
    el('a', { href: route('view', v.view), text: v.view }),
    ' ', el('span', { class: 'bad', text: `${fmtNumber(v.past_sla)} of ${fmtNumber(v.rows)} rows older than ${fmtMs(v.sla_ms)}` }),
    el('span', { class: 'muted', text: ` (p99 age ${fmtMs(v.age_ms.p99)})` })))));
}

// --- registry -----------------------------------------------------------------

async function loadViews() {
  const doc = await api('/v1/views');
  state.views = doc.views;
  return doc.views;
}

function matches(view, words) {
  const text = [view.name, view.entity, view.owner, view.description, ...(view.tags || []),
    ...view.fields.map((f) => f.name)].join(' ').toLowerCase();
  return words.every((w) => text.includes(w));
}

async function registryPage(main, query) {
  const views = await loadViews();
  const search = el('input', { type: 'search', id: 'registry-search', placeholder: 'Search by name, tag, owner, entity or field', value: query });
  main.append(el('h1', { text: 'Registry' }), el('form', { class: 'inline', onsubmit: (e) => e.preventDefault() }, search,
    el('span', { class: 'muted', id: 'registry-count' })));
  const entities = new Map();
  for (const v of views) {
    if (!entities.has(v.entity)) entities.set(v.entity, { keys: v.join_keys, views: [] });
    entities.get(v.entity).views.push(v.name + '@v' + v.version);
  }
  const rows = views.map((v) => {
    const tr = el('tr', { 'data-view': v.name + '@v' + v.version },
      el('td', {}, el('a', { href: route('view', v.name + '@v' + v.version), text: v.name }), el('span', { class: 'muted', text: ' v' + v.version })),
      el('td', { text: v.entity + ' (' + v.join_keys.join(', ') + ')' }),
      el('td', { text: v.fields.length }),
      el('td', { text: v.ttl_ms ? fmtMs(v.ttl_ms) : 'none' }),
      el('td', { text: v.freshness_ms ? fmtMs(v.freshness_ms) : 'none' }),
      el('td', { text: v.owner || '' }),
      el('td', {}, (v.tags || []).map((t) => el('span', { class: 'tag', text: t }))),
      el('td', { text: v.source ? 'stream: ' + v.source : (v.depends_on && v.depends_on.length ? 'derived' : 'written') }),
      el('td', { class: 'muted', text: v.description || '' }));
    tr.searchable = v;
    return tr;
  });
  main.append(el('table', { id: 'registry' }, el('thead', {}, el('tr', {}, ['View', 'Entity', 'Fields', 'TTL', 'Freshness SLA', 'Owner', 'Tags', 'Source', 'Description'].map((h) => el('th', { text: h })))),
    el('tbody', {}, rows)));
  const filter = () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const tr of rows) {
      const show = matches(tr.searchable, words);
      tr.classList.toggle('hidden', !show);
      shown += show;
    }
    document.getElementById('registry-count').textContent = shown + ' of ' + rows.length + ' views';
    history.replaceState(null, '', route('registry') + (search.value ? '/' + encodeURIComponent(search.value) : ''));
  };
  search.addEventListener('input', filter);
  filter();
  main.append(el('h2', { text: 'Entities' }), el('table', { id: 'entities' },
    el('thead', {}, el('tr', {}, el('th', { text: 'Entity' }), el('th', { text: 'Join keys' }), el('th', { text: 'Views' }))),
    el('tbody', {}, [...entities].map(([name, e]) => el('tr', {}, el('td', { text: name }), el('td', { text: e.keys.join(', ') }), el('td', { text: e.views.join(', ') }))))));
  main.append(el('h2', { text: 'Lineage (depends_on)' }), lineage(views));
}

// The depends_on graph: sources (streams) and views in columns by depth.
function lineage(views) {
  const latest = new Map();
  for (const v of views) {
    if (!latest.has(v.name) || latest.get(v.name).version < v.version) latest.set(v.name, v);
  }
  const edges = [];
  const nodes = new Map();
  const node = (id, source) => { if (!nodes.has(id)) nodes.set(id, { id, source, deps: [] }); return nodes.get(id); };
  for (const v of latest.values()) {
    const deps = (v.depends_on || []).map(viewName);
    if (v.source) deps.push('topic:' + v.source);
    if (!deps.length) continue;
    node(v.name, false);
    for (const d of deps) {
      node(d, d.startsWith('topic:'));
      node(v.name, false).deps.push(d);
      edges.push([d, v.name]);
    }
  }
  if (!nodes.size) return el('p', { class: 'muted', id: 'lineage', text: 'No view declares depends_on or a stream source.' });
  const depth = new Map();
  const depthOf = (id, seen = new Set()) => {
    if (depth.has(id)) return depth.get(id);
    if (seen.has(id)) return 0;  // a cycle: drawn flat
    seen.add(id);
    const deps = nodes.get(id).deps;
    const d = deps.length ? 1 + Math.max(...deps.map((x) => depthOf(x, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  const columns = [];
  for (const id of nodes.keys()) {
    const d = depthOf(id);
    (columns[d] = columns[d] || []).push(id);
  }
  const W = 190, H = 34, GX = 70, GY = 14;
  const place = new Map();
  columns.forEach((col, x) => col.sort().forEach((id, y) => place.set(id, { x: 10 + x * (W + GX), y: 10 + y * (H + GY) })));
  const width = 20 + columns.length * (W + GX), height = 20 + Math.max(...columns.map((c) => c.length)) * (H + GY);
  const g = svg('svg', { class: 'lineage', id: 'lineage', width, height, viewBox: `0 0 ${width} ${height}` });
  for (const [from, to] of edges) {
    const a = place.get(from), b = place.get(to);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    g.append(svg('path', { d: `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}` }));
  }
  for (const [id, n] of nodes) {
    const p = place.get(id);
    const a = svg('a', { href: n.source ? route('kafka') : route('view', id) });
    a.append(svg('rect', { x: p.x, y: p.y, width: W, height: H, rx: 5, class: n.source ? 'source' : '' }));
    const t = svg('text', { x: p.x + 8, y: p.y + H / 2 + 4 });
    t.textContent = id.length > 28 ? id.slice(0, 27) + '…' : id;
    a.append(t);
    g.append(a);
  }
  return g;
}

// --- one view -----------------------------------------------------------------

function findView(views, name) {
  const matching = views.filter((v) => v.name + '@v' + v.version === name || v.name === name);
  return matching.sort((a, b) => b.version - a.version)[0];
}

function fieldRows(view, stats) {
  const byName = new Map((stats && stats.fields || []).map((f) => [f.name, f]));
  return view.fields.map((f) => {
    const s = byName.get(f.name);
    const checks = s ? Object.entries(s.checks).map(([k, v]) => k + ' ' + (Array.isArray(v) ? v.join('|') : v)).join(', ') : '';
    const recent = s && s.recent;
    const violations = recent ? recent.violations.below_min + recent.violations.above_max + recent.violations.not_allowed : 0;
    const failing = recent ? recent.failing : [];
    return el('tr', { 'data-field': f.name },
      el('td', {}, el('a', { href: route('feature', view.name + '@v' + view.version, f.name), text: f.name })),
      el('td', { text: f.type }),
      el('td', { text: f.default === null ? '' : JSON.stringify(f.default) }),
      el('td', { text: f.agg ? `${f.agg}(${f.of || ''}) over ${fmtMs(f.window_ms)}${f.hop_ms ? ' hop ' + fmtMs(f.hop_ms) : ''}` : '' }),
      el('td', { text: recent ? fmtNumber(recent.null_rate, 2) : '–' }),
      el('td', { text: checks }),
      el('td', { class: failing.length ? 'bad' : '', text: failing.length ? failing.join(', ') + ' (' + fmtNumber(violations) + ' values)' : (checks ? 'ok' : '') }),
      el('td', { class: 'muted', text: f.description || '' }));
  });
}

function ageChart(parent, fresh) {
  const chart = chartCard(parent, 'Age of the served rows', 'bar', { legend: false, unit: 'rows' });
  const labels = fresh.age_histogram.map((b, i, all) => b.below_ms !== undefined ? '< ' + fmtMs(b.below_ms) : '≥ ' + fmtMs(all[i - 1].below_ms));
  const colors = fresh.age_histogram.map((b, i, all) => {
    const low = i === 0 ? 0 : all[i - 1].below_ms;
    return fresh.sla_ms > 0 && low >= fresh.sla_ms ? '#c83a2a' : '#2f6fde';
  });
  setSeries(chart, labels, [{ label: 'rows', data: fresh.age_histogram.map((b) => b.rows), backgroundColor: colors }]);
  return chart;
}

async function viewPage(main, name, stale) {
  const views = await loadViews();
  const view = findView(views, name);
  if (!view) throw new HttpError(404, 'no view ' + name);
  const qualified = view.name + '@v' + view.version;
  const [stats, fresh] = await Promise.all([
    state.statistics ? api('/v1/views/' + encodeURIComponent(qualified) + '/stats') : null, api('/v1/freshness')]);
  const f = fresh.views.find((v) => v.view === qualified) || { rows: 0, past_sla: 0, memory_bytes: 0, age_ms: {}, age_histogram: [], sla_ms: view.freshness_ms };
  main.append(el('h1', { text: qualified }), el('p', { class: 'muted', text: view.description || '' }));
  main.append(el('dl', { class: 'meta' },
    el('dt', { text: 'Entity' }), el('dd', { text: view.entity + ' (' + view.join_keys.join(', ') + ')' }),
    el('dt', { text: 'Owner' }), el('dd', { text: view.owner || '–' }),
    el('dt', { text: 'Tags' }), el('dd', {}, (view.tags || []).map((t) => el('span', { class: 'tag', text: t }))),
    el('dt', { text: 'TTL' }), el('dd', { text: view.ttl_ms ? fmtMs(view.ttl_ms) : 'none' }),
    el('dt', { text: 'Freshness SLA' }), el('dd', { text: view.freshness_ms ? fmtMs(view.freshness_ms) : 'none' }),
    el('dt', { text: 'Retention' }), el('dd', { text: view.retention_ms ? fmtMs(view.retention_ms) : 'forever' }),
    el('dt', { text: 'Depends on' }), el('dd', {}, (view.depends_on || []).length ? view.depends_on.map((d) => el('a', { href: route('view', d), text: d + ' ' })) : '–'),
    view.source ? [el('dt', { text: 'Stream source' }), el('dd', { text: view.source + (view.key_paths ? ' keyed by ' + view.key_paths.join(', ') : '') })] : null,
    el('dt', { text: 'Versions' }), el('dd', {}, views.filter((v) => v.name === view.name).map((v) => el('a', { href: route('view', v.name + '@v' + v.version), text: 'v' + v.version + ' ' })))));
  const pastClass = f.past_sla > 0 ? 'bad' : 'good';
  const cards = el('div', { class: 'grid' },
    card('Rows', fmtNumber(f.rows)), card('Memory', fmtBytes(f.memory_bytes)),
    card('Past the SLA', f.sla_ms ? fmtNumber(f.past_sla) : 'no SLA', { id: 'past-sla', class: 'card ' + (f.sla_ms ? pastClass : '') }),
    card('Age p50 / p99', fmtMs(f.age_ms.p50) + ' / ' + fmtMs(f.age_ms.p99)),
    card('Rows written since start', stats ? fmtNumber(stats.rows.since_start) : '–'));
  main.append(el('h2', { text: 'Rows and freshness' }), cards);
  const charts = el('div', { class: 'charts' });
  main.append(charts);
  if (f.age_histogram.length) ageChart(charts, f);
  const writes = chartCard(charts, 'Write rate', 'line', { legend: false, unit: 'rows/s' });
  const rows = chartCard(charts, 'Rows', 'line', { legend: false });
  main.append(el('h2', { text: 'Fields' }), el('table', { id: 'fields' },
    el('thead', {}, el('tr', {}, ['Field', 'Type', 'Default', 'Computed as', 'Null rate (recent)', 'Quality checks', 'Violations (recent)', 'Description'].map((h) => el('th', { text: h })))),
    el('tbody', {}, fieldRows(view, stats))));
  async function update() {
    const series = await api('/v1/series?part=views&view=' + encodeURIComponent(qualified));
    if (stale()) return;
    const s = series.views[0];
    const labels = series.t.map(clock);
    setSeries(writes, labels, [{ label: 'rows/s', data: s ? s.write_rate : [] }]);
    setSeries(rows, labels, [{ label: 'rows', data: s ? s.rows : [] }, { label: 'past SLA', data: s ? s.past_sla : [] }]);
  }
  await update();
  return update;
}

// --- one feature --------------------------------------------------------------

function distributionChart(parent, dist) {
  const labels = [];
  if (dist.kind === 'numeric') {
    for (let i = 0; i + 1 < dist.edges.length; i++) labels.push(fmtNumber((dist.edges[i] + dist.edges[i + 1]) / 2, 3));
  }
  const chart = chartCard(parent, 'Distribution' + (dist.of ? ' (L2 norm)' : ''), 'bar', { unit: 'share of values', ticks: (v) => (v * 100).toFixed(0) + '%' });
  if (dist.kind === 'numeric') {
    const sets = [{ label: 'recent', data: dist.windows.recent.shares }, { label: 'since start', data: dist.windows.since_start.shares }];
    if (dist.baseline) sets.push({ label: 'baseline', data: dist.baseline.shares, type: 'line', borderColor: '#c83a2a', backgroundColor: '#c83a2a', borderWidth: 2, pointRadius: 0, stepped: 'middle' });
    setSeries(chart, labels, sets);
  } else {
    const cats = dist.categories;
    const sets = [{ label: 'recent', data: cats.map((c) => c.recent) }, { label: 'since start', data: cats.map((c) => c.since_start) }];
    if (dist.baseline) sets.push({ label: 'baseline', data: cats.map((c) => c.baseline || 0) });
    setSeries(chart, cats.map((c) => c.value), sets);
  }
  return chart;
}

function driftChart(parent, drift, thresholds) {
  const chart = chartCard(parent, 'Drift over time', 'line', {});
  const labels = drift ? drift.t.map(clock) : [];
  const d = drift && drift.fields[0];
  const flat = (v) => labels.map(() => v);
  const sets = d ? [
    { label: 'PSI', data: d.psi }, { label: 'KS', data: d.ks }, { label: 'mean shift (σ)', data: d.mean_shift }] : [];
  if (d && thresholds) {
    sets.push({ label: 'PSI threshold', data: flat(thresholds.psi), borderDash: [5, 4], borderColor: COLORS[0] },
      { label: 'KS threshold', data: flat(thresholds.ks), borderDash: [5, 4], borderColor: COLORS[1] },
      { label: 'mean shift threshold', data: flat(thresholds.mean_shift), borderDash: [5, 4], borderColor: COLORS[2] });
  }
  setSeries(chart, labels, sets);
  return chart;
}

function windowTable(dist) {
  const rows = [['Values', 'count'], ['Nulls', 'nulls'], ['Null rate', 'null_rate'], ['Mean', 'mean'], ['Stddev', 'stddev'], ['Min', 'min'], ['Max', 'max']];
  return el('table', { id: 'windows' }, el('thead', {}, el('tr', {}, el('th', { text: '' }), el('th', { text: 'Recent' }), el('th', { text: 'Since start' }), el('th', { text: 'Baseline' }))),
    el('tbody', {}, rows.map(([label, key]) => el('tr', {}, el('td', { text: label }),
      el('td', { text: fmtNumber(dist.windows.recent[key]) }), el('td', { text: fmtNumber(dist.windows.since_start[key]) }),
      el('td', { text: dist.baseline && dist.baseline[key] !== undefined ? fmtNumber(dist.baseline[key]) : '' })))));
}

async function featurePage(main, viewArg, field, stale) {
  if (!state.statistics) {
    main.append(el('h1', { text: viewArg + ' · ' + field }), el('p', { class: 'muted', text: 'Statistics are off (quiverd --statistics false): no distribution or drift to show.' }));
    return null;
  }
  const path = '/v1/views/' + encodeURIComponent(viewArg) + '/distribution?field=' + encodeURIComponent(field);
  const [dist, drift, driftNow] = await Promise.all([
    api(path), api('/v1/series?part=drift&view=' + encodeURIComponent(viewArg)), api('/v1/drift')]);
  const now = (driftNow.views.find((v) => v.view === dist.view) || { fields: [] }).fields.find((f) => f.name === field);
  main.append(el('h1', {}, el('a', { href: route('view', dist.view), text: dist.view }), ' · ' + field),
    el('p', { class: 'muted', text: dist.type + (dist.baseline ? ', baseline ' + dist.baseline.source + (dist.baseline.captured_at ? ' at ' + dist.baseline.captured_at : '') : ', no baseline') + '; recent window ' + fmtMs(dist.recent_window_ms) }));
  if (now) {
    main.append(el('div', { class: 'grid', id: 'drift-now' },
      card(now.drifting ? 'Drifting (' + now.exceeded.join(', ') + ')' : 'Drifting', now.drifting ? 'yes' : (now.judged ? 'no' : 'not judged yet'), { class: 'card ' + (now.drifting ? 'bad' : 'good') }),
      card('PSI', fmtNumber(now.psi, 2) + ' (≤ ' + now.thresholds.psi + ')'),
      card('KS', fmtNumber(now.ks, 2) + ' (≤ ' + now.thresholds.ks + ')'),
      card('Mean shift', fmtNumber(now.mean_shift, 2) + 'σ (≤ ' + now.thresholds.mean_shift + ')')));
  }
  const charts = el('div', { class: 'charts' });
  main.append(charts);
  let distChart = dist.kind === 'none' ? null : distributionChart(charts, dist);
  const fieldDrift = drift.fields.filter((f) => f.field === field);
  const driftChartObj = driftChart(charts, { t: drift.t, fields: fieldDrift }, now && now.thresholds);
  main.append(el('h2', { text: 'Windows' }), windowTable(dist));
  if (dist.kind === 'categorical') {
    main.append(el('h2', { text: 'Top categories' }), el('table', { id: 'categories' },
      el('thead', {}, el('tr', {}, ['Value', 'Recent', 'Since start', 'Baseline'].map((h) => el('th', { text: h })))),
      el('tbody', {}, dist.categories.map((c) => el('tr', {}, el('td', { text: c.value }), el('td', { text: (100 * c.recent).toFixed(1) + '%' }),
        el('td', { text: (100 * c.since_start).toFixed(1) + '%' }), el('td', { text: c.baseline === undefined ? '' : (100 * c.baseline).toFixed(1) + '%' }))))));
  }
  return async () => {
    const [d2, dr2] = await Promise.all([api(path), api('/v1/series?part=drift&view=' + encodeURIComponent(viewArg))]);
    if (stale()) return;
    if (distChart) { state.charts.splice(state.charts.indexOf(distChart), 1); distChart.destroy(); distChart.canvas.closest('.chart').remove(); }
    distChart = d2.kind === 'none' ? null : distributionChart(charts, d2);
    if (distChart) charts.prepend(distChart.canvas.closest('.chart'));
    const f2 = dr2.fields.filter((f) => f.field === field)[0];
    driftChartObj.data.labels = dr2.t.map(clock);
    if (f2) ['psi', 'ks', 'mean_shift'].forEach((k, i) => { if (driftChartObj.data.datasets[i]) driftChartObj.data.datasets[i].data = f2[k]; });
    driftChartObj.data.datasets.slice(3).forEach((s) => { s.data = dr2.t.map(() => s.data[0]); });
    driftChartObj.update('none');
  };
}

// --- Kafka --------------------------------------------------------------------

async function kafkaPage(main, stale) {
  main.append(el('h1', { text: 'Kafka ingestion' }));
  const status = await api('/v1/status');
  if (!status.kafka) {
    main.append(el('p', { class: 'muted', id: 'kafka-off', text: 'This server does not ingest from Kafka (start it with --kafka-brokers).' }));
    return null;
  }
  const cards = el('div', { class: 'grid', id: 'kafka-cards' });
  const malformed = el('div', { id: 'malformed' });
  main.append(cards, el('h2', { text: 'Malformed events, by reason' }), malformed);
  const charts = el('div', { class: 'charts' });
  main.append(el('h2', { text: 'Last hour' }), charts);
  const lag = chartCard(charts, 'Lag per partition', 'line', { unit: 'messages' });
  const rate = chartCard(charts, 'Ingestion rate', 'line', { unit: 'per second' });
  const latency = chartCard(charts, 'Event to visible', 'line', { ticks: (v) => fmtUs(v) });
  const bad = chartCard(charts, 'Malformed, dead-lettered and too-late events', 'line', { unit: 'per second' });
  async function update() {
    const [s, k] = await Promise.all([api('/v1/status'), api('/v1/series?part=kafka')]);
    if (stale()) return;
    const kafka = s.kafka;
    const totalLag = kafka.partitions.reduce((a, p) => a + Math.max(p.lag, 0), 0);
    cards.replaceChildren(card('State', kafka.running ? (kafka.paused ? 'paused: ' + kafka.paused : 'running') : 'stopped'),
      card('Brokers', kafka.brokers), card('Group', kafka.group), card('Messages', fmtNumber(kafka.messages)),
      card('Events applied', fmtNumber(kafka.events)), card('Total lag', fmtNumber(totalLag), { id: 'kafka-lag' }),
      card('Dead-lettered', fmtNumber(kafka.dead_lettered)), card('Too late', fmtNumber(kafka.too_late)),
      card('Event to visible p99', fmtUs(kafka.event_to_visible_us.p99)));
    malformed.replaceChildren(el('div', { class: 'legend' }, Object.entries(kafka.malformed).map(([k, v]) => el('span', { class: v ? 'bad' : 'muted', text: k + ': ' + fmtNumber(v) }))));
    const labels = k.t.map(clock);
    setSeries(lag, labels, k.partitions.map((p) => ({ label: p.partition, data: p.lag })));
    setSeries(rate, labels, [{ label: 'events/s', data: k.event_rate }, { label: 'messages/s', data: k.message_rate }]);
    setSeries(latency, labels, [{ label: 'p50', data: k.event_to_visible_p50_us }, { label: 'p99', data: k.event_to_visible_p99_us }]);
    setSeries(bad, labels, [{ label: 'malformed/s', data: k.malformed_rate }, { label: 'dead-lettered/s', data: k.dead_letter_rate }, { label: 'too late/s', data: k.too_late_rate }]);
  }
  await update();
  return update;
}

// --- lookup -------------------------------------------------------------------

function sparkline(values) {
  const canvas = el('canvas', { class: 'spark', width: 160, height: 32 });
  const ctx = canvas.getContext('2d');
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (xs.length < 1) return canvas;
  const lo = Math.min(...xs), hi = Math.max(...xs);
  const span = hi - lo || 1;
  ctx.strokeStyle = ctx.fillStyle = '#2f6fde';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  if (xs.length === 1) {
    ctx.arc(80, 16, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    let started = false;
    values.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return;
      const x = 2 + (156 * i) / (values.length - 1);
      const y = 30 - (28 * (v - lo)) / span;
      if (started) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      started = true;
    });
    ctx.stroke();
  }
  canvas.dataset.drawn = '1';
  return canvas;
}

function range(values) {
  const xs = values.filter((v) => typeof v === 'number');
  return xs.length ? fmtNumber(Math.min(...xs)) + ' … ' + fmtNumber(Math.max(...xs)) : '';
}

function valueText(v) {
  if (v === null || v === undefined) return 'null';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

async function lookupPage(main, viewArg, keyArg) {
  const views = state.views || await loadViews();
  const names = [...new Set(views.map((v) => v.name + '@v' + v.version))].sort();
  const pick = el('select', { id: 'lookup-view' }, names.map((n) => el('option', { value: n, text: n })));
  if (viewArg) pick.value = findView(views, viewArg) ? findView(views, viewArg).name + '@v' + findView(views, viewArg).version : viewArg;
  const key = el('input', { id: 'lookup-key', placeholder: 'entity key (join keys joined by commas)', value: keyArg });
  const form = el('form', { class: 'inline', id: 'lookup-form' }, pick, key, el('button', { type: 'submit', text: 'Look up' }));
  form.addEventListener('submit', (e) => { e.preventDefault(); location.hash = route('lookup', pick.value, key.value); });
  main.append(el('h1', { text: 'Lookup' }), form);
  if (!viewArg || !keyArg) return null;
  const base = encodeURIComponent(viewArg) + '/' + encodeURIComponent(keyArg);
  const [row, history] = await Promise.all([api('/v1/features/' + base),
    state.history ? api('/v1/history/' + base + '?limit=200')
      : { error: 'this server keeps no history (--durability memory)', versions: [] }]);
  const r = row.rows[0];
  main.append(el('p', { id: 'lookup-state', class: r.state === 'found' ? '' : 'warn',
    text: r.state === 'found' ? `Found: event time ${r.event_time}, ${fmtMs(r.age_ms)} old; ${history.versions.length} version${history.versions.length === 1 ? '' : 's'} in the history` : 'No row for this key (' + r.state + ').' }));
  if (history.error) main.append(el('p', { class: 'muted', text: 'History: ' + history.error }));
  const fields = Object.keys(r.features);
  main.append(el('table', { id: 'lookup-row' }, el('thead', {}, el('tr', {}, ['Field', 'Value', 'History', 'Versions'].map((h) => el('th', { text: h })))),
    el('tbody', {}, fields.map((name) => {
      const values = history.versions.map((v) => v.features[name]);
      const numeric = values.some((v) => typeof v === 'number');
      return el('tr', { 'data-field': name }, el('td', { text: name }),
        el('td', { class: r.defaulted.includes(name) ? 'muted' : '', text: valueText(r.features[name]) + (r.defaulted.includes(name) ? ' (default)' : '') }),
        el('td', {}, numeric ? [sparkline(values), el('span', { class: 'muted', text: ' ' + range(values) })] : ''),
        el('td', { text: values.length }));
    }))));
  return null;
}

// --- start ----------------------------------------------------------------------

async function start() {
  document.getElementById('login-form').addEventListener('submit', login);
  document.getElementById('logout').addEventListener('click', logout);
  window.addEventListener('hashchange', () => { if (document.getElementById('login').hidden) render(); });
  if (typeof Chart === 'undefined') {
    showError('Chart.js did not load: the charts cannot be drawn.');
    return;
  }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  const session = await api('/v1/session');
  if (session.login_required) showLogin('');
  else enter(session);
}

start().catch((e) => showError(e.message));
