/**
 * The status page (served at `GET /`). It signs in with a client token kept in `sessionStorage` (this tab
 * only; never in the URL, never logged), then polls `GET /status` every few seconds, `GET /feeds` and
 * `GET /notifications` less often, and lets the user add a URL, retry a failed job and reset the circuit.
 * Everything is drawn with DOM calls and `textContent`: no HTML is built from data.
 */
import { layoutChart, SERIES } from './chart.js';
import { describeTime, listItems, pick, relativeTime, safeHttpUrl } from './format.js';

const TOKEN_KEY = 'fichier-relay.token';
const STATUS_EVERY_MS = 4000;
const LISTS_EVERY_MS = 30_000;
const SVG = 'http://www.w3.org/2000/svg';

type Json = Record<string, unknown>;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  opts: { className?: string; text?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.className) e.className = opts.className;
  if (opts.text !== undefined) e.textContent = opts.text;
  e.append(...children);
  return e;
}

/** An API answer that was not 2xx. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const t = token.get();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'omit',
    cache: 'no-store',
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    if (res.status === 401) signOut('The relay refused the token: sign in again.');
    throw new ApiError(res.status, err?.code ?? 'http', err?.message ?? `HTTP ${res.status}`);
  }
  return json;
}

// ---- sign-in ---------------------------------------------------------------------------------------

let timers: number[] = [];

function signOut(message = ''): void {
  token.clear();
  for (const t of timers) clearInterval(t);
  timers = [];
  $('app').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('live').textContent = '';
  $('conn').textContent = '';
  drawnJobs = { key: '', at: 0 };
  $('sign-in-error').textContent = message;
  $<HTMLInputElement>('token').focus();
}

async function signIn(candidate: string): Promise<void> {
  token.set(candidate);
  try {
    await refreshStatus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return; // signOut already said why
    token.clear();
    $('sign-in-error').textContent =
      err instanceof ApiError
        ? `The relay refused: ${err.message}`
        : `Could not reach the relay: ${(err as Error).message}`;
    return;
  }
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = false;
  $<HTMLInputElement>('token').value = '';
  void refreshLists();
  timers.push(window.setInterval(() => void poll(refreshStatus), STATUS_EVERY_MS));
  timers.push(window.setInterval(() => void poll(refreshLists), LISTS_EVERY_MS));
}

/** Skips a poll while the tab is hidden; reports an unreachable relay in the live line. */
async function poll(fn: () => Promise<void>): Promise<void> {
  if (document.visibilityState === 'hidden' || !token.get()) return;
  const conn = $('conn');
  try {
    await fn();
    if (conn.textContent) conn.textContent = '';
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    const text =
      err instanceof ApiError
        ? `The relay answered ${err.status}: ${err.message}`
        : `Relay unreachable (${(err as Error).message}); retrying.`;
    if (conn.textContent !== text) conn.textContent = text;
  }
}

// ---- status: counts, chart, pacer, jobs ------------------------------------------------------------

async function refreshStatus(): Promise<void> {
  const s = (await api('GET', '/status')) as Json;
  const now = Date.now();
  renderCounts(s);
  renderChart((s.hours as Json[]) ?? []);
  renderPacer(s.pacer as Json | null, now);
  renderJobs((s.recent as Json[]) ?? [], now);
  $('live').textContent = `Updated ${new Date(now).toLocaleTimeString()}`;
}

function renderCounts(s: Json): void {
  const counts = (s.counts ?? {}) as Record<string, number>;
  const list = $('counts');
  list.replaceChildren(
    ...['queued', 'submitting', 'submitted', 'done', 'failed'].map((k) =>
      el('li', { className: `count-${k}` }, el('span', { className: 'n', text: String(counts[k] ?? 0) }), k),
    ),
  );
  const w = (s.window ?? {}) as Json;
  $('window-note').textContent = w.partial
    ? `Counted from your latest ${w.jobs} jobs; older jobs of the last 24 hours are not counted.`
    : `${w.jobs ?? 0} job${w.jobs === 1 ? '' : 's'} created in the last 24 hours.`;
}

let lastHours: Json[] = [];

function renderChart(hours: Json[]): void {
  lastHours = hours;
  const data = hours.map((h) => ({
    hour: String(h.hour),
    submitted: Number(h.submitted) || 0,
    done: Number(h.done) || 0,
    failed: Number(h.failed) || 0,
  }));
  // One viewBox unit per CSS pixel: the axis labels keep their size on a phone.
  const layout = layoutChart(data, Math.max(280, Math.round($('chart').clientWidth) || 600), 180);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${layout.width} ${layout.height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', layout.summary);
  const node = (name: string, attrs: Record<string, string | number>, text?: string) => {
    const n = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  };
  const { plot } = layout;
  svg.append(node('title', {}, layout.summary));
  svg.append(
    node('line', { class: 'axis', x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom }),
  );
  for (const t of layout.yTicks) {
    svg.append(node('line', { class: 'axis', x1: plot.left - 3, x2: plot.right, y1: t.at, y2: t.at }));
    svg.append(node('text', { class: 'tick', x: plot.left - 6, y: t.at + 3, 'text-anchor': 'end' }, t.label));
  }
  for (const t of layout.xTicks) {
    svg.append(
      node('text', { class: 'tick', x: t.at, y: plot.bottom + 14, 'text-anchor': 'middle' }, t.label),
    );
  }
  for (const b of layout.bars) {
    const r = node('rect', { class: `bar-${b.series}`, x: b.x, y: b.y, width: b.width, height: b.height });
    r.append(node('title', {}, b.label));
    svg.append(r);
  }
  $('chart').replaceChildren(svg);
  const tbody = $<HTMLTableElement>('chart-table').tBodies[0];
  tbody?.replaceChildren(
    ...data
      .filter((h) => SERIES.some((s) => h[s] > 0))
      .map((h) =>
        el(
          'tr',
          {},
          el('td', { text: `${h.hour.slice(0, 16).replace('T', ' ')}` }),
          el('td', { text: String(h.submitted) }),
          el('td', { text: String(h.done) }),
          el('td', { text: String(h.failed) }),
        ),
      ),
  );
}

function facts(target: HTMLElement, rows: [string, string][]): void {
  target.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
}

function renderPacer(p: Json | null, now: number): void {
  if (!p) {
    facts($('pacer'), [['State', 'no 1fichier key configured']]);
    return;
  }
  const circuit = (p.circuit ?? {}) as Json;
  const rows: [string, string][] = [
    ['Paused until', p.pausedUntil ? describeTime(p.pausedUntil, now) : 'not paused'],
    ['Circuit', circuit.open ? 'open: no calls to 1fichier' : 'closed'],
  ];
  if (circuit.open) {
    rows.push(['Why', String(circuit.reason ?? 'unknown')]);
    if (circuit.openedAt) rows.push(['Open since', describeTime(circuit.openedAt, now)]);
    rows.push([
      'Closes',
      circuit.manual ? 'only when you reset it (after fixing the key)' : 'by itself when a probe succeeds',
    ]);
  }
  if (Number(p.floodCount) > 0) rows.push(['Flood answers in a row', String(p.floodCount)]);
  facts($('pacer'), rows);
}

/** What the job list last drew, and when: it is redrawn when the jobs change, or every 30 s for the ages. */
let drawnJobs = { key: '', at: 0 };

function renderJobs(jobs: Json[], now: number): void {
  const key = JSON.stringify(jobs);
  if (key === drawnJobs.key && now - drawnJobs.at < 30_000) return;
  drawnJobs = { key, at: now };
  const list = $('jobs');
  if (jobs.length === 0) {
    list.replaceChildren(el('li', { text: 'No jobs in the last 24 hours. Add a URL above.' }));
    return;
  }
  // Keep focus on a retry button across redraws.
  const focused = (document.activeElement as HTMLElement | null)?.dataset?.jobId;
  list.replaceChildren(...jobs.map((j) => jobItem(j, now)));
  if (focused) list.querySelector<HTMLElement>(`[data-job-id="${CSS.escape(focused)}"]`)?.focus();
}

function jobItem(j: Json, now: number): HTMLLIElement {
  const status = String(j.status);
  const id = String(j.id);
  const li = el(
    'li',
    { className: 'job' },
    el(
      'div',
      {},
      el('span', { className: `badge status-${status}`, text: status }),
      el('span', { className: 'job-url', text: String(j.url) }),
    ),
  );
  li.dataset.status = status;
  li.dataset.id = id;
  const created = Date.parse(String(j.createdAt));
  const meta = [`created ${Number.isFinite(created) ? relativeTime(created, now) : '—'}`];
  if (j.folder) meta.push(`folder ${String(j.folder)}`);
  meta.push(`${Number(j.attempts) || 0} attempt(s)`);
  li.append(el('div', { className: 'job-meta', text: meta.join(' · ') }));
  const link = safeHttpUrl(j.fileUrl);
  if (link) {
    const a = el('a', { className: 'file-link', text: link });
    a.href = link;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    li.append(el('div', {}, 'File: ', a));
  }
  if (j.waitReason || j.nextAttemptAt) {
    const parts: string[] = [];
    if (j.waitReason) parts.push(`Waiting: ${String(j.waitReason)}`);
    if (j.nextAttemptAt) parts.push(`next attempt ${describeTime(j.nextAttemptAt, now)}`);
    li.append(el('div', { className: 'job-wait', text: parts.join(' — ') }));
  }
  const error = j.error as Json | undefined;
  if (error) {
    // A retried job keeps the error of the attempt before the retry until it fails again.
    const label = status === 'failed' ? 'Error' : 'Before the retry';
    li.append(
      el('div', {
        className: status === 'failed' ? 'job-error' : 'job-meta',
        text: `${label} (${String(error.code)}): ${String(error.message)}`,
      }),
    );
  }
  if (status === 'failed') {
    const retry = (j.retry ?? {}) as Json;
    const helps = String(retry.helps ?? 'maybe');
    const verdict =
      helps === 'yes'
        ? 'Retrying should help'
        : helps === 'no'
          ? 'Retrying will not help'
          : 'Retrying may help';
    const button = el('button', { className: 'secondary retry', text: 'Retry' });
    button.type = 'button';
    button.dataset.jobId = id;
    button.setAttribute('aria-label', `Retry ${String(j.url)}`);
    button.addEventListener('click', () => void retryJob(id, button));
    li.append(
      el(
        'div',
        { className: 'actions' },
        el('span', { className: 'retry-hint', text: `${verdict}: ${String(retry.why ?? '')}` }),
        button,
      ),
    );
  }
  return li;
}

async function retryJob(id: string, button: HTMLButtonElement): Promise<void> {
  const out = $('jobs-result');
  button.disabled = true;
  try {
    await api('POST', `/jobs/${encodeURIComponent(id)}/retry`);
    out.className = 'result';
    out.textContent = `Job ${id} queued again.`;
    // The button goes away with the failed state: keep keyboard focus near the list.
    out.focus();
    await refreshStatus();
  } catch (err) {
    out.className = 'result bad';
    out.textContent = `Retry refused: ${(err as Error).message}`;
    button.disabled = false;
  }
}

// ---- feeds and notification targets (routes that may not exist on this relay) ---------------------

async function refreshLists(): Promise<void> {
  const now = Date.now();
  await Promise.all([
    renderList('feeds', '/feeds', ['feeds'], 'No feeds yet.', (f) => feedItem(f, now)),
    renderList(
      'notifications',
      '/notifications',
      ['notifications', 'targets'],
      'No notification targets yet.',
      (n) => notifyItem(n, now),
    ),
  ]);
}

async function renderList(
  id: string,
  path: string,
  keys: string[],
  empty: string,
  item: (x: Json) => HTMLLIElement,
): Promise<void> {
  const list = $(id);
  let body: unknown;
  try {
    body = await api('GET', path);
  } catch (err) {
    const text =
      err instanceof ApiError && (err.status === 404 || err.status === 405)
        ? 'Not available on this relay.'
        : `Could not load: ${(err as Error).message}`;
    list.replaceChildren(el('li', { className: 'unavailable', text }));
    return;
  }
  const items = listItems(body, ...keys);
  list.replaceChildren(...(items.length ? items.map(item) : [el('li', { text: empty })]));
}

function card(title: string, rows: [string, string][]): HTMLLIElement {
  const dl = el('dl', { className: 'facts' });
  facts(dl, rows);
  return el('li', {}, el('strong', { className: 'job-url', text: title }), dl);
}

function feedItem(f: Json, now: number): HTMLLIElement {
  const rows: [string, string][] = [
    ['Last fetch', describeTime(pick(f, 'lastFetchAt', 'lastFetchedAt'), now)],
    ['Next fetch', describeTime(pick(f, 'nextFetchAt'), now)],
    ['Failures in a row', String(pick(f, 'consecutiveFailures', 'failures') ?? 0)],
  ];
  const last = pick(f, 'lastStatus', 'lastError');
  if (last !== undefined)
    rows.push(['Last result', typeof last === 'object' ? JSON.stringify(last) : String(last)]);
  const disabled = pick(f, 'disabledReason');
  if (disabled !== undefined) rows.push(['Disabled', String(disabled)]);
  return card(String(pick(f, 'title', 'url', 'id') ?? 'feed'), rows);
}

function notifyItem(n: Json, now: number): HTMLLIElement {
  const last = (pick(n, 'lastDelivery') ?? {}) as Json;
  const rows: [string, string][] = [
    ['Type', String(pick(n, 'type') ?? '—')],
    ['Events', Array.isArray(n.events) ? n.events.join(', ') : 'all'],
    [
      'Last delivery',
      describeTime(pick(last, 'at', 'deliveredAt', 'attemptedAt') ?? pick(n, 'lastDeliveryAt'), now),
    ],
  ];
  const result = pick(last, 'status', 'code', 'answer') ?? pick(n, 'lastStatus');
  if (result !== undefined) rows.push(['Result', String(result)]);
  return card(String(pick(n, 'name', 'url', 'target', 'id') ?? 'target'), rows);
}

// ---- add a URL, reset the circuit ------------------------------------------------------------------

async function addUrl(form: HTMLFormElement): Promise<void> {
  const out = $('add-result');
  const url = $<HTMLInputElement>('add-url').value.trim();
  const folder = $<HTMLInputElement>('add-folder').value.trim();
  const button = form.querySelector('button');
  if (button) button.disabled = true;
  out.className = 'result';
  out.textContent = 'Adding…';
  try {
    const res = (await api('POST', '/jobs', { url, ...(folder ? { folder } : {}) })) as { jobs?: Json[] };
    const job = res.jobs?.[0];
    out.className = 'result';
    out.textContent = job?.duplicate
      ? `Already known: job ${String(job.id)} (${String(job.status)}).`
      : `Added: job ${String(job?.id)}.`;
    form.reset();
    await refreshStatus();
  } catch (err) {
    out.className = 'result bad';
    out.textContent = `Not added: ${(err as Error).message}`;
  } finally {
    if (button) button.disabled = false;
  }
}

async function resetCircuit(button: HTMLButtonElement): Promise<void> {
  const out = $('reset-result');
  button.disabled = true;
  try {
    const r = (await api('POST', '/admin/circuit/reset')) as Json;
    out.className = 'result';
    out.textContent = r.wasOpen
      ? `Circuit closed; ${String(r.requeued)} waiting job(s) sent again.`
      : `Nothing was open; ${String(r.requeued)} waiting job(s) sent again.`;
    await refreshStatus();
  } catch (err) {
    out.className = 'result bad';
    out.textContent = `Reset refused: ${(err as Error).message}`;
  } finally {
    button.disabled = false;
  }
}

// ---- wiring ----------------------------------------------------------------------------------------

function start(): void {
  $<HTMLFormElement>('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    $('sign-in-error').textContent = '';
    const value = $<HTMLInputElement>('token').value.trim();
    if (value) void signIn(value);
  });
  $('sign-out').addEventListener('click', () => signOut('Signed out.'));
  $<HTMLFormElement>('add-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void addUrl(e.currentTarget as HTMLFormElement);
  });
  const reset = $<HTMLButtonElement>('reset-circuit');
  reset.addEventListener('click', () => void resetCircuit(reset));
  let resizing: number | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = window.setTimeout(() => renderChart(lastHours), 150);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && token.get()) void poll(refreshStatus);
  });
  const saved = token.get();
  if (saved) void signIn(saved);
  else signOut();
}

start();
