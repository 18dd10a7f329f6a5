/**
 * Bad input over real HTTP: the relay API of a local runtime (dynalite, fauxqs, sandbox) receives every
 * request of `cases.ts`; each must be refused with a 4xx and a JSON error body, create no job, and leave
 * the server up. Then a few inputs that look odd but are valid (IDN hosts, signed query strings) are
 * checked to be accepted and normalised.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobChange } from '../../infra/local/job-events.js';
import { type RuntimeHandle, startRuntime } from '../../infra/local/runtime.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import { signDelivery } from '../../shared/notify/sign.js';
import { issueToken, registerToken } from '../../shared/tokens/manage.js';
import { removeDir, tempDir, testLogger } from '../support/runtime.js';
import { BAD_CASES, type BadCase } from './cases.js';

let rt: RuntimeHandle;
let sandbox: SandboxHandle;
let dataDir: string;
const token = `bad-input-${randomBytes(16).toString('hex')}`;
const badToken = `bad-input-${randomBytes(16).toString('hex')}`;
/** Tokens of each scope, a revoked one, a signed one, and another user's token id (see token-cases.ts). */
const scoped = {
  full: `bad-input-full-${randomBytes(16).toString('hex')}`,
  submit: `bad-input-submit-${randomBytes(16).toString('hex')}`,
  read: `bad-input-read-${randomBytes(16).toString('hex')}`,
  revoked: `bad-input-revoked-${randomBytes(16).toString('hex')}`,
  signed: `bad-input-signed-${randomBytes(16).toString('hex')}`,
};
const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
const wrongSecret = `whsec_${randomBytes(32).toString('base64')}`;
let bobTokenId = '';
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
    // The suite sends hundreds of requests a minute with one token.
    config: { tokenRatePerMin: 100_000 },
  });
  const now = Date.now();
  const tokens = rt.deps.tokens;
  await registerToken(tokens, { token: scoped.full, userId: 'local', scope: 'full' }, now);
  await registerToken(tokens, { token: scoped.submit, userId: 'local', scope: 'submit' }, now);
  await registerToken(tokens, { token: scoped.read, userId: 'local', scope: 'read' }, now);
  await registerToken(tokens, { token: scoped.signed, userId: 'local', scope: 'submit', signingSecret }, now);
  const revoked = await registerToken(tokens, { token: scoped.revoked, userId: 'local' }, now);
  await tokens.revokeToken('local', revoked.id);
  bobTokenId = (
    await issueToken({ name: 'bob', user: 'bob' }, 'operator', { tokens, clock: { now: Date.now } })
  ).record.id;
});

afterAll(async () => {
  await rt?.close();
  await sandbox?.close();
  if (dataDir) removeDir(dataDir);
});

function fill(text: string): string {
  let out = text
    .replaceAll('{token}', token)
    .replaceAll('{TOKEN}', token.toUpperCase())
    .replaceAll('{bad}', badToken)
    .replaceAll('{bobTokenId}', bobTokenId);
  for (const [name, value] of Object.entries(scoped)) out = out.replaceAll(`{${name}}`, value);
  return out.replace(/\[\[b64:([^\]]*)\]\]/g, (_, credentials: string) =>
    Buffer.from(credentials).toString('base64'),
  );
}

/** The Standard Webhooks headers a case asks for, computed now. */
function signatureHeaders(c: BadCase): Record<string, string> {
  const sign = c.sign;
  if (!sign) return {};
  const at = Date.now() - (sign.ageS ?? 0) * 1000;
  const headers: Record<string, string> = signDelivery({
    id: sign.id,
    timestamp: new Date(at),
    body: sign.body ?? c.body ?? '',
    secrets: [sign.secret === 'wrong' ? wrongSecret : signingSecret],
  });
  if (sign.timestamp === 'now') headers['webhook-timestamp'] = String(Math.floor(Date.now() / 1000));
  else if (sign.timestamp === 'ms') headers['webhook-timestamp'] = String(at);
  else if (sign.timestamp !== undefined) headers['webhook-timestamp'] = sign.timestamp;
  if (sign.signature !== undefined) headers['webhook-signature'] = sign.signature;
  if (sign.scheme === 'v1a')
    headers['webhook-signature'] = headers['webhook-signature']?.replace(/^v1,/, 'v1a,') ?? '';
  for (const name of sign.omit ?? []) delete headers[name];
  return headers;
}

/**
 * Sends `bytes` in chunks without Content-Length on a connection of its own (the server answers 413 and
 * closes it before the body ends, which would poison a pooled connection), and reads the answer.
 */
function sendChunked(
  path: string,
  method: string,
  headers: Record<string, string>,
  bytes: number,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${rt.baseUrl}${path}`, { method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve(new Response(Buffer.concat(parts), { status: res.statusCode ?? 0, headers: h }));
      });
      res.on('error', reject);
    });
    // Writing on after the server answered may fail with EPIPE/ECONNRESET: the answer is what counts.
    req.on('error', (err) => setTimeout(() => reject(err), 1000));
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(chunk.byteLength, bytes - sent);
        sent += n;
        if (!req.write(chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

async function send(c: BadCase): Promise<Response> {
  const headers = {
    ...Object.fromEntries(Object.entries(c.headers ?? {}).map(([k, v]) => [k, fill(v)])),
    ...signatureHeaders(c),
  };
  if (c.chunkedBytes !== undefined) return sendChunked(fill(c.path), c.method, headers, c.chunkedBytes);
  return fetch(`${rt.baseUrl}${fill(c.path)}`, {
    method: c.method,
    headers,
    ...(c.body !== undefined ? { body: c.body } : {}),
  });
}

async function tokensVisible(): Promise<string> {
  const r = await fetch(`${rt.baseUrl}/tokens`, { headers: { authorization: `Bearer ${token}` } });
  expect(r.status).toBe(200);
  return JSON.stringify(((await r.json()) as { tokens: { id: string }[] }).tokens.map((t) => t.id));
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
  it('has at least 100 hand-written cases with unique names', () => {
    expect(BAD_CASES.length).toBeGreaterThanOrEqual(100);
    expect(new Set(BAD_CASES.map((c) => c.name)).size).toBe(BAD_CASES.length);
  });

  const check = async (c: BadCase) => {
    const before = await jobsVisible();
    const tokensBefore = await tokensVisible();
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
    for (const secret of [...Object.values(scoped), signingSecret]) expect(text).not.toContain(secret);
    await healthy();
    expect(created()).toBe(createdBefore);
    expect(await jobsVisible()).toBe(before);
    expect(await tokensVisible()).toBe(tokensBefore);
  };

  it.each(BAD_CASES.filter((c) => !c.bug))('$method $path: $name → $status', check);

  // Reported bugs: each turns red here once fixed, and then moves to the table above.
  const known = BAD_CASES.filter((c) => c.bug);
  if (known.length)
    it.fails.each(known)('$method $path: $name → $status (BUG, owner not yet fixed: $bug)', check);

  it('the token npm start creates is admin: it makes a token for another user and reads the relay-wide report', async () => {
    const made = await fetch(`${rt.baseUrl}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'second person', user: 'dana', scope: 'read' }),
    });
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ user: 'dana', scope: 'read' });
    const all = await fetch(`${rt.baseUrl}/reports/latest?scope=all`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect([200, 404]).toContain(all.status); // allowed (404 only until the poller's first report)
  });

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
