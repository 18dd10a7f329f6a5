/**
 * The embedded AWS engines of the local runtime and the tests: dynalite (DynamoDB) and fauxqs (SQS),
 * both in-process on 127.0.0.1, port 0 by default. The real AWS SDK reaches them over HTTP through
 * the standard `AWS_ENDPOINT_URL_*` variables returned by `awsEnvFor`.
 */

import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';

export interface EnginesOptions {
  /** Persist DynamoDB under this directory (omit for in-memory). */
  dynamoPath?: string;
  dynamoPort?: number;
  sqsPort?: number;
}

export interface Engines {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite and fauxqs on loopback. */
export async function startEngines(opts: EnginesOptions = {}): Promise<Engines> {
  if (opts.dynamoPath) mkdirSync(opts.dynamoPath, { recursive: true, mode: 0o700 });
  // Zero table delays: the SDK's table waiter would otherwise poll for 20 s per table (platform-notes.md).
  const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: opts.dynamoPath });
  const inFlight = countInFlight(dyn);
  await new Promise<void>((resolve, reject) => {
    dyn.once('error', reject);
    dyn.listen(opts.dynamoPort ?? 0, '127.0.0.1', () => resolve());
  });
  const dynPort = (dyn.address() as AddressInfo).port;
  // fauxqs' buildApp rather than startFauxqs: startFauxqs always binds 0.0.0.0, and its `host` option is not
  // the bind address but the host named in queue URLs (`sqs.<region>.<host>`): with '127.0.0.1' those URLs
  // (`sqs.us-east-1.127.0.0.1:P`) are not even valid URLs. Left unset, they name `sqs.<region>.localhost`,
  // which does not resolve either, so SQS clients use `useQueueUrlAsEndpoint: false` (platform-notes.md).
  const sqs = buildApp({ logger: false });
  let sqsPort: number;
  try {
    await sqs.listen({ port: opts.sqsPort ?? 0, host: '127.0.0.1' });
    sqsPort = (sqs.server.address() as AddressInfo).port;
  } catch (err) {
    await sqs.close().catch(() => undefined);
    await new Promise<void>((resolve) => dyn.close(() => resolve()));
    throw err;
  }
  return {
    dynamoEndpoint: `http://127.0.0.1:${dynPort}`,
    sqsEndpoint: `http://127.0.0.1:${sqsPort}`,
    async close() {
      await sqs.close();
      // dynalite closes LevelDB as soon as its HTTP server has no connection left, but a request whose client
      // went away (a killed runtime) can still have a query queued, which then throws outside any callback
      // (LEVEL_DATABASE_NOT_OPEN) and takes the process down. Let in-flight requests answer first.
      await inFlight.drained(5_000);
      await new Promise<void>((resolve) => dyn.close(() => resolve()));
    },
  };
}

/** Counts requests a server has received but not yet answered (`res.end`), even when the client left. */
function countInFlight(server: Server): { drained(timeoutMs: number): Promise<void> } {
  let active = 0;
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    active += 1;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      active -= 1;
      return end(...args);
    }) as ServerResponse['end'];
  });
  return {
    async drained(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

/** Environment that points the AWS SDK v3 at the embedded engines (dummy credentials, fixed region). */
export function awsEnvFor(engines: Pick<Engines, 'dynamoEndpoint' | 'sqsEndpoint'>): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: engines.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: engines.sqsEndpoint,
  };
}
