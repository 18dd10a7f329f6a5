/**
 * The edges of the guarded client's own connector (`socketConnector`, on node:net/node:tls) and of
 * sending over node:http without an agent: names never resolved behind the check, the peer of a real
 * socket checked, connect timeouts that cover the TLS handshake, and no connection left open.
 * Every target is an IP literal on 127.0.0.0/8.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyAddress } from '../../../shared/net/addresses.js';
import {
  BlockedAddressError,
  OutboundNetworkError,
  OutboundTimeoutError,
} from '../../../shared/net/errors.js';
import {
  type ConnectOptions,
  guardedFetch,
  pinnedConnector,
  socketConnector,
} from '../../../shared/net/guarded-fetch.js';
import { type LoopbackServer, loopbackOnlyConnector, startServer } from './loopback.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((close) => close()));
});

async function serve(...args: Parameters<typeof startServer>): Promise<LoopbackServer> {
  const s = await startServer(...args);
  closing.push(() => s.close());
  return s;
}

/** A TCP server that accepts connections and never says a word (a TLS handshake never completes). */
async function silentTcp(): Promise<{ port: number; sockets: Socket[]; closed: () => number }> {
  const sockets: Socket[] = [];
  let closed = 0;
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.resume(); // reads (and drops) the ClientHello, so the client's closing is seen
    socket.on('close', () => {
      closed += 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  closing.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as { port: number }).port;
  return { port, sockets, closed: () => closed };
}

const connectTo = (hostname: string, port: number, protocol = 'http:'): ConnectOptions => ({
  hostname,
  host: `feed.example.com:${port}`,
  protocol,
  port: String(port),
});

describe('socketConnector', () => {
  it('refuses a host name instead of resolving it', async () => {
    const connect = socketConnector({ timeoutMs: 1_000 });
    const err = await new Promise<unknown>((resolve) =>
      connect(connectTo('localhost', 9), (...args) => resolve(args[0])),
    );
    expect(err).toMatchObject({ code: 'ERR_OUTBOUND_UNCHECKED_NAME' });
  });

  it('hands pinnedConnector a real socket whose peer is checked: a loopback peer is refused before a byte is written', async () => {
    const server = await serve((_req, res) => res.end('never'));
    const connect = pinnedConnector({
      addresses: ['127.0.0.1'],
      // The real policy, without the opt-in: the peer the socket reached is loopback.
      verify: (remote) => classifyAddress(remote),
      base: socketConnector({ timeoutMs: 2_000 }),
      operation: 'feed fetch',
      url: `http://feed.example.com:${server.port}/`,
    });
    const err = await new Promise<unknown>((resolve) =>
      connect(connectTo('127.0.0.1', server.port), (...args) => resolve(args[0])),
    );
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err).toMatchObject({ address: '127.0.0.1', stage: 'connect', range: 'loopback' });
    await expect.poll(() => server.closedConnections).toBe(1);
    expect(server.connections).toBe(1);
    expect(server.requests).toHaveLength(0);
  });
});

describe('guardedFetch over node:http', () => {
  it('closes its connection after the call and asks for no keep-alive (no agent, no pool)', async () => {
    const server = await serve((_req, res) => res.end('hello'));
    const res = await guardedFetch(`${server.origin}/`, {
      allowPrivate: true,
      totalTimeoutMs: 5_000,
      connector: loopbackOnlyConnector(),
    });
    expect(res.body.toString()).toBe('hello');
    expect(server.requests[0]?.headers.connection).toBe('close');
    await expect.poll(() => server.closedConnections).toBe(1);
    expect(server.connections).toBe(1);
  });

  it('counts the TLS handshake in the connect timeout, and closes the socket', async () => {
    const tcp = await silentTcp();
    // No connector given: the default one, connectTimeoutMs its timeout. The target is a loopback literal.
    const err = await guardedFetch(`https://127.0.0.1:${tcp.port}/`, {
      allowPrivate: true,
      connectTimeoutMs: 200,
      totalTimeoutMs: 5_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundTimeoutError);
    expect(err).toMatchObject({ phase: 'connect', timeoutMs: 200 });
    expect(tcp.sockets).toHaveLength(1);
    await expect.poll(() => tcp.closed()).toBe(1);
  });

  it('gives up a handshake still under way when the total deadline passes, and closes the socket', async () => {
    const tcp = await silentTcp();
    const err = await guardedFetch(`https://127.0.0.1:${tcp.port}/`, {
      allowPrivate: true,
      connectTimeoutMs: 5_000,
      totalTimeoutMs: 200,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboundTimeoutError);
    expect(err).toMatchObject({ phase: 'total', timeoutMs: 200 });
    await expect.poll(() => tcp.closed()).toBe(1);
  });

  it('checks the certificate of an https URL naming an IP against that IP', async () => {
    const here = (f: string) => new URL(`./fixtures/${f}`, import.meta.url);
    const cert = readFileSync(here('feed.example.com.crt'));
    const key = readFileSync(here('feed.example.com.key'));
    const server = await serve((_req, res) => res.end('secure'), { tls: { key, cert } });
    const err = await guardedFetch(`https://127.0.0.1:${server.port}/`, {
      allowPrivate: true,
      totalTimeoutMs: 5_000,
      connector: loopbackOnlyConnector({ ca: cert }),
    }).catch((e: unknown) => e);
    // The certificate is trusted (ca) but names feed.example.com, not 127.0.0.1.
    expect(err).toBeInstanceOf(OutboundNetworkError);
    expect(err).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(server.requests).toHaveLength(0);
  });
});
