import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BlockedAddressError,
  BlockedUrlError,
  OutboundError,
  OutboundNetworkError,
  OutboundTimeoutError,
  ResponseTooLargeError,
  TooManyRedirectsError,
} from '../../../shared/net/errors.js';
import {
  DEFAULT_USER_AGENT,
  DELIVERY_FETCH,
  FEED_FETCH,
  type GuardedFetchOptions,
  guardedFetch,
  socketConnector,
} from '../../../shared/net/guarded-fetch.js';
import {
  type LoopbackServer,
  loopbackAsPublic,
  loopbackOnlyConnector,
  startServer,
  tableLookup,
} from './loopback.js';

const servers: LoopbackServer[] = [];
async function serve(...args: Parameters<typeof startServer>): Promise<LoopbackServer> {
  const s = await startServer(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const ok =
  (body = 'hello') =>
  (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(body);
  };

/** Every test connects through the loopback-only safety net. */
function opts(
  extra: GuardedFetchOptions = {},
): GuardedFetchOptions & { connector: ReturnType<typeof loopbackOnlyConnector> } {
  return { totalTimeoutMs: 5_000, ...extra, connector: loopbackOnlyConnector() } as GuardedFetchOptions & {
    connector: ReturnType<typeof loopbackOnlyConnector>;
  };
}

async function failure(p: Promise<unknown>): Promise<OutboundError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundError);
  return err as OutboundError;
}

describe('private targets', () => {
  it('refuses 127.0.0.1 without allowPrivate and never connects', async () => {
    const server = await serve(ok());
    const o = opts();
    const err = await failure(guardedFetch(`${server.origin}/`, o));
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err).toMatchObject({ address: '127.0.0.1', range: 'loopback', stage: 'url' });
    expect(o.connector.attempts).toEqual([]);
    expect(server.connections).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a name that resolves to 127.0.0.1 before connecting', async () => {
    const server = await serve(ok());
    const lookup = tableLookup({ 'sneaky.example.com': ['127.0.0.1'] });
    const err = await failure(guardedFetch(`http://sneaky.example.com:${server.port}/`, opts({ lookup })));
    expect(err).toMatchObject({ address: '127.0.0.1', stage: 'resolve', host: 'sneaky.example.com' });
    expect(server.connections).toBe(0);
  });

  it('fetches 127.0.0.1 with allowPrivate, identifying itself', async () => {
    const server = await serve(ok('hello'));
    const res = await guardedFetch(`${server.origin}/path?q=1`, opts({ allowPrivate: true }));
    expect(res).toMatchObject({
      status: 200,
      url: `${server.origin}/path?q=1`,
      address: '127.0.0.1',
      redirects: [],
    });
    expect(res.body.toString()).toBe('hello');
    expect(server.requests[0]).toMatchObject({
      method: 'GET',
      url: '/path?q=1',
      headers: { 'user-agent': DEFAULT_USER_AGENT, 'accept-encoding': 'gzip, br' },
    });
  });

  it('keeps the 169.254.169.254 metadata address refused with allowPrivate', async () => {
    const o = opts({ allowPrivate: true });
    const err = await failure(guardedFetch('http://169.254.169.254/latest/meta-data/', o));
    expect(err).toMatchObject({ range: 'cloudMetadata', stage: 'url' });
    expect(o.connector.attempts).toEqual([]);
  });

  it('tries the next checked address when the first refuses the connection', async () => {
    const server = await serve(ok('second'));
    const lookup = tableLookup({ 'dual.example.com': ['127.0.0.2', '127.0.0.1'] });
    const o = opts({ lookup, allowPrivate: true });
    const res = await guardedFetch(`http://dual.example.com:${server.port}/`, o);
    expect(res.body.toString()).toBe('second');
    expect(o.connector.attempts).toEqual(['127.0.0.2', '127.0.0.1']);
  });
});

describe('a public name (loopback standing in for a public address)', () => {
  it('connects to the checked address and keeps the name in the Host header', async () => {
    const server = await serve(ok('feed'));
    const lookup = tableLookup({ 'feed.example.com': ['127.0.0.1'] });
    const res = await guardedFetch(
      `http://feed.example.com:${server.port}/rss.xml`,
      opts({ lookup, addressPolicy: loopbackAsPublic('127.0.0.1') }),
    );
    expect(res).toMatchObject({ status: 200, address: '127.0.0.1' });
    expect(server.requests[0]?.headers.host).toBe(`feed.example.com:${server.port}`);
    expect(lookup.calls).toEqual(['feed.example.com']);
  });

  it('verifies TLS against the name, not the address it connected to', async () => {
    const here = (f: string) => new URL(`./fixtures/${f}`, import.meta.url);
    const cert = readFileSync(here('feed.example.com.crt'));
    const key = readFileSync(here('feed.example.com.key'));
    let sni: string | undefined;
    const server = await serve(
      (_req, res) => {
        // TLSSocket.servername is documented but missing from @types/node 20.
        sni = (res.socket as unknown as { servername?: string } | null)?.servername || undefined;
        res.end('secure');
      },
      { tls: { key, cert } },
    );
    const lookup = tableLookup({ 'feed.example.com': ['127.0.0.1'], 'other.example.com': ['127.0.0.1'] });
    const base = { lookup, addressPolicy: loopbackAsPublic('127.0.0.1'), totalTimeoutMs: 5_000 };

    const res = await guardedFetch(`https://feed.example.com:${server.port}/`, {
      ...base,
      connector: loopbackOnlyConnector({ ca: cert }),
    });
    expect(res.body.toString()).toBe('secure');
    expect(sni).toBe('feed.example.com');

    const err = await failure(
      guardedFetch(`https://other.example.com:${server.port}/`, {
        ...base,
        connector: loopbackOnlyConnector({ ca: cert }),
      }),
    );
    expect(err).toBeInstanceOf(OutboundNetworkError);
    expect(err).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});

describe('DNS rebinding', () => {
  it('refuses a name whose answer mixes a public address and 127.0.0.1, without connecting anywhere', async () => {
    const server = await serve(ok());
    const lookup = tableLookup({ 'rebind.example.com': ['93.184.216.34', '127.0.0.1'] });
    const o = opts({ lookup });
    const err = await failure(guardedFetch(`http://rebind.example.com:${server.port}/`, o));
    expect(err).toMatchObject({ address: '127.0.0.1', stage: 'resolve' });
    expect(o.connector.attempts).toEqual([]);
    expect(server.connections).toBe(0);
  });

  it('resolves once and connects to the checked address, so a second answer of 127.0.0.1 is never used', async () => {
    // 127.0.0.2 stands in for the public first answer; 127.0.0.1 is the rebound, refused one.
    const decoy = await serve(ok('checked address'), { host: '127.0.0.2' });
    const target = await serve(ok('internal'), { host: '127.0.0.1', port: decoy.port });
    const lookup = tableLookup({ 'rebind.example.com': [['127.0.0.2'], ['127.0.0.1']] });
    const res = await guardedFetch(
      `http://rebind.example.com:${decoy.port}/`,
      opts({ lookup, addressPolicy: loopbackAsPublic('127.0.0.2') }),
    );
    expect(res.body.toString()).toBe('checked address');
    expect(lookup.calls).toEqual(['rebind.example.com']);
    expect(target.connections).toBe(0);
  });

  it('refuses at connect time when the socket reaches another address than the checked one', async () => {
    const target = await serve(ok('internal'));
    const lookup = tableLookup({ 'rebind.example.com': [['127.0.0.2'], ['127.0.0.1']] });
    // A connector that resolves the name again itself (as a careless one would), getting the rebound answer.
    const real = socketConnector({ timeoutMs: 2_000 });
    const resolvingAgain: typeof real = (connectOpts, cb) => {
      void lookup('rebind.example.com').then(([again]) =>
        real({ ...connectOpts, hostname: again!.address }, cb),
      );
    };
    const err = await failure(
      guardedFetch(`http://rebind.example.com:${target.port}/`, {
        lookup,
        addressPolicy: loopbackAsPublic('127.0.0.2'),
        connector: resolvingAgain,
        totalTimeoutMs: 5_000,
      }),
    );
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err).toMatchObject({ address: '127.0.0.1', stage: 'connect', range: 'loopback' });
    await expect.poll(() => target.connections).toBe(1);
    expect(target.requests).toHaveLength(0);
  });
});

describe('body limits', () => {
  const MB = 1024 * 1024;

  /** A server streaming `total` bytes with backpressure; resolves `done` with the bytes written when the socket closes. */
  async function streaming(total: number, headers: Record<string, string> = {}) {
    let resolveDone: (sent: number) => void = () => {};
    const done = new Promise<number>((r) => {
      resolveDone = r;
    });
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      res.on('close', () => resolveDone(sent));
      const pump = () => {
        while (sent < total && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    return { server, done };
  }

  it('stops reading a 10 MB body at the cap, throws ResponseTooLargeError and closes the socket', async () => {
    const { server, done } = await streaming(10 * MB);
    const err = await failure(
      guardedFetch(`${server.origin}/big`, opts({ allowPrivate: true, maxBodyBytes: 64 * 1024 })),
    );
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err).toMatchObject({ limitBytes: 64 * 1024, status: 200, retryable: false });
    const sent = await done;
    expect(sent).toBeLessThan(10 * MB);
  });

  it('returns the first maxBodyBytes with truncated: true in truncate mode, and closes the socket', async () => {
    const { server, done } = await streaming(10 * MB);
    const res = await guardedFetch(`${server.origin}/big`, opts({ allowPrivate: true, ...DELIVERY_FETCH }));
    expect(res.truncated).toBe(true);
    expect(res.body.length).toBe(DELIVERY_FETCH.maxBodyBytes);
    expect(await done).toBeLessThan(10 * MB);
  });

  it('refuses a declared Content-Length over the cap before reading', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * MB) });
      res.write('x'.repeat(1024));
    });
    const err = await failure(
      guardedFetch(`${server.origin}/`, opts({ allowPrivate: true, maxBodyBytes: 1024 })),
    );
    expect(err).toBeInstanceOf(ResponseTooLargeError);
  });

  it('applies the cap to the decoded body of a gzip bomb', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * MB));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
      res.end(bomb);
    });
    const err = await failure(
      guardedFetch(`${server.origin}/`, opts({ allowPrivate: true, maxBodyBytes: MB })),
    );
    expect(err).toBeInstanceOf(ResponseTooLargeError);
  });

  it('decodes gzip and drops the encoding headers; a body of exactly the cap is whole', async () => {
    const text = 'y'.repeat(4096);
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzipSync(text));
    });
    const res = await guardedFetch(`${server.origin}/`, opts({ allowPrivate: true, maxBodyBytes: 4096 }));
    expect(res).toMatchObject({ truncated: false });
    expect(res.body.toString()).toBe(text);
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('feeds allow 5 MiB', async () => {
    const { server } = await streaming(5 * MB);
    const res = await guardedFetch(`${server.origin}/feed`, opts({ allowPrivate: true, ...FEED_FETCH }));
    expect(res.body.length).toBe(5 * MB);
  });
});

describe('timeouts', () => {
  it('gives up on a server that never answers after totalTimeoutMs', async () => {
    const server = await serve(() => {});
    const started = Date.now();
    const err = await failure(
      guardedFetch(`${server.origin}/`, opts({ allowPrivate: true, totalTimeoutMs: 300 })),
    );
    expect(err).toBeInstanceOf(OutboundTimeoutError);
    expect(err).toMatchObject({ phase: 'total', timeoutMs: 300, retryable: true });
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect.poll(() => server.closedConnections).toBe(server.connections);
  });

  it('gives up on a body that stalls half-way', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const err = await failure(
      guardedFetch(`${server.origin}/`, opts({ allowPrivate: true, totalTimeoutMs: 300 })),
    );
    expect(err).toBeInstanceOf(OutboundTimeoutError);
  });
});

describe('redirects', () => {
  /** A server answering each path from a table: [status, location?]. */
  async function redirecting(routes: Record<string, [number, string?]>) {
    return serve((req, res) => {
      const [status, location] = routes[req.url.split('?')[0]!] ?? [200];
      res.writeHead(status, location ? { location } : {});
      res.end(status === 200 ? `at ${req.url}` : 'moved');
    });
  }

  it('returns a 302 as it is in manual mode (the default)', async () => {
    const server = await redirecting({ '/a': [302, '/b'] });
    const res = await guardedFetch(`${server.origin}/a`, opts({ allowPrivate: true }));
    expect(res).toMatchObject({ status: 302, redirects: [], url: `${server.origin}/a` });
    expect(res.headers.location).toBe('/b');
    expect(server.requests.map((r) => r.url)).toEqual(['/a']);
  });

  it('follows in follow mode and reports each hop with its status', async () => {
    const server = await redirecting({
      '/a': [301, '/b'],
      '/b': [308, '/c?x=1'],
      '/c': [302, '/d'],
      '/d': [200],
    });
    const res = await guardedFetch(`${server.origin}/a`, opts({ allowPrivate: true, redirect: 'follow' }));
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('at /d');
    expect(res.url).toBe(`${server.origin}/d`);
    expect(res.redirects).toEqual([
      { url: `${server.origin}/a`, status: 301, location: `${server.origin}/b` },
      { url: `${server.origin}/b`, status: 308, location: `${server.origin}/c?x=1` },
      { url: `${server.origin}/c?x=1`, status: 302, location: `${server.origin}/d` },
    ]);
  });

  it('stops after maxRedirects with TooManyRedirectsError', async () => {
    const server = await redirecting({ '/loop': [307, '/loop'] });
    const err = await failure(
      guardedFetch(
        `${server.origin}/loop`,
        opts({ allowPrivate: true, redirect: 'follow', maxRedirects: 3 }),
      ),
    );
    expect(err).toBeInstanceOf(TooManyRedirectsError);
    expect((err as TooManyRedirectsError).redirects).toHaveLength(4);
    expect(server.requests).toHaveLength(4);
  });

  it.each([
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/', 'blockedAddress'],
    ['a private literal', 'http://10.0.0.1/admin', 'blockedAddress'],
    ['localhost', 'http://localhost/', 'blockedName'],
    ['another scheme', 'file:///etc/passwd', 'unsupportedScheme'],
  ])('refuses a redirect to %s without connecting to it', async (_what, location, code) => {
    const server = await redirecting({ '/a': [302, location] });
    const lookup = tableLookup({ 'feed.example.com': ['127.0.0.1'] });
    const o = opts({ lookup, addressPolicy: loopbackAsPublic('127.0.0.1'), redirect: 'follow' });
    const err = await failure(guardedFetch(`http://feed.example.com:${server.port}/a`, o));
    expect(err).toBeInstanceOf(BlockedUrlError);
    expect(err).toMatchObject({ code });
    expect(o.connector.attempts).toEqual(['127.0.0.1']);
  });

  it('refuses a redirect to a name that resolves to a private address', async () => {
    const server = await redirecting({ '/a': [302, 'http://intranet.example.com/'] });
    const lookup = tableLookup({ 'feed.example.com': ['127.0.0.1'], 'intranet.example.com': ['10.1.2.3'] });
    const o = opts({ lookup, addressPolicy: loopbackAsPublic('127.0.0.1'), redirect: 'follow' });
    const err = await failure(guardedFetch(`http://feed.example.com:${server.port}/a`, o));
    expect(err).toMatchObject({ address: '10.1.2.3', stage: 'resolve', host: 'intranet.example.com' });
    expect(o.connector.attempts).toEqual(['127.0.0.1']);
  });

  it('turns a POST into a GET on 303 and keeps it on 307, dropping credentials across origins', async () => {
    const server = await redirecting({
      '/see-other': [303, '/done'],
      '/temporary': [307, '/done'],
      '/done': [200],
    });
    const lookup = tableLookup({ 'feed.example.com': ['127.0.0.1'], 'other.example.com': ['127.0.0.1'] });
    const base = {
      lookup,
      addressPolicy: loopbackAsPublic('127.0.0.1'),
      redirect: 'follow' as const,
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json', authorization: 'Bearer SECRET' },
    };
    await guardedFetch(`http://feed.example.com:${server.port}/see-other`, opts(base));
    await guardedFetch(`http://feed.example.com:${server.port}/temporary`, opts(base));
    const [, afterSeeOther, , afterTemporary] = server.requests;
    expect(afterSeeOther).toMatchObject({ method: 'GET', body: '' });
    expect(afterSeeOther?.headers['content-type']).toBeUndefined();
    expect(afterTemporary).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(afterTemporary?.headers.authorization).toBe('Bearer SECRET');
  });

  it('drops Authorization when a redirect leaves the origin', async () => {
    const target = await serve(ok('there'));
    const origin = await serve((_req, res) => {
      res.writeHead(307, { location: `http://other.example.com:${target.port}/x` });
      res.end();
    });
    const lookup = tableLookup({ 'feed.example.com': ['127.0.0.1'], 'other.example.com': ['127.0.0.1'] });
    const res = await guardedFetch(
      `http://feed.example.com:${origin.port}/`,
      opts({
        lookup,
        addressPolicy: loopbackAsPublic('127.0.0.1'),
        redirect: 'follow',
        headers: { Authorization: 'Bearer SECRET', 'x-keep': '1' },
      }),
    );
    expect(res.body.toString()).toBe('there');
    expect(origin.requests[0]?.headers.authorization).toBe('Bearer SECRET');
    expect(target.requests[0]?.headers.authorization).toBeUndefined();
    expect(target.requests[0]?.headers['x-keep']).toBe('1');
  });
});

describe('secrets in URLs', () => {
  const SECRETS = ['123456:TOKENSECRET', 'KEYSECRET', 'PASSSECRET'];

  function expectNoSecret(err: OutboundError): void {
    const everything = [
      err.message,
      err.stack ?? '',
      err.url,
      inspect(err, { depth: 10 }),
      JSON.stringify(err),
    ];
    for (const text of everything) for (const secret of SECRETS) expect(text).not.toContain(secret);
  }

  const path = '/bot123456:TOKENSECRET/sendMessage?key=KEYSECRET&chat=1';

  it('keeps them out of a refusal', async () => {
    const err = await failure(guardedFetch(`http://127.0.0.1:9${path}`, opts()));
    expect(err.message).toContain('/bot[redacted]/sendMessage?key=[redacted]&chat=[redacted]');
    expectNoSecret(err);
  });

  it('keeps them out of a credentials refusal', async () => {
    const err = await failure(guardedFetch(`https://user:PASSSECRET@feed.example.com${path}`, opts()));
    expect(err).toMatchObject({ code: 'credentialsInUrl' });
    expectNoSecret(err);
  });

  it('keeps them out of a timeout, a refused connection, a too-large body and a redirect loop', async () => {
    const silent = await serve(() => {});
    const big = await serve((_req, res) => res.end('z'.repeat(10_000)));
    const loop = await serve((req, res) => {
      res.writeHead(302, { location: req.url });
      res.end();
    });
    const closedPort = await serve(ok());
    const closed = closedPort.port;
    await closedPort.close();
    servers.splice(servers.indexOf(closedPort), 1);

    const errors = await Promise.all([
      failure(guardedFetch(`${silent.origin}${path}`, opts({ allowPrivate: true, totalTimeoutMs: 200 }))),
      failure(guardedFetch(`http://127.0.0.1:${closed}${path}`, opts({ allowPrivate: true }))),
      failure(guardedFetch(`${big.origin}${path}`, opts({ allowPrivate: true, maxBodyBytes: 100 }))),
      failure(
        guardedFetch(
          `${loop.origin}${path}`,
          opts({ allowPrivate: true, redirect: 'follow', maxRedirects: 2 }),
        ),
      ),
    ]);
    expect(errors.map((e) => e.name)).toEqual([
      'OutboundTimeoutError',
      'OutboundNetworkError',
      'ResponseTooLargeError',
      'TooManyRedirectsError',
    ]);
    for (const err of errors) expectNoSecret(err);
  });
});
