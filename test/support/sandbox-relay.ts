/**
 * A relay on the local engines (dynalite, fauxqs, the DynamoDB pacer) with the real undici client talking
 * to a 1fichier sandbox, driven by hand: worker passes over what the queue holds, poller cycles. Pauses are
 * set longer than the worker's 1 s pacer wait, so they go back to the queue as they do in production.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiApp } from '../../functions/api.js';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import { type SandboxHandle, type SandboxOptions, startSandbox } from '../../infra/sandbox/server.js';
import type { RelayConfig } from '../../shared/app/config.js';
import { createDeps } from '../../shared/app/deps.js';
import { MemoryMetrics } from '../../shared/app/metrics.js';
import { type Clock, systemClock } from '../../shared/fichier/memory-pacer.js';
import { enqueueJobs } from '../../shared/jobs/enqueue.js';
import type { JobRetryPolicy } from '../../shared/jobs/retry-policy.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { CaptureLogger } from '../unit/jobs/fakes.js';
import { startTestAws, type TestAws } from './engines.js';
import { receiveEvent } from './engines-pipeline.js';
import { type FileServer, startFileServer } from './runtime.js';
import { shownJobs } from './shown.js';

/** The engines a sandbox relay runs on: dynalite and fauxqs, a 1fichier sandbox, a loopback file server. */
export interface SandboxRelayWorld {
  aws: TestAws;
  sandbox: SandboxHandle;
  files: FileServer;
  close(): Promise<void>;
}

/** Starts a {@link SandboxRelayWorld}; the sandbox on port 0 with `sandboxOptions`. */
export async function startSandboxRelayWorld(
  sandboxOptions: SandboxOptions = {},
): Promise<SandboxRelayWorld> {
  const aws = await startTestAws();
  const sandbox = await startSandbox({ port: 0, ...sandboxOptions });
  const files = await startFileServer();
  return {
    aws,
    sandbox,
    files,
    close: async () => {
      await files.close();
      await sandbox.close();
      await aws.close();
    },
  };
}

/** A relay clock shifted like the sandbox's dates (`dateShiftMs`), sleeping for real. */
export const shiftedClock = (shiftMs: number): Clock => ({
  now: () => Date.now() + shiftMs,
  sleep: systemClock.sleep,
});

export interface SandboxRelayOptions {
  clock?: Clock;
  retry?: Partial<JobRetryPolicy>;
  config?: Partial<RelayConfig>;
  /** The 1fichier key the relay uses. @default the sandbox's premium key */
  fichierApiKey?: string;
  /** Put before every job file name (keeps the URLs of two tests apart). */
  namePrefix?: string;
}

/** The client token {@link sandboxRelay} stores for user `alice`. */
export const RELAY_TEST_TOKEN = 'fr_sandbox-relay-test-token';

export type SandboxRelay = Awaited<ReturnType<typeof sandboxRelay>>;

/** Builds a relay on a fresh table and queue; job URLs are `filesOrigin/<name>`. */
export async function sandboxRelay(
  ctx: { aws: TestAws; sandbox: SandboxHandle; filesOrigin: string } & SandboxRelayOptions,
) {
  const { aws, sandbox } = ctx;
  const base = await aws.fresh();
  const config: RelayConfig = {
    ...base,
    fichierApiUrl: sandbox.baseUrl,
    fichierApiKey: ctx.fichierApiKey ?? sandbox.keys.premium,
    batchMaxUrls: 5,
    submittingLeaseS: 2,
    pollIntervalS: 1,
    ...ctx.config,
    pacing: {
      ...base.pacing,
      minIntervalMs: 20,
      floodPauseMs: 1500,
      ipLockPauseMs: 3000,
      transientBaseMs: 20,
    },
    retry: { ...base.retry, unknownBackoffMs: 1200, ...ctx.retry },
  };
  const logger = new CaptureLogger();
  const deps = createDeps(config, {
    logger,
    metrics: new MemoryMetrics(),
    ...(ctx.clock ? { clock: ctx.clock } : {}),
  });
  // Admin: the circuit tests reset the circuit with it.
  await registerToken(deps.tokens, { token: RELAY_TEST_TOKEN, userId: 'alice', scope: 'admin' }, Date.now());
  const worker = createWorkerHandler(deps);
  const poller = createPollerHandler(deps);
  const enqueue = async (names: string[]) =>
    (
      await enqueueJobs(
        {
          userId: 'alice',
          source: 'api',
          requests: names.map((n) => ({ url: `${ctx.filesOrigin}/${ctx.namePrefix ?? ''}${n}`, folder: '' })),
        },
        deps,
      )
    ).map((j) => j.id);
  /** One worker pass over what the queue holds now. */
  const work = async () => {
    const event = await receiveEvent(aws.sqs, config.queueUrl, 10, 0);
    if (event.Records.length) await worker(event);
    return event.Records.length;
  };
  /** The jobs in the order of `ids`. */
  const jobs = async (ids: readonly string[]): Promise<JobRecord[]> => {
    const byId = new Map((await shownJobs(deps, ids)).map((j) => [j.id, j]));
    return ids.map((id) => byId.get(id) as JobRecord);
  };
  /** Worker and poller passes until every job has ended (or the time is up). */
  const drive = async (ids: string[], timeoutMs = 20_000): Promise<JobRecord[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await work();
      await poller();
      const now = await jobs(ids);
      if (now.every((j) => j.status === 'done' || j.status === 'failed') || Date.now() > deadline) return now;
      await sleep(150);
    }
  };
  return { config, deps, logger, worker, poller, app: createApiApp(deps), enqueue, work, jobs, drive };
}
