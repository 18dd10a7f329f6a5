/**
 * A webhook receiver on 127.0.0.1 for the notification tests: records every request (raw body and
 * headers) and answers what the test scripts per path, and a Standard Webhooks verifier checked against
 * the library's published test vector before it is trusted with our deliveries.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A running receiver. */
export interface Receiver {
  origin: string;
  requests: Received[];
  /** Requests whose path starts with `prefix`. */
  to(prefix: string): Received[];
  /** Sets the answers for a path prefix, used in order; the last one repeats. @default [200] */
  answer(prefix: string, statuses: number[]): void;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1, port 0. */
export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const scripts = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      });
      const prefix = [...scripts.keys()]
        .filter((p) => path.startsWith(p))
        .sort((a, b) => b.length - a.length)[0];
      const script = prefix === undefined ? undefined : scripts.get(prefix);
      const status = script && script.length > 1 ? (script.shift() as number) : (script?.[0] ?? 200);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : `status ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    to: (prefix) => requests.filter((r) => r.path.startsWith(prefix)),
    answer: (prefix, statuses) => scripts.set(prefix, [...statuses]),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The Standard Webhooks JavaScript library's own test vector ("sign function works"). */
export const STANDARD_WEBHOOKS_VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
} as const;

/**
 * Verifies a delivery as a receiver would, with the library: throws when the signature does not match
 * `secret`. First proves the verifier itself on the published vector, so a broken verifier cannot make a
 * bad signature look good. Returns the parsed body.
 */
export function verifyDelivery(secret: string, req: Pick<Received, 'headers' | 'body'>): unknown {
  const v = STANDARD_WEBHOOKS_VECTOR;
  const vectorSigned = new Webhook(v.secret).sign(v.id, new Date(v.timestamp * 1000), v.body);
  if (vectorSigned !== v.signature)
    throw new Error(`verifier disagrees with the test vector: ${vectorSigned}`);
  const headers = {
    'webhook-id': String(req.headers['webhook-id'] ?? ''),
    'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
    'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
  };
  return new Webhook(secret).verify(req.body, headers);
}
