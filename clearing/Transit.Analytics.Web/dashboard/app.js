// Transit analytics dashboard: every figure comes from /api/analytics with the caller's bearer token; rows the API
// withholds (fewer than k distinct riders) are shown as suppressed and never charted.
'use strict';

// Pages and the roles that may open them (null: every role); the menu offers a caller only its own.
const pages = [
  ['index', 'Overview', null],
  ['hourly', 'Boardings by hour', null],
  ['busiest', 'Busiest', null],
  ['od', 'OD heat map', null],
  ['transfers', 'Transfers', null],
  ['statements', 'Statements', ['admin', 'operator']],
];
const tokenKey = 'transit-token';
const params = new URLSearchParams(location.search);
const page = document.body.dataset.page;
const content = document.getElementById('content');
const status = document.getElementById('status');
const number = new Intl.NumberFormat('en');
// Who is signed in (GET /api/analytics/me): role, operator and k.
let caller = null;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
  return node;
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function query(extra = {}) {
  const q = new URLSearchParams();
  q.set('from', params.get('from') || today());
  q.set('to', params.get('to') || q.get('from'));
  for (const key of ['operator', 'category', 'hourFrom', 'hourTo', 'route', 'stop', 'mode']) {
    if (params.get(key)) q.set(key, params.get(key));
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === null) q.delete(key); else q.set(key, value);
  }
  return q;
}

class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function api(path, extra) {
  const response = await fetch(`${path}?${query(extra)}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(tokenKey)}`, Accept: 'application/json' },
  });
  if (response.status === 401) {
    sessionStorage.removeItem(tokenKey);
    showLogin('The token was not accepted.');
    throw new ApiError(401, 'not signed in');
  }
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail || detail;
    } catch {
      // A body that is not problem details: the status text says enough.
    }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

const view = (name, extra) => api(`/api/analytics/${name}`, extra);

function showLogin(message) {
  const form = document.getElementById('login');
  form.hidden = false;
  status.textContent = message || 'Sign in with an API token.';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(tokenKey, document.getElementById('token').value.trim());
    location.reload();
  });
}

function renderNav(role) {
  const nav = document.querySelector('nav');
  const q = query();
  for (const [name, title, roles] of pages) {
    if (role && (!roles || roles.includes(role))) {
      nav.append(el('a', { href: `${name}.html?${q}`, class: name === page ? 'current' : '' }, title));
    }
  }
  const who = document.getElementById('who');
  if (sessionStorage.getItem(tokenKey)) {
    const out = el('a', { href: '#' }, 'sign out');
    out.addEventListener('click', (event) => {
      event.preventDefault();
      sessionStorage.removeItem(tokenKey);
      location.reload();
    });
    who.append(out);
  }
}

function renderFilters(fields) {
  const form = document.querySelector('form.filters');
  form.hidden = false;
  const inputs = {
    from: el('input', { type: 'date', name: 'from', value: query().get('from') }),
    to: el('input', { type: 'date', name: 'to', value: query().get('to') }),
    operator: el('input', { name: 'operator', value: params.get('operator') || '', placeholder: 'all', size: 8 }),
    category: el('input', { name: 'category', value: params.get('category') || '', placeholder: 'all', size: 8 }),
    hourFrom: el('input', { type: 'number', name: 'hourFrom', min: 0, max: 23, value: params.get('hourFrom') || '', size: 3 }),
    hourTo: el('input', { type: 'number', name: 'hourTo', min: 0, max: 23, value: params.get('hourTo') || '', size: 3 }),
    mode: el('select', { name: 'mode' }, el('option', { value: '' }, 'all'), el('option', { value: 'bus' }, 'bus'), el('option', { value: 'metro' }, 'metro')),
  };
  inputs.mode.value = params.get('mode') || (page === 'od' ? 'metro' : '');
  for (const name of fields) form.append(el('label', {}, name, inputs[name]));
  form.append(el('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of fields) if (inputs[name].value) next.set(name, inputs[name].value);
    location.search = next.toString();
  });
}

function fmt(value) {
  return value === null || value === undefined ? '—' : typeof value === 'number' ? number.format(value) : value;
}

// Minor units as the currency's amount, grouped like the counts beside it (€12,345.67).
function money(minor, currency) {
  if (minor === null || minor === undefined) return '—';
  const format = currency
    ? new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 })
    : new Intl.NumberFormat('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return format.format(minor / 100);
}

function card(label, value, id) {
  return el('div', { class: 'card' }, el('div', { class: 'value', id }, fmt(value)), el('div', { class: 'label' }, label));
}

function panel(title, ...children) {
  return el('div', { class: 'panel' }, el('h2', {}, title), ...children);
}

// A chart whose plotted numbers are also left on the canvas (data-values), so that what is drawn can be checked.
function chart(id, type, labels, datasets, options = {}) {
  const canvas = el('canvas', { id, 'data-values': JSON.stringify(datasets.map((d) => d.data)) });
  const box = el('div', { class: 'chart' }, canvas);
  requestAnimationFrame(() => {
    new Chart(canvas, {
      type,
      data: { labels, datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, ...options },
    });
  });
  return box;
}

const ridersUnknown = 'not known exactly: see the note below the table';

// columns: [key, title, format, class]. A "riders" column says why a count is missing (ridersNote).
function table(answer, columns, id) {
  const head = el('tr', {}, ...columns.map(([key, title]) => el('th', { class: isNumeric(answer, key) ? 'num' : '' }, title)));
  const body = answer.rows.map((row) => el('tr', { class: row.suppressed ? 'suppressed' : '' },
    ...columns.map(([key, , format, extra]) => {
      const value = row[key];
      const shown = row.suppressed && value === null ? 'suppressed' : format ? format(value, row) : fmt(value);
      const classes = [typeof value === 'number' || value === null ? 'num' : '', key === 'riders' ? 'riders' : '', extra || ''].filter(Boolean).join(' ');
      const title = key === 'riders' && value === null && !row.suppressed ? ridersUnknown : undefined;
      return el('td', { class: classes, title }, shown);
    })));
  return el('table', { id }, el('thead', {}, head), el('tbody', {}, ...body));
}

// Distinct riders are exact for one cell (one day, hour, operator, category …) and for rows of small cells, whose
// riders' pseudonyms are kept; a row adding up larger cells has no exact count, because a rider may be in several.
function ridersNote(answer) {
  return answer.rows.some((r) => !r.suppressed && r.riders === null)
    ? el('p', { class: 'note', id: 'riders-note' }, 'Riders: distinct riders of the row. “—”: the row adds up several cells (days, hours, operators, categories or stops) and a rider may be in more than one, so the number of distinct riders is not known exactly; the rollups keep only a count for cells of many riders, not who they were.')
    : el('span');
}

function isNumeric(answer, key) {
  return answer.rows.some((r) => typeof r[key] === 'number');
}

function suppressionNote(answer) {
  return answer.k ? el('p', { class: 'note' }, `${answer.suppressed} of ${answer.rows.length} rows withheld: fewer than ${answer.k} distinct riders.`) : el('span');
}

// Refusals are a few per thousand taps: on the accepted taps' scale their bars would not show, so they get their own
// axis on the right.
function reasonsChart(reasons) {
  const accepted = reasons.map((r) => (r.reason === 'ok' ? r.taps : null));
  const refused = reasons.map((r) => (r.reason === 'ok' ? null : r.taps));
  return chart('reasons', 'bar', reasons.map((r) => r.reason), [
    { label: 'accepted (left scale)', data: accepted, yAxisID: 'y', backgroundColor: '#2e7d32', skipNull: true },
    { label: 'refused (right scale)', data: refused, yAxisID: 'refused', backgroundColor: '#c62828', skipNull: true },
  ], {
    scales: {
      y: { position: 'left', beginAtZero: true, title: { display: true, text: 'accepted taps' } },
      refused: { position: 'right', beginAtZero: true, title: { display: true, text: 'refused taps' }, grid: { drawOnChartArea: false } },
    },
  });
}

const renderers = {
  async index() {
    renderFilters(['from', 'to', 'operator', 'category']);
    const o = await api('/api/analytics/overview');
    const revenueTotal = o.revenue.rows.reduce((sum, r) => sum + (r.amount ?? 0), 0);
    const refused = o.taps !== null && o.accepted !== null ? o.taps - o.accepted : null;
    content.append(el('div', { class: 'cards' },
      card('taps', o.taps, 'taps'),
      card('accepted', o.accepted, 'accepted'),
      card('refused', refused, 'refused'),
      card('journeys', o.journeys, 'journeys'),
      card('legs', o.legs, 'legs'),
      card('transfers', o.transfers, 'transfers'),
      card('revenue', money(revenueTotal, o.currency), 'revenue')));
    const reasons = o.reasons.rows.filter((r) => !r.suppressed);
    const revenue = o.revenue.rows.filter((r) => !r.suppressed);
    content.append(el('div', { class: 'grid2' },
      panel('Taps by result', reasonsChart(reasons),
        table(o.reasons, [['reason', 'result'], ['taps', 'taps'], ['riders', 'riders']], 'reasons-table'), suppressionNote(o.reasons), ridersNote(o.reasons)),
      panel('Revenue by operator', chart('revenue-chart', 'doughnut', revenue.map((r) => r.operator), [{ label: o.currency, data: revenue.map((r) => r.amount / 100) }]),
        table(o.revenue, [['operator', 'operator'], ['amount', 'amount', (v) => money(v, o.currency), 'money'], ['legs', 'legs']], 'revenue-table'))));
    content.append(panel('Destinations known',
      table({ rows: o.destinations.map((d) => ({ ...d, share: `${(d.share * 100).toFixed(1)} %` })) }, [['mode', 'mode'], ['legs', 'legs'], ['withDestination', 'with destination'], ['share', 'share']], 'destinations'),
      el('p', { class: 'note' }, 'Metro: tapped out, or chained for journeys without an exit. Bus: alighting inferred by trip chaining (nearest stop of the route to the next boarding, within walking distance).')));
  },

  async hourly() {
    renderFilters(['from', 'to', 'operator', 'category', 'mode']);
    const a = await view('boardings-by-hour', { mode: params.get('mode') || null });
    const rows = [...a.rows].sort((x, y) => x.hour - y.hour);
    const shown = rows.filter((r) => !r.suppressed);
    content.append(panel('Boardings and alightings by hour',
      chart('hourly-chart', 'bar', shown.map((r) => `${String(r.hour).padStart(2, '0')}:00`), [
        { label: 'boardings', data: shown.map((r) => r.boardings), backgroundColor: '#0079c1' },
        { label: 'alightings', data: shown.map((r) => r.alightings), backgroundColor: '#ffb81c' },
      ]),
      table({ rows }, [['hour', 'hour'], ['boardings', 'boardings'], ['alightings', 'alightings'], ['alightingsInferred', 'of which inferred'], ['riders', 'riders']], 'hourly-table'),
      suppressionNote(a), ridersNote({ rows })));
  },

  async busiest() {
    renderFilters(['from', 'to', 'operator', 'category', 'hourFrom', 'hourTo']);
    const [stops, routes] = await Promise.all([view('boardings-by-stop'), view('boardings-by-route')]);
    const topStops = stops.rows.filter((r) => !r.suppressed && r.stop).slice(0, 15);
    const topRoutes = routes.rows.filter((r) => !r.suppressed).slice(0, 15);
    const routeName = (r) => r.route || `${r.operator} (all lines)`;
    content.append(el('div', { class: 'grid2' },
      panel('Busiest stations and stops', chart('stops-chart', 'bar', topStops.map((r) => r.stop), [{ label: 'boardings', data: topStops.map((r) => r.boardings), backgroundColor: '#0079c1' }], { indexAxis: 'y' }),
        table({ rows: stops.rows.slice(0, 30) }, [['stop', 'stop'], ['mode', 'mode'], ['boardings', 'boardings'], ['alightings', 'alightings']], 'stops-table'), suppressionNote(stops)),
      panel('Busiest routes', chart('routes-chart', 'bar', topRoutes.map(routeName), [{ label: 'boardings', data: topRoutes.map((r) => r.boardings), backgroundColor: '#6cc24a' }], { indexAxis: 'y' }),
        table(routes, [['route', 'route', (v, r) => routeName(r)], ['mode', 'mode'], ['boardings', 'boardings']], 'routes-table'), suppressionNote(routes))));
  },

  async od() {
    renderFilters(['from', 'to', 'operator', 'category', 'hourFrom', 'hourTo', 'mode']);
    const mode = params.get('mode') || 'metro';
    const a = await view('od', { mode });
    const rows = a.rows.filter((r) => r.toStop);
    const origins = [...new Set(rows.map((r) => r.stop))].sort();
    const destinations = [...new Set(rows.map((r) => r.toStop))].sort();
    const cells = new Map(rows.map((r) => [`${r.stop}|${r.toStop}`, r]));
    const max = Math.max(1, ...rows.map((r) => r.legs ?? 0));
    const heat = el('table', { class: 'heat', id: 'od-heat' },
      el('thead', {}, el('tr', {}, el('th', {}, 'from \\ to'), ...destinations.map((d) => el('th', {}, d)))),
      el('tbody', {}, ...origins.map((o) => el('tr', {}, el('th', {}, o), ...destinations.map((d) => {
        const cell = cells.get(`${o}|${d}`);
        if (!cell) return el('td', {}, '');
        if (cell.suppressed) return el('td', { class: 'suppressed', title: `fewer than ${a.k} riders` }, '·');
        const alpha = 0.12 + (0.88 * cell.legs) / max;
        return el('td', { style: `background: rgba(0, 121, 193, ${alpha.toFixed(3)}); color: ${alpha > 0.55 ? '#fff' : '#1d2733'}`, 'data-legs': cell.legs }, number.format(cell.legs));
      })))));
    const unknown = a.rows.filter((r) => !r.toStop && !r.suppressed).reduce((s, r) => s + r.legs, 0);
    const top = rows.filter((r) => !r.suppressed).slice(0, 12);
    content.append(panel(`Origin–destination (${mode})`, el('div', { style: 'overflow:auto' }, heat), suppressionNote({ ...a, rows })));
    content.append(panel('Largest flows', chart('od-chart', 'bar', top.map((r) => `${r.stop} → ${r.toStop}`), [{ label: 'legs', data: top.map((r) => r.legs), backgroundColor: '#8e44ad' }], { indexAxis: 'y' }),
      el('p', { class: 'note' }, `${number.format(unknown)} legs without an inferred destination are not in the matrix.`)));
  },

  async transfers() {
    renderFilters(['from', 'to', 'operator', 'category', 'hourFrom', 'hourTo']);
    const a = await view('transfers');
    const label = (mode, route, stop) => `${mode === 'metro' ? 'metro' : route} @ ${stop}`;
    const top = a.rows.filter((r) => !r.suppressed).slice(0, 15);
    content.append(panel('Transfer flows', chart('transfers-chart', 'bar', top.map((r) => `${label(r.mode, r.route, r.stop)} → ${label(r.toMode, r.toRoute, r.toStop)}`), [{ label: 'transfers', data: top.map((r) => r.transfers), backgroundColor: '#16a085' }], { indexAxis: 'y' }),
      table(a, [['route', 'from', (v, r) => label(r.mode, r.route, r.stop)], ['toRoute', 'to', (v, r) => label(r.toMode, r.toRoute, r.toStop)], ['transfers', 'transfers'], ['medianSeconds', 'median transfer', (v) => (v === null ? '—' : `${(v / 60).toFixed(1)} min`)]], 'transfers-table'),
      suppressionNote(a)));
  },

  async statements() {
    renderFilters(['from', 'operator']);
    if (caller.role !== 'admin' && caller.role !== 'operator') {
      throw new ApiError(403, 'settlement statements are for operators (their own) and admins');
    }
    const operator = caller.operator || params.get('operator');
    if (!operator) {
      content.append(panel('Settlement statements', el('p', {}, 'Choose an operator (operators see only their own).')));
      return;
    }
    const s = await api(`/api/statements/${encodeURIComponent(operator)}/${query().get('from')}`, { from: null, to: null, operator: null });
    const lines = s.lines || [];
    const charges = lines.reduce((sum, l) => sum + (l.charges ?? 0), 0);
    content.append(el('div', { class: 'cards' },
      card('gross', money(s.gross, s.currency), 'gross'), card('platform fee', money(s.fee, s.currency), 'fee'), card('net', money(s.net, s.currency), 'net'),
      card('charges', charges, 'charges'), card('journeys', s.journeys, 'statement-journeys'), card('legs', s.legs, 'statement-legs')));
    content.append(panel(`Statement of ${operator} for ${query().get('from')}`,
      chart('statement-chart', 'bar', ['gross', 'fee', 'net'], [{ label: s.currency, data: [s.gross / 100, s.fee / 100, s.net / 100], backgroundColor: ['#0079c1', '#c62828', '#2e7d32'] }], { plugins: { legend: { display: false } } }),
      table({ rows: lines }, [['kind', 'line'], ['charges', 'charges'], ['gross', 'gross', (v) => money(v, s.currency), 'money'], ['fee', 'fee', (v) => money(v, s.currency), 'money'], ['net', 'net', (v) => money(v, s.currency), 'money']], 'statement-lines'),
      el('p', { class: 'note' }, `Platform fee ${(s.feeBasisPoints / 100).toFixed(2)} % of the gross share; CSV: /api/statements/${operator}/${query().get('from')}?format=csv`)));
  },
};

async function main() {
  if (!sessionStorage.getItem(tokenKey)) {
    showLogin();
    return;
  }
  try {
    status.textContent = 'Loading…';
    caller = await api('/api/analytics/me', { from: null, to: null });
    renderNav(caller.role);
    await renderers[page]();
    status.textContent = `${query().get('from')}${query().get('to') !== query().get('from') ? ` to ${query().get('to')}` : ''}`;
    document.body.dataset.ready = 'true';
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    status.textContent = '';
    content.append(el('p', { class: 'error', id: 'error' }, error instanceof ApiError && error.status === 403 ? `Not allowed: ${error.message}` : `Could not load: ${error.message}`));
    document.body.dataset.ready = 'true';
  }
}

main();
