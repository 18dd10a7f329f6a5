/**
 * Helpers of the end-to-end tests: the local runtime on port 0 with a temporary data dir and fast
 * schedules, a sandbox on port 0, an HTTP client of the relay API, a source file server, polling with
 * deadlines. Everything is real HTTP on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobChange } from '../../infra/local/job-events.js';
import { type RuntimeHandle, type RuntimeOptions, startRuntime } from '../../infra/local/runtime.js';
import { type SandboxHandle, type SandboxOptions, startSandbox } from '../../infra/sandbox/server.js';
import type { RelayLogger } from '../../shared/app/deps.js';
import type { Job } from '../../shared/jobs/model.js';

/** A new temporary directory, removed by `removeDir`. */
export function tempDir(prefix = 'relay-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A sandbox for tests: port 0, a rate high enough that only injected faults flood, short flood locks. */
export function startTestSandbox(opts: SandboxOptions = {}): Promise<SandboxHandle> {
  return startSandbox({
    port: 0,
    rate: 1000,
    floodLockMs: 300,
    userInfoMinIntervalMs: 0,
    userInfoKeyMinIntervalMs: 0,
    ...opts,
  });
}

/** Collects log lines; only errors are printed, so a failing test shows why without drowning the output. */
export function testLogger(): RelayLogger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at =
    (level: string) =>
    (message: unknown, ...extra: unknown[]): void => {
      lines.push({ level, message: String(message) });
      if (level === 'error' && process.env.E2E_VERBOSE !== '0') {
        console.error(
          '[relay error]',
          String(message),
          ...extra.map((e) =>
            JSON.stringify(e, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message}` : v)),
          ),
        );
      }
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  } as RelayLogger & {
    lines: { level: string; message: string }[];
  };
}

/** Runtime options for tests: fast schedules, small pacing, short lease, quiet logger, records job changes. */
export interface TestRuntime extends RuntimeHandle {
  client: RelayClient;
  /** Every job change seen by this runtime, in order. */
  changes: JobChange[];
}

/** Starts the runtime on port 0 with test-friendly timings; `dataDir` and `sandbox` are usually given. */
export async function startTestRuntime(opts: RuntimeOptions = {}): Promise<TestRuntime> {
  const changes: JobChange[] = [];
  const runtime = await startRuntime({
    port: 0,
    pollIntervalMs: 200,
    firstPollDelayMs: 100,
    minIntervalMs: 50,
    floodPauseMs: 300,
    receiveWaitSeconds: 1,
    logger: testLogger(),
    sandboxOptions: { port: 0 },
    ...opts,
    // Short enough for crash tests to reconcile in seconds, long enough that a live worker (pacer wait
    // of at most maxPacerWaitMs, then one sandbox call) never loses its lease.
    // The tests poll their jobs far more often than the per-token rate limit allows a person.
    config: { submittingLeaseS: 3, tokenRatePerMin: 100_000, ...opts.config },
    onJobChange: (c) => {
      changes.push(c);
      opts.onJobChange?.(c);
    },
  });
  return Object.assign(runtime, { client: new RelayClient(runtime.baseUrl, runtime.token), changes });
}

/** Answer of `POST /jobs`. */
export interface PostedJob {
  id: string;
  url: string;
  status: string;
  duplicate: boolean;
}

/** A small client of the relay HTTP API. */
export class RelayClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async postJobs(
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; jobs: PostedJob[] }> {
    const res = await fetch(`${this.baseUrl}/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { jobs?: PostedJob[] };
    if (res.status !== 202) throw new Error(`POST /jobs answered ${res.status}: ${JSON.stringify(json)}`);
    return { status: res.status, jobs: json.jobs ?? [] };
  }

  async getJob(id: string): Promise<Job> {
    const res = await fetch(`${this.baseUrl}/jobs/${encodeURIComponent(id)}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    const json = (await res.json()) as Job;
    if (res.status !== 200)
      throw new Error(`GET /jobs/${id} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  }

  async getJobs(ids: readonly string[]): Promise<Job[]> {
    const out: Job[] = [];
    // A few at a time: the API is one Node process sharing two cores with everything else.
    for (let i = 0; i < ids.length; i += 10) {
      out.push(...(await Promise.all(ids.slice(i, i + 10).map((id) => this.getJob(id)))));
    }
    return out;
  }
}

/**
 * Polls `check` every `intervalMs` until it returns something other than `undefined`/`false`; fails with
 * `what` and the last value seen after `timeoutMs`.
 */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const TERMINAL = new Set(['done', 'failed']);

/** Waits until every job is terminal (over HTTP) and returns them. */
export function untilTerminal(
  client: RelayClient,
  ids: readonly string[],
  timeoutMs = 45_000,
): Promise<Job[]> {
  return until(
    async () => {
      const jobs = await client.getJobs(ids);
      return jobs.every((j) => TERMINAL.has(j.status)) ? jobs : undefined;
    },
    `${ids.length} job(s) to be done or failed`,
    timeoutMs,
    200,
  );
}

/** A source file server: `GET /files/<name>` answers bytes derived from the name. */
export interface FileServer {
  origin: string;
  url(name: string): string;
  bytesOf(name: string): Buffer;
  /** GETs received per path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** 1–4 KiB of bytes that depend only on `name`, so every file is different and checkable. */
export function fileBytes(name: string): Buffer {
  const seed = createHash('sha256').update(name).digest();
  const size = 1024 + (seed.readUInt16BE(0) % 3072);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32)
    createHash('sha256').update(seed).update(String(i)).digest().copy(out, i);
  return out;
}

export async function startFileServer(): Promise<FileServer> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const m = /^\/files\/([\w.-]+)$/.exec(path);
    if (!m || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    const body = fileBytes(m[1]!);
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (name) => `${origin}/files/${name}`,
    bytesOf: fileBytes,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { closedPort } from './sandbox-helpers.js';

/** GETs a URL and returns its body bytes (fails on a non-200). */
export async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Statuses a job went through, in order, from the recorded changes. */
export function statusesOf(changes: readonly JobChange[], id: string): string[] {
  return changes.filter((c) => c.id === id).map((c) => c.status);
}
