/**
 * The chaos scenario shared by `npm run chaos` (run.ts, 1,000 jobs) and the shorter `chaos.test.ts`:
 * the local runtime against the 1fichier sandbox while the sandbox answers 5xx, resets connections,
 * holds requests until the socket closes (timeouts), slows down and floods on demand; the worker crashes
 * before the submit and after 1fichier's OK (before our write); the poller crashes mid-cycle; SQS
 * delivers duplicate messages; and the runtime is stopped and started again mid-run. Then it checks the
 * invariants: every job terminal (`failed` only for the URLs designed to fail), no URL submitted twice,
 * no job lost, no flood lock caused by us.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SourceServer, startSourceServer } from '../../bench/lib/source-server.js';
import { type RuntimeHandle, startRuntime } from '../../infra/local/runtime.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import type { RelayLogger } from '../../shared/app/deps.js';
import { createFichierClient, type FichierClient } from '../../shared/fichier/client.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import { shownJobs } from '../support/shown.js';

/** Knobs of one chaos run. */
export interface ChaosOptions {
  jobs: number;
  /** Share of URLs that point at a 404 source and must end `failed`. @default 0.05 */
  badShare?: number;
  /** Seed of the scenario's own choices (which crash when); the sandbox draws its faults itself. */
  seed?: number;
  /** Give up after this long. */
  deadlineMs: number;
  /** Make the second restart a `kill()` rather than a clean stop. @default true */
  kill?: boolean;
  log?: (line: string) => void;
}

/** One invariant and whether it held. */
export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

/** What a chaos run found. */
export interface ChaosResult {
  invariants: Invariant[];
  ok: boolean;
  counts: Record<string, number>;
  injected: Record<string, number>;
  sandbox: {
    requests: Record<string, number>;
    floodLocks: number;
    floodAnswers: number;
    faultsInjected: number;
  };
  elapsedMs: number;
  timeline: string[];
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quietLogger: RelayLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
} as unknown as RelayLogger;

/** The client's deadline per exchange: shorter than the sandbox's held requests (5 s). */
const CLIENT_TIMEOUT_MS = 3_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the scenario and returns the invariants; never throws on a violated invariant. */
export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? Date.now() % 1_000_000;
  const rand = prng(seed);
  const started = Date.now();
  const timeline: string[] = [];
  const note = (line: string) => {
    const entry = `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`;
    timeline.push(entry);
    log(entry);
  };
  note(`seed ${seed}, ${opts.jobs} jobs`);

  const injected = {
    crashBeforeSubmit: 0,
    crashAfterAccepted: 0,
    crashDuringPoll: 0,
    duplicateMessages: 0,
    restarts: 0,
    forcedFloods: 0,
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'relay-chaos-'));
  const token = `chaos-${randomBytes(16).toString('hex')}`;
  const source: SourceServer = await startSourceServer();
  const sandbox: SandboxHandle = await startSandbox({ port: 0, rate: 20, floodLockMs: 2_000 });
  let rt: RuntimeHandle | undefined;

  /**
   * Crash seams: the hook after 1fichier's OK, and wrappers of the deps' 1fichier API (handlers read
   * `deps.fichier` at call time). Each kind also crashes on a fixed call so every run has at least one.
   */
  const crashing = { on: true };
  const clients: FichierClient[] = [];
  const calls = { submit: 0, accepted: 0, info: 0 };
  const crash = (kind: keyof typeof calls, p: number) => {
    calls[kind]++;
    return crashing.on && (calls[kind] === 2 || rand() < p);
  };
  const start = async (): Promise<RuntimeHandle> => {
    const handle = await startRuntime({
      port: 0,
      dataDir,
      token,
      sandbox,
      pollIntervalMs: 1_000,
      minIntervalMs: 100,
      floodPauseMs: 2_000,
      receiveWaitSeconds: 1,
      logger: quietLogger,
      // Time compressed: leases and requeues that take minutes in production take seconds here.
      config: { submittingLeaseS: 3, requeueAfterS: 10 },
      env: { FICHIER_IP_LOCK_PAUSE_MS: '3000', FICHIER_UNKNOWN_BACKOFF_MS: '2000' },
      hooks: {
        afterRemoteAccepted: () => {
          if (crash('accepted', 0.1)) {
            injected.crashAfterAccepted++;
            throw new Error('chaos: worker crashed after 1fichier accepted the request');
          }
        },
      },
    });
    // The same client the deps build (key provider, shared pacer, policy, pacer wait), with short HTTP
    // timeouts so a held request times out on our side (the runtime has no option for them).
    const real: FichierClient = createFichierClient({
      baseUrl: sandbox.baseUrl,
      keyProvider: handle.deps.keyProvider,
      pacer: handle.deps.pacer,
      policy: handle.deps.config.pacing,
      maxPacerWaitMs: handle.deps.config.maxPacerWaitMs,
      clock: handle.deps.clock,
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    clients.push(real);
    handle.deps.fichier = {
      ...real,
      remoteRequest: async (body) => {
        if (crash('submit', 0.05)) {
          injected.crashBeforeSubmit++;
          throw new Error('chaos: worker crashed before the submit');
        }
        return real.remoteRequest(body);
      },
      remoteInfo: async (id) => {
        if (crash('info', 0.01)) {
          injected.crashDuringPoll++;
          throw new Error('chaos: poller crashed mid-cycle');
        }
        return real.remoteInfo(id);
      },
      remoteList: () => real.remoteList(),
      folderList: (id) => real.folderList(id),
      folderMkdir: (name, parent) => real.folderMkdir(name, parent),
      resolveFolder: (path) => real.resolveFolder(path),
      fileInfo: (u) => real.fileInfo(u),
      downloadToken: (u) => real.downloadToken(u),
      userInfo: () => real.userInfo(),
    };
    return handle;
  };

  const urls: { url: string; bad: boolean }[] = Array.from({ length: opts.jobs }, (_, i) => {
    const bad = rand() < (opts.badShare ?? 0.05);
    return { url: bad ? source.missingUrl(`c${i}`) : source.fileUrl(`c${i}`), bad };
  });
  const jobIds = new Map<string, string>(); // url -> job id
  const post = async (batch: typeof urls) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await fetch(`${(rt as RuntimeHandle).baseUrl}/jobs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ urls: batch.map((u) => u.url) }),
        });
        const body = (await r.json()) as { jobs?: { id: string; url: string }[] };
        if (r.status !== 202 || !body.jobs) throw new Error(`POST /jobs answered ${r.status}`);
        for (const j of body.jobs) jobIds.set(j.url, j.id);
        return;
      } catch (err) {
        // Ingest is retried by the caller like any webhook sender would; dedupe makes it safe.
        if (attempt >= 5) throw err;
        await sleep(500);
      }
    }
  };
  const statuses = async (): Promise<JobRecord[]> => {
    const ids = [...jobIds.values()];
    const out: JobRecord[] = [];
    for (let i = 0; i < ids.length; i += 100)
      out.push(...(await shownJobs((rt as RuntimeHandle).deps, ids.slice(i, i + 100))));
    return out;
  };
  const terminalCount = (jobs: JobRecord[]) =>
    jobs.filter((j) => j.status === 'done' || j.status === 'failed').length;

  let jobs: JobRecord[] = [];
  try {
    rt = await start();
    sandbox.setFaults({
      errorRatio: 0.1,
      resetRatio: 0.04,
      timeoutRatio: 0.03,
      timeoutHoldMs: 5_000,
      htmlErrorRatio: 0.04,
      oddEntries: true,
      numbersAsStrings: true,
      datesFixedUtcPlus1: true,
    });
    note(
      `faults on: 10% 5xx, 4% nginx HTML pages, 4% resets, 3% held 5 s (the client times out after ${CLIENT_TIMEOUT_MS} ms); ` +
        'odd ls/info entries, numbers as strings, dates at fixed UTC+1',
    );

    const waves = 4;
    const per = Math.ceil(urls.length / waves);
    for (let w = 0; w < waves; w++) {
      const wave = urls.slice(w * per, (w + 1) * per);
      for (let i = 0; i < wave.length; i += 50) await post(wave.slice(i, i + 50));
      note(`wave ${w + 1}: ${wave.length} URLs posted`);
      if (w === 0) {
        sandbox.setFaults({ latencyMs: 300, forceHtmlAfterCreate: 3, forceUnknownKo: 2 });
        note(
          'slow answers: +300 ms on every call; 3 requests answered 502 after creation; 2 unknown KO answers',
        );
      }
      if (w === 1) {
        sandbox.setFaults({
          latencyMs: 0,
          forceFlood: 2,
          forceUserLocked: 1,
          forcePlainIpLock: 1,
          lsNewest: 3,
        });
        injected.forcedFloods += 4;
        note(
          'flood burst: 2 flood 403s, a User Locked #223 and a plain-text IP Locked; remote/ls.cgi lists only the newest 3',
        );
      }
      await sleep(1_500);
      if (w === 1) {
        sandbox.setFaults({ lsNewest: 1_000_000 });
        note('remote/ls.cgi lists every request again');
      }
      if (w === 2) {
        const ids = [...jobIds.values()];
        await rt.deps.queue.enqueue(ids);
        injected.duplicateMessages += ids.length;
        note(`SQS duplicates: ${ids.length} extra messages for jobs already queued, submitted or done`);
      }
    }

    const deadline = started + opts.deadlineMs;
    let restarts = 0;
    let lastRestartAt = 0;
    let lastLog = 0;
    for (;;) {
      jobs = await statuses();
      const terminal = terminalCount(jobs);
      if (Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        const by = countBy(jobs);
        note(`progress: ${JSON.stringify(by)}`);
      }
      if (
        restarts < 2 &&
        terminal >= opts.jobs * (restarts === 0 ? 0.3 : 0.6) &&
        Date.now() - lastRestartAt > 3_000
      ) {
        // First a clean stop (in-flight batches finish), then — with `kill` — a kill (in-flight work cut off
        // from the engines, like a crashed process). fauxqs loses its messages either way.
        const abrupt = restarts === 1 && opts.kill !== false;
        note(abrupt ? 'restart: killing the runtime mid-run' : 'restart: stopping the runtime mid-run');
        await (abrupt ? rt.kill() : rt.close());
        rt = await start();
        restarts++;
        lastRestartAt = Date.now();
        injected.restarts++;
        note(
          `restart: runtime up again, ${rt.stats().requeuedAtStart} queued jobs re-enqueued from DynamoDB`,
        );
        await rt.deps.queue.enqueue([...jobIds.values()].slice(0, 50));
        injected.duplicateMessages += Math.min(50, jobIds.size);
      }
      // Both restarts always happen, even when every job ended before the second (a fast run).
      if ((terminal >= opts.jobs && restarts >= 2) || Date.now() > deadline) break;
      await sleep(1_000);
    }
    note(Date.now() > deadline ? 'deadline reached' : 'every job is terminal');
  } finally {
    crashing.on = false;
    sandbox.resetFaults();
    jobs = rt ? await statuses().catch(() => jobs) : jobs;
    await rt?.close();
    for (const c of clients) await c.close();
  }

  const stats = sandbox.stats();
  await sandbox.close();
  await source.close();
  rmSync(dataDir, { recursive: true, force: true });

  const badUrls = new Set(urls.filter((u) => u.bad).map((u) => u.url));
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const notTerminal = jobs.filter((j) => j.status !== 'done' && j.status !== 'failed');
  const wrongFailures = jobs.filter((j) => j.status === 'failed' && !badUrls.has(j.url));
  const wrongDone = jobs.filter((j) => j.status === 'done' && badUrls.has(j.url));
  const lost = urls.filter((u) => {
    const id = jobIds.get(u.url);
    return id === undefined || !byId.has(id);
  });
  const twice = Object.entries(stats.submissions).filter(([, n]) => n > 1);
  const ourLocks = stats.floodLocks - injected.forcedFloods;
  const invariants: Invariant[] = [
    {
      name: 'every job ends terminal',
      ok: notTerminal.length === 0,
      detail:
        notTerminal.length === 0
          ? `${jobs.length} terminal`
          : `${notTerminal.length} not terminal: ${JSON.stringify(countBy(notTerminal))}`,
    },
    {
      name: 'failed only for the URLs designed to fail (404 sources), done for the others',
      ok: wrongFailures.length === 0 && wrongDone.length === 0,
      detail:
        wrongFailures.length + wrongDone.length === 0
          ? `${badUrls.size} designed failures, all failed with a reason`
          : `${wrongFailures.length} good URLs failed (${wrongFailures
              .slice(0, 3)
              .map((j) => `${j.error?.code}: ${j.error?.message}`)
              .join('; ')}), ${wrongDone.length} bad URLs done`,
    },
    {
      name: 'every failed job carries a reason',
      ok: jobs.every((j) => j.status !== 'failed' || Boolean(j.error?.code && j.error.message)),
      detail: 'error.code and error.message on every failed job',
    },
    {
      name: '0 URLs submitted twice to 1fichier',
      ok: twice.length === 0,
      detail:
        twice.length === 0
          ? `${Object.keys(stats.submissions).length} URLs submitted once`
          : `${twice.length} twice: ${twice
              .slice(0, 3)
              .map(([u, n]) => `${u} x${n}`)
              .join(', ')}`,
    },
    {
      name: '0 jobs lost',
      ok: lost.length === 0,
      detail:
        lost.length === 0 ? `${urls.length} URLs, ${jobs.length} jobs` : `${lost.length} URLs without a job`,
    },
    {
      name: '0 flood locks caused by us',
      ok: ourLocks <= 0,
      detail: `${stats.floodLocks} locks, ${injected.forcedFloods} injected (floods, User Locked, plain IP Locked)`,
    },
  ];
  return {
    invariants,
    ok: invariants.every((i) => i.ok),
    counts: countBy(jobs),
    injected,
    sandbox: {
      requests: stats.requests,
      floodLocks: stats.floodLocks,
      floodAnswers: stats.floodAnswers,
      faultsInjected: stats.faultsInjected,
    },
    elapsedMs: Date.now() - started,
    timeline,
  };
}

function countBy(jobs: readonly JobRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const j of jobs) out[j.status] = (out[j.status] ?? 0) + 1;
  return out;
}

/** The invariants as printable lines. */
export function formatInvariants(result: ChaosResult): string {
  return result.invariants.map((i) => `${i.ok ? 'PASS' : 'FAIL'}  ${i.name}: ${i.detail}`).join('\n');
}
