/**
 * The status page in headless Chromium (Debian's /usr/bin/chromium through playwright-core) against the local
 * runtime on port 0 with the 1fichier sandbox: sign in with the keyboard, add a URL and see it reach `done`
 * with a working file link, see a failed job say whether a retry can help and retry it to `done`, see an
 * open circuit and its reason and reset it, with the CSP enforced (no violation, no page error), the token
 * only in sessionStorage (never in a URL or a log line), a 375 px wide layout without horizontal scrolling,
 * and a screenshot (docs/status-page.png when missing or with RELAY_UPDATE_SCREENSHOT=1).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_CSP } from '../../functions/routes/web.js';
import { LOCAL_USER_ID } from '../../infra/local/runtime.js';
import type { SandboxHandle } from '../../infra/sandbox/server.js';
import { keyIdOf } from '../../shared/fichier/key-id.js';
import { jobIdFor } from '../../shared/jobs/ids.js';
import { repoRoot } from '../infra/relay-app.js';
import {
  download,
  removeDir,
  startTestRuntime,
  startTestSandbox,
  type TestRuntime,
  tempDir,
} from '../support/runtime.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(
    `status page browser test SKIPPED: ${CHROMIUM} is missing. Install Debian's chromium ` +
      '(`apt-get install -y chromium`; .ci/run does it) to run it.',
  );
}

/** A source server whose `flaky.bin` answers 503 until `available` is set. */
interface Sources {
  url(name: string): string;
  bytes: Buffer;
  available: boolean;
  close(): Promise<void>;
}

async function startSources(): Promise<Sources> {
  const bytes = Buffer.from('status page test file\n'.repeat(200));
  const state = { available: false };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/files/ok.bin' || (path === '/files/flaky.bin' && state.available)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      res.end(bytes);
      return;
    }
    res.writeHead(path === '/files/flaky.bin' ? 503 : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url: (name: string) => `${origin}/files/${name}`,
    bytes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

let sandbox: SandboxHandle;
let sources: Sources;
let runtime: TestRuntime;
let dataDir: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const requestedUrls: string[] = [];

const WAIT = { timeout: 45_000 };

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  dataDir = tempDir();
  sandbox = await startTestSandbox();
  sources = await startSources();
  // Loopback feeds and notification targets (the sources server stands in for both).
  runtime = await startTestRuntime({ dataDir, sandbox, config: { allowPrivateUrls: true } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-gpu',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
  // Runs before the page's own script, outside its CSP: records any violation the page causes.
  await context.addInitScript({
    content: `window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`,
  });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    // The browser reports every 404 as a console error: /feeds and /notifications may not exist here.
    const optional = /\/(feeds|notifications)$/.test(m.location().url);
    if (m.type() === 'error' && !optional) pageErrors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('request', (r) => requestedUrls.push(r.url()));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.close();
  await sources?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

/** The id in the page's "Added: job <id>." line after adding `url` through the form. */
async function addThroughForm(url: string): Promise<string> {
  const line = page.locator('#add-result');
  const before = await line.textContent();
  await page.fill('#add-url', url);
  await page.press('#add-url', 'Enter');
  // A new answer: the line says "Adding…" first, then names the new job.
  await expect
    .poll(async () => {
      const text = (await line.textContent()) ?? '';
      return text !== before && text.startsWith('Added: job ') ? text : '';
    }, WAIT)
    .not.toBe('');
  const id = /^Added: job ([\w-]+)\./.exec((await line.textContent()) ?? '')?.[1];
  expect(id).toBeTruthy();
  return id!;
}

/**
 * Runs in the page: the contrast ratio (WCAG 2 relative luminance) of the text of each kind of element
 * against the first opaque background found walking up from it.
 */
const CONTRAST_SCRIPT = `(() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const sels = ['h1', 'h2', 'p', 'label', '.live', '.note', '.counts li', '.facts dt', '.facts dd', 'button',
    '.badge', '.job-url', '.job-meta', '.job-error', '.job-wait', '.retry-hint', 'a.file-link', '.legend li',
    'input', '.result'];
  const out = [];
  for (const sel of sels) {
    for (const el of document.querySelectorAll(sel)) {
      if (!el.textContent.trim() && el.tagName !== 'INPUT') continue;
      if (!el.getClientRects().length) continue;
      const a = lum(rgb(getComputedStyle(el).color).slice(0, 3));
      const b = lum(background(el));
      out.push({ sel, ratio: Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100 });
      break;
    }
  }
  return out;
})()`;

const jobItem = (id: string, status: string) => `#jobs li[data-id="${id}"][data-status="${status}"]`;

describe.skipIf(!HAVE_CHROMIUM)('status page in headless Chromium', () => {
  it('serves GET / with the strict CSP and asks for a token first', async () => {
    const res = await page.goto(`${runtime.baseUrl}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe(PAGE_CSP);
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(await page.isVisible('#app')).toBe(false);
    expect(await page.getAttribute('#token', 'type')).toBe('password');
  });

  it('signs in with the keyboard; the token stays in sessionStorage, out of URLs and cookies', async () => {
    // The page focuses the token field; typing and Enter is all it takes.
    expect(await page.evaluate('document.activeElement?.id')).toBe('token');
    await page.keyboard.type(runtime.token);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#app', { state: 'visible', ...WAIT });
    expect(await page.evaluate("sessionStorage.getItem('fichier-relay.token')")).toBe(runtime.token);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');
    expect(page.url()).toBe(`${runtime.baseUrl}/`);
    await page.waitForSelector('#chart svg[role="img"]', WAIT);
  });

  it('adds a URL from the page and shows it done with a link to the file', async () => {
    const id = await addThroughForm(sources.url('ok.bin'));
    await page.waitForSelector(`${jobItem(id, 'done')} a.file-link`, WAIT);
    const href = await page.getAttribute(`${jobItem(id, 'done')} a.file-link`, 'href');
    expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(await download(href!)).toEqual(sources.bytes);
    expect(await runtime.client.getJob(id)).toMatchObject({ status: 'done', fileUrl: href });
    // The counts and the chart have it too.
    await expect.poll(() => page.textContent('#counts .count-done .n'), WAIT).not.toBe('0');
    await page.waitForSelector('#chart svg rect.bar-done', WAIT);
  });

  it('shows a failed job with its error and whether retrying helps, and retries it to done', async () => {
    const id = await addThroughForm(sources.url('flaky.bin'));
    const failed = jobItem(id, 'failed');
    await page.waitForSelector(failed, WAIT);
    expect(await page.textContent(`${failed} .job-error`)).toMatch(/remoteFailed.*HTTP 503/);
    expect(await page.textContent(`${failed} .retry-hint`)).toMatch(/^Retrying may help: /);

    sources.available = true;
    // Keyboard again: focus the job's Retry button and press Enter.
    await page.focus(`${failed} button.retry`);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#jobs-result'), WAIT).toBe(`Job ${id} queued again.`);
    await page.waitForSelector(`${jobItem(id, 'done')} a.file-link`, WAIT);
    expect(await runtime.client.getJob(id)).toMatchObject({ status: 'done' });
    expect(await page.textContent(`${jobItem(id, 'done')}`)).toContain('Before the retry (remoteFailed)');
    expect(await page.locator(`${jobItem(id, 'done')} button.retry`).count()).toBe(0);
  });

  it('shows why a waiting job waits and when it is tried next', async () => {
    const now = Date.now();
    const url = sources.url('later.bin');
    const id = jobIdFor(LOCAL_USER_ID, url, '');
    // Created in the store without a queue message, as a job left waiting by the retry policy is.
    await runtime.deps.store.createJob({ id, userId: LOCAL_USER_ID, url, folder: '', source: 'api' }, now);
    await runtime.deps.store.transition(
      id,
      { status: 'queued' },
      { status: 'queued', waitReason: '1fichier flood answer: Flood detected', nextAttemptAt: now + 600_000 },
      now,
    );
    const wait = `${jobItem(id, 'queued')} .job-wait`;
    await page.waitForSelector(wait, WAIT);
    expect(await page.textContent(wait)).toMatch(
      /^Waiting: 1fichier flood answer: Flood detected — next attempt \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (9|10) min\)$/,
    );
  });

  it('keeps text contrast at WCAG AA (4.5:1) or more', async () => {
    const ratios = await page.evaluate<{ sel: string; ratio: number }[]>(CONTRAST_SCRIPT);
    expect(ratios.length).toBeGreaterThan(8);
    for (const r of ratios) expect(r.ratio, r.sel).toBeGreaterThanOrEqual(4.5);
  });

  it('feeds and notification targets render, or say they are not available on this relay', async () => {
    for (const list of ['#feeds', '#notifications']) {
      await page.waitForSelector(`${list} li`, WAIT);
      const text = (await page.textContent(list)) ?? '';
      expect(text, list).not.toMatch(/Could not load/);
    }
  });

  it('shows feeds with their last fetch and failures, and notification targets with their last delivery', async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${runtime.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${runtime.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    // A feed whose document is missing (404): one fetch, one failure.
    const feed = await call('POST', '/feeds', { url: sources.url('missing-feed.xml') });
    expect(feed.status).toBe(201);
    await runtime.feedsNow();
    // A webhook target that answers 404: its test delivery fails, and that is its last delivery.
    const target = await call('POST', '/notifications', {
      type: 'webhook',
      url: sources.url('missing-hook'),
    });
    expect(target.status).toBe(201);
    await call('POST', `/notifications/${target.json.id}/test`);
    await expect
      .poll(async () => {
        const list = (await call('GET', '/notifications')).json.notifications as {
          lastDelivery?: { status: string };
        }[];
        return list[0]?.lastDelivery?.status;
      }, WAIT)
      .toBe('failed');

    // The page reads both lists when it loads.
    await page.reload();
    await page.waitForSelector('#app', { state: 'visible', ...WAIT });
    await expect.poll(() => page.textContent('#feeds'), WAIT).toContain('missing-feed.xml');
    const feedCard = (await page.textContent('#feeds')) ?? '';
    expect(feedCard).toMatch(/Last fetch/);
    expect(feedCard).toMatch(/Next fetch/);
    expect(feedCard).toMatch(/Failures in a row\s*1/);
    await expect.poll(() => page.textContent('#notifications'), WAIT).toContain('webhook');
    const targetCard = (await page.textContent('#notifications')) ?? '';
    expect(targetCard).toMatch(/Last delivery/);
    expect(targetCard).not.toMatch(/Last delivery\s*—/);
    expect(targetCard).toMatch(/Result\s*failed/);
  });

  it('shows an open circuit with its reason at 375 px wide (screenshot), and resets it', async () => {
    // A job that stays failed (its source answers 404), for the screenshot.
    const missing = await addThroughForm(sources.url('missing.bin'));
    await page.waitForSelector(`${jobItem(missing, 'failed')} button.retry`, WAIT);
    const keyId = keyIdOf(await runtime.deps.keyProvider.get());
    await runtime.deps.pacer.recordAuthFailure(keyId, 'Not authenticated #247 (test)', { manual: true });
    await expect.poll(() => page.textContent('#pacer'), WAIT).toMatch(/open: no calls to 1fichier/);
    expect(await page.textContent('#pacer')).toContain('Not authenticated #247 (test)');

    await page.setViewportSize({ width: 375, height: 812 });
    // The chart is redrawn for the new width (one viewBox unit per CSS pixel).
    await expect
      .poll(() => page.evaluate<number>("document.querySelector('#chart svg').viewBox.baseVal.width"), WAIT)
      .toBeLessThanOrEqual(375);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    for (const sel of ['#add-url', '#reset-circuit', '#jobs li']) {
      const box = await page.locator(sel).first().boundingBox();
      expect(box, sel).not.toBeNull();
      expect(box!.x + box!.width, sel).toBeLessThanOrEqual(375);
    }
    mkdirSync(join(repoRoot, 'docs'), { recursive: true });
    // docs/status-page.png is refreshed only when asked (or when missing), so a test run leaves the tree
    // clean; otherwise the screenshot goes to a temporary file and is checked the same way.
    const docsShot = join(repoRoot, 'docs/status-page.png');
    const refresh = process.env.RELAY_UPDATE_SCREENSHOT === '1' || !existsSync(docsShot);
    const shotPath = refresh ? docsShot : join(tmpdir(), `relay-status-page-${process.pid}.png`);
    await page.screenshot({ path: shotPath, fullPage: true });
    expect(readFileSync(shotPath).subarray(1, 4).toString('latin1')).toBe('PNG');

    await page.click('#reset-circuit');
    await expect.poll(() => page.textContent('#reset-result'), WAIT).toMatch(/^Circuit closed; /);
    await expect.poll(() => page.textContent('#pacer'), WAIT).toMatch(/Circuitclosed/);
    expect((await runtime.deps.pacer.state(keyId)).circuitOpen).toBe(false);
  });

  it('caused no CSP violation and no script error; the token never appeared in a URL or a log line', async () => {
    expect(await page.evaluate('window.__violations')).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(requestedUrls.length).toBeGreaterThan(5);
    for (const url of requestedUrls) expect(url).not.toContain(runtime.token);
    const logger = runtime.deps.logger as unknown as { lines: { message: string }[] };
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) expect(JSON.stringify(line)).not.toContain(runtime.token);
  });

  it('signing out forgets the token', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in', { state: 'visible', ...WAIT });
    expect(await page.evaluate("sessionStorage.getItem('fichier-relay.token')")).toBeNull();
  });
});
