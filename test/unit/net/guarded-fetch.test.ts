import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../../shared/net/addresses.js';
import {
  BlockedAddressError,
  BlockedUrlError,
  OutboundAbortedError,
  OutboundNetworkError,
  OutboundTimeoutError,
} from '../../../shared/net/errors.js';
import {
  CONNECT_TIMEOUT_CODE,
  type Connector,
  DEFAULT_USER_AGENT,
  guardedFetch,
  type LookupFn,
  pinnedConnector,
  RELAY_VERSION,
  resolveCheckedAddresses,
} from '../../../shared/net/guarded-fetch.js';

/** A lookup that answers from a table and counts its calls. */
function tableLookup(table: Record<string, string[]>): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { calls });
}

/** A connector that never opens a socket: it records the attempt and fails as told. */
function failingConnector(err: Error): Connector & { attempts: string[] } {
  const attempts: string[] = [];
  const fn: Connector = (opts, cb) => {
    attempts.push(opts.hostname);
    cb(err, null);
  };
  return Object.assign(fn, { attempts });
}

const ctx = (lookup: LookupFn) => ({
  operation: 'feed fetch',
  allowPrivate: false,
  policy: classifyAddress,
  lookup,
  signal: new AbortController().signal,
});

describe('the User-Agent', () => {
  it('names the version package.json has', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(RELAY_VERSION).toBe(pkg.version);
    expect(DEFAULT_USER_AGENT).toBe(
      `fichier-relay/${pkg.version} (+https://github.com/fichier-relay/fichier-relay)`,
    );
  });
});

describe('resolveCheckedAddresses', () => {
  it('returns every checked address of a public name', async () => {
    const lookup = tableLookup({ 'feeds.example.com': ['93.184.216.34', '2606:4700::1111'] });
    await expect(
      resolveCheckedAddresses(new URL('https://feeds.example.com/'), ctx(lookup)),
    ).resolves.toEqual(['93.184.216.34', '2606:4700::1111']);
  });

  it('refuses the whole name when any answer is refused, naming the refused one', async () => {
    const lookup = tableLookup({ 'mixed.example.com': ['93.184.216.34', '127.0.0.1'] });
    const err = await resolveCheckedAddresses(
      new URL('https://mixed.example.com/x?k=SECRET'),
      ctx(lookup),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err).toMatchObject({ address: '127.0.0.1', stage: 'resolve', host: 'mixed.example.com' });
    expect((err as Error).message).toBe(
      'feed fetch https://mixed.example.com/x?k=[redacted] refused: mixed.example.com resolves to 127.0.0.1, a loopback address (this machine); only public addresses may be reached',
    );
  });

  it('does not resolve an IP literal', async () => {
    const lookup = tableLookup({});
    await expect(resolveCheckedAddresses(new URL('http://[2606:4700::1111]/'), ctx(lookup))).resolves.toEqual(
      ['2606:4700::1111'],
    );
    expect(lookup.calls).toEqual([]);
  });

  it('reports a name that does not resolve as a retryable network error', async () => {
    const err = await resolveCheckedAddresses(
      new URL('https://nowhere.example/'),
      ctx(tableLookup({})),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundNetworkError);
    expect(err).toMatchObject({ code: 'ENOTFOUND', retryable: true });
  });
});

describe('pinnedConnector', () => {
  const fakeSocket = (remoteAddress: string) => {
    const socket = { remoteAddress, destroyed: false, destroy: () => (socket.destroyed = true) };
    return socket;
  };
  const connectOpts = {
    hostname: 'feeds.example.com',
    host: 'feeds.example.com',
    protocol: 'http:',
    port: '80',
  };

  it('connects to the checked address, not the name', async () => {
    const targets: string[] = [];
    const base: Connector = (opts, cb) => {
      targets.push(opts.hostname);
      cb(null, fakeSocket('93.184.216.34') as unknown as Socket);
    };
    const connector = pinnedConnector({
      addresses: ['93.184.216.34'],
      verify: (a) => classifyAddress(a),
      base,
      operation: 'feed fetch',
      url: 'http://feeds.example.com/',
    });
    const result = await new Promise<unknown>((resolve) =>
      connector(connectOpts, (err, s) => resolve(err ?? s)),
    );
    expect(targets).toEqual(['93.184.216.34']);
    expect(result).toMatchObject({ remoteAddress: '93.184.216.34', destroyed: false });
  });

  it('destroys a socket that reached another address than the one checked', async () => {
    const socket = fakeSocket('10.0.0.7');
    const connector = pinnedConnector({
      addresses: ['93.184.216.34'],
      verify: (a) => classifyAddress(a),
      base: (_opts, cb) => cb(null, socket as unknown as Socket),
      operation: 'feed fetch',
      url: 'http://feeds.example.com/',
    });
    const err = await new Promise<unknown>((resolve) =>
      connector(connectOpts, (...args) => resolve(args[0])),
    );
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err).toMatchObject({ address: '10.0.0.7', stage: 'connect', range: 'private' });
    expect(socket.destroyed).toBe(true);
  });

  it('refuses a public socket address that is not the checked one', async () => {
    const connector = pinnedConnector({
      addresses: ['93.184.216.34'],
      verify: (a) => classifyAddress(a),
      base: (_opts, cb) => cb(null, fakeSocket('1.1.1.1') as unknown as Socket),
      operation: 'feed fetch',
      url: 'http://feeds.example.com/',
    });
    const err = await new Promise<unknown>((resolve) =>
      connector(connectOpts, (...args) => resolve(args[0])),
    );
    expect((err as Error).message).toContain('1.1.1.1, not the address that was checked (93.184.216.34)');
  });

  it('tries the next checked address when one refuses the connection', async () => {
    const targets: string[] = [];
    const connector = pinnedConnector({
      addresses: ['2606:4700::1111', '93.184.216.34'],
      verify: (a) => classifyAddress(a),
      base: (opts, cb) => {
        targets.push(opts.hostname);
        if (opts.hostname.includes(':'))
          cb(Object.assign(new Error('unreachable'), { code: 'ENETUNREACH' }), null);
        else cb(null, fakeSocket(opts.hostname) as unknown as Socket);
      },
      operation: 'feed fetch',
      url: 'http://feeds.example.com/',
    });
    await new Promise<void>((resolve) => connector(connectOpts, () => resolve()));
    expect(targets).toEqual(['2606:4700::1111', '93.184.216.34']);
  });
});

describe('guardedFetch without a network', () => {
  const lookup = tableLookup({ 'feeds.example.com': ['93.184.216.34'] });

  it('maps a connect timeout to OutboundTimeoutError (phase connect)', async () => {
    const connector = failingConnector(
      Object.assign(new Error('Connect Timeout'), { code: CONNECT_TIMEOUT_CODE }),
    );
    const err = await guardedFetch('https://feeds.example.com/rss?token=SECRET', {
      lookup,
      connector,
      connectTimeoutMs: 1234,
      operation: 'feed fetch',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundTimeoutError);
    expect(err).toMatchObject({ phase: 'connect', timeoutMs: 1234, retryable: true });
    expect((err as Error).message).toBe(
      'feed fetch https://feeds.example.com/rss?token=[redacted] timed out (connect 1234 ms)',
    );
    expect(connector.attempts).toEqual(['93.184.216.34']);
  });

  it('maps a refused connection to OutboundNetworkError with its code', async () => {
    const connector = failingConnector(
      Object.assign(new Error('connect ECONNREFUSED 93.184.216.34:443'), { code: 'ECONNREFUSED' }),
    );
    const err = await guardedFetch('https://feeds.example.com/', { lookup, connector }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OutboundNetworkError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', operation: 'GET' });
  });

  it('reports the caller aborting as OutboundAbortedError', async () => {
    const controller = new AbortController();
    controller.abort();
    const connector = failingConnector(new Error('never reached'));
    const err = await guardedFetch('https://feeds.example.com/', {
      lookup,
      connector,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundAbortedError);
    expect(connector.attempts).toEqual([]);
  });

  it('counts DNS in the total timeout', async () => {
    const hanging: LookupFn = () => new Promise(() => {});
    const connector = failingConnector(new Error('never reached'));
    const err = await guardedFetch('https://feeds.example.com/', {
      lookup: hanging,
      connector,
      totalTimeoutMs: 50,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundTimeoutError);
    expect(err).toMatchObject({ phase: 'total', timeoutMs: 50 });
    expect(connector.attempts).toEqual([]);
  });

  it('refuses a URL the guard refuses before resolving anything', async () => {
    const counting = tableLookup({});
    const connector = failingConnector(new Error('never reached'));
    await expect(
      guardedFetch('gopher://feeds.example.com/', { lookup: counting, connector }),
    ).rejects.toThrow(BlockedUrlError);
    await expect(guardedFetch('http://localhost/', { lookup: counting, connector })).rejects.toMatchObject({
      code: 'blockedName',
    });
    expect(counting.calls).toEqual([]);
    expect(connector.attempts).toEqual([]);
  });
});
