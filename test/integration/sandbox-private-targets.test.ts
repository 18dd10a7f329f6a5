/**
 * The sandbox's fetcher with the private-target guard the local runtime turns on when its API listens
 * beyond loopback: only the listed exception (the sample file) may be fetched from this machine; other
 * loopback URLs, local names, a redirect from the exception to another local URL and a public-looking
 * name that resolves to loopback are all refused, with a KO text that says why. Real HTTP on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, LookupFunction } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fetcher, type FetcherOptions } from '../../infra/sandbox/fetcher.js';

let server: Server;
let origin: string;
let dir: string;
let hits: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fetch-guard-'));
  hits = [];
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/sample/redirect') {
      res.writeHead(302, { location: '/private/secret.txt' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`file ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const BASE: FetcherOptions = {
  maxFileBytes: 1024 * 1024,
  connectTimeoutMs: 2000,
  idleTimeoutMs: 2000,
  totalTimeoutMs: 5000,
  diskQuotaBytes: 10 * 1024 * 1024,
};
let n = 0;
const fetchOne = (fetcher: Fetcher, url: string) => fetcher.fetchToFile(url, {}, join(dir, `f${++n}`));

/** Resolves every name to 127.0.0.1, as a DNS rebinding setup would. */
const toLoopback: LookupFunction = (_host, opts, cb) => {
  if ((opts as { all?: boolean }).all)
    (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
      { address: '127.0.0.1', family: 4 },
    ]);
  else cb(null, '127.0.0.1', 4);
};

describe('sandbox fetcher with the private-target guard', () => {
  it('fetches the exception (the sample file) and refuses every other loopback URL, before any byte is sent', async () => {
    const sample = `${origin}/sample/hello.txt`;
    const fetcher = new Fetcher({ ...BASE, privateTargets: { exceptions: () => [sample] } });
    try {
      expect(await fetchOne(fetcher, sample)).toMatchObject({ ok: true, filename: 'hello.txt' });
      hits.length = 0;
      for (const url of [
        `${origin}/private/secret.txt`,
        `${sample}?other=1`,
        `http://localhost:${new URL(origin).port}/sample/hello.txt`,
        `http://2130706433:${new URL(origin).port}/private/secret.txt`,
        'http://10.0.0.1/router',
        'http://169.254.169.254/latest/meta-data/',
      ]) {
        const outcome = await fetchOne(fetcher, url);
        expect(outcome.ok, url).toBe(false);
        expect(!outcome.ok && outcome.message, url).toMatch(/^Refused: .*only public URLs/);
      }
      expect(hits).toEqual([]);
    } finally {
      await fetcher.close();
    }
  });

  it('checks every redirect hop: the exception redirecting to another local URL is refused', async () => {
    const fetcher = new Fetcher({
      ...BASE,
      privateTargets: { exceptions: () => [`${origin}/sample/redirect`] },
    });
    try {
      hits.length = 0;
      const outcome = await fetchOne(fetcher, `${origin}/sample/redirect`);
      expect(outcome).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^Refused: 127\.0\.0\.1 is/),
      });
      expect(hits).toEqual(['/sample/redirect']);
    } finally {
      await fetcher.close();
    }
  });

  it('refuses a public-looking name that resolves to loopback, at connect time', async () => {
    const port = new URL(origin).port;
    const fetcher = new Fetcher({
      ...BASE,
      lookup: toLoopback,
      privateTargets: { exceptions: () => [`${origin}/sample/hello.txt`] },
    });
    try {
      hits.length = 0;
      const outcome = await fetchOne(fetcher, `http://files.example.com:${port}/sample/hello.txt`);
      expect(outcome).toMatchObject({
        ok: false,
        message: expect.stringMatching(/^Refused: 127\.0\.0\.1 is a loopback/),
      });
      expect(hits).toEqual([]);
    } finally {
      await fetcher.close();
    }
  });

  it('without the guard (a loopback-only relay), fetches loopback sources as before', async () => {
    const fetcher = new Fetcher(BASE);
    try {
      expect(await fetchOne(fetcher, `${origin}/private/secret.txt`)).toMatchObject({ ok: true });
      expect(await fetchOne(fetcher, `${origin}/sample/redirect`)).toMatchObject({ ok: true });
    } finally {
      await fetcher.close();
    }
  });
});
