/**
 * Loopback fixtures for the outbound HTTP tests: real node:http(s) servers on 127.0.0.x, a lookup
 * answering from a table, an address policy that stands a loopback address in for a public one, and
 * a connector that refuses anything outside 127.0.0.0/8 — so no test can reach the outside network,
 * even when the code under test is wrong.
 */
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type AddressPolicy, classifyAddress, parseIp } from '../../../shared/net/addresses.js';
import {
  type Connector,
  type LookupFn,
  type SocketConnectorOptions,
  socketConnector,
} from '../../../shared/net/guarded-fetch.js';

/** What a test server saw. */
export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A running loopback server and what reached it. */
export interface LoopbackServer {
  server: Server;
  host: string;
  port: number;
  /** `http://<host>:<port>` */
  origin: string;
  /** TCP connections accepted. */
  connections: number;
  /** TCP connections closed since. */
  closedConnections: number;
  /** HTTP requests fully read. */
  requests: Seen[];
  close(): Promise<void>;
}

/** Starts a server on `host` (127.0.0.x) and `port` (0 = any); `handler` answers after the body is read. */
export async function startServer(
  handler: (req: Seen, res: Parameters<RequestListener>[1]) => void,
  opts: { host?: string; port?: number; tls?: ServerOptions } = {},
): Promise<LoopbackServer> {
  const host = opts.host ?? '127.0.0.1';
  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      state.requests.push(seen);
      handler(seen, res);
    });
  };
  const server: Server = opts.tls ? createTlsServer(opts.tls, listener) : createServer(listener);
  const state: LoopbackServer = {
    server,
    host,
    port: 0,
    origin: '',
    connections: 0,
    closedConnections: 0,
    requests: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket) => {
    state.connections += 1;
    socket.on('close', () => {
      state.closedConnections += 1;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  state.port = (server.address() as AddressInfo).port;
  state.origin = `${opts.tls ? 'https' : 'http'}://${host}:${state.port}`;
  return state;
}

/** A lookup answering from `table` (a list, or one list per call: the last repeats), counting calls. */
export function tableLookup(table: Record<string, string[] | string[][]>): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const entry = table[hostname];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const nth = calls.filter((c) => c === hostname).length - 1;
    const answer = Array.isArray(entry[0]) ? (entry as string[][]) : [entry as string[]];
    const addresses = answer[Math.min(nth, answer.length - 1)]!;
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

/** Treats the given loopback addresses as public (tests only), and defers to the real policy otherwise. */
export function loopbackAsPublic(...addresses: string[]): AddressPolicy {
  return (address, opts) => {
    const verdict = classifyAddress(address, opts);
    return addresses.includes(verdict.address)
      ? { ...verdict, allowed: true, range: 'unicast', reason: 'a public address (test stand-in)' }
      : verdict;
  };
}

function isLoopbackV4(address: string): boolean {
  const ip = parseIp(address);
  return ip !== undefined && ip.kind() === 'ipv4' && ip.toString().startsWith('127.');
}

/**
 * The real connector (`socketConnector`) behind a safety net: any attempt to open a socket outside 127.0.0.0/8
 * fails the test instead of leaving the machine. `attempts` lists every target asked for.
 */
export function loopbackOnlyConnector(
  options: Partial<SocketConnectorOptions> = {},
): Connector & { attempts: string[] } {
  const real = socketConnector({ timeoutMs: 2_000, ...options });
  const attempts: string[] = [];
  const connector: Connector = (opts, cb) => {
    attempts.push(opts.hostname);
    if (!isLoopbackV4(opts.hostname)) {
      cb(new Error(`test safety net: refused to connect to ${opts.hostname} (outside 127.0.0.0/8)`), null);
      return;
    }
    real(opts, cb);
  };
  return Object.assign(connector, { attempts });
}
