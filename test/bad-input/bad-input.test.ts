/**
 * Bad input over real HTTP: the relay API of a local runtime (dynalite, fauxqs, sandbox) receives every
 * request of `cases.ts`; each must be refused with a 4xx and a JSON error body, create no job, and leave
 * the server up. Then a few inputs that look odd but are valid (IDN hosts, signed query strings) are
 * checked to be accepted and normalised.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobChange } from '../../infra/local/job-events.js';
import { type RuntimeHandle, startRuntime } from '../../infra/local/runtime.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import { removeDir, tempDir, testLogger } from '../support/runtime.js';
import { BAD_CASES, type BadCase } from './cases.js';

let rt: RuntimeHandle;
let sandbox: SandboxHandle;
let dataDir: string;
const token = `bad-input-${randomBytes(16).toString('hex')}`;
const badToken = `bad-input-${randomBytes(16).toString('hex')}`;
const changes: JobChange[] = [];
const created = () => changes.filter((c) => c.status === 'queued').length;

beforeAll(async () => {
  dataDir = tempDir('relay-bad-input-');
  sandbox = await startSandbox({ port: 0, rate: 1000 });
  rt = await startRuntime({
    port: 0,
    dataDir,
    token,
    sandbox,
    pollIntervalMs: 60_000,
    receiveWaitSeconds: 1,
    logger: testLogger(),
    onJobChange: (c) => changes.push(c),
  });
});

afterAll(async () => {
  await rt?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

function fill(text: string): string {
  return text
    .replaceAll('{token}', token)
    .replaceAll('{TOKEN}', token.toUpperCase())
    .replaceAll('{bad}', badToken);
}

async function send(c: BadCase): Promise<Response> {
  const headers = Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, fill(v)]));
  return fetch(`${rt.baseUrl}${fill(c.path)}`, {
    method: c.method,
    headers,
    ...(c.body !== undefined ? { body: c.body } : {}),
  });
}

async function jobsVisible(): Promise<string> {
  const r = await fetch(`${rt.baseUrl}/jobs?limit=100`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return JSON.stringify(((await r.json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id));
}

async function healthy(): Promise<void> {
  const r = await fetch(`${rt.baseUrl}/health`);
  expect(r.status).toBe(200);
}

describe('bad input: every malformed request gets a 4xx JSON error and changes nothing', () => {
  it('has at least 60 hand-written cases with unique names', () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(BAD_CASES.map((c) => c.name)).size).toBe(BAD_CASES.length);
  });

  const check = async (c: BadCase) => {
    const before = await jobsVisible();
    const createdBefore = created();

    const res = await send(c);
    const text = await res.text();

    expect(res.status, text.slice(0, 300)).toBe(c.status);
    expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.code).toBe('string');
    expect(typeof body.error?.message).toBe('string');
    if (c.code) expect(body.error?.code).toBe(c.code);
    expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack trace
    expect(text).not.toContain(token); // never echoes the secret token
    await healthy();
    expect(created()).toBe(createdBefore);
    expect(await jobsVisible()).toBe(before);
  };

  it.each(BAD_CASES.filter((c) => !c.bug))('$method $path: $name → $status', check);

  // Reported bugs: each turns red here once fixed, and then moves to the table above.
  const known = BAD_CASES.filter((c) => c.bug);
  if (known.length)
    it.fails.each(known)('$method $path: $name → $status (BUG, owner not yet fixed: $bug)', check);

  it('the valid token still works after all the bad ones', async () => {
    const r = await fetch(`${rt.baseUrl}/jobs?limit=1`, { headers: { 'x-api-key': token } });
    expect(r.status).toBe(200);
  });
});

describe('malformed HTTP below the API', () => {
  function raw(request: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(rt.port, '127.0.0.1');
      let data = '';
      s.setTimeout(5000, () => s.destroy(new Error('raw request timed out')));
      s.on('data', (d) => {
        data += d.toString('latin1');
      });
      s.on('end', () => resolve(data));
      s.on('close', () => resolve(data));
      s.on('error', reject);
      s.end(request);
    });
  }

  it('a request line that is not HTTP gets a 400 and the server stays up', async () => {
    const answer = await raw('GARBAGE\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await healthy();
  });

  it('a header value carrying a bare CR gets a 400 and the server stays up', async () => {
    const answer = await raw(
      `POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\rX-Injected: 1\r\nContent-Length: 2\r\n\r\n{}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await healthy();
  });
});

describe('odd but valid input is accepted and normalised', () => {
  async function create(
    u: string,
    body = JSON.stringify({ url: u }),
  ): Promise<{ url: string; status: string }> {
    const r = await fetch(`${rt.baseUrl}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    const text = await r.text();
    expect(r.status, text).toBe(202);
    const job = (JSON.parse(text) as { jobs: { url: string; status: string }[] }).jobs[0];
    if (!job) throw new Error('no job in the answer');
    return job;
  }

  it('an IDN host is accepted and punycoded', async () => {
    const job = await create('https://bücher.example/livre.pdf');
    expect(job.url).toBe('https://xn--bcher-kva.example/livre.pdf');
  });

  it('a UTF-8 byte-order mark before the JSON is ignored', async () => {
    const job = await create('', '\uFEFF{"url":"https://e.co/bom.bin"}');
    expect(job.url).toBe('https://e.co/bom.bin');
  });

  it('a signed query string is kept byte for byte and the fragment dropped', async () => {
    const q = '?X-Amz-Signature=ab%2Fcd&X-Amz-Expires=300&a=1&a=2';
    const job = await create(`HTTPS://Files.Example.COM:443/f.bin${q}#part`);
    expect(job.url).toBe(`https://files.example.com/f.bin${q}`);
  });
});
