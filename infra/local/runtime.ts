/**
 * The local runtime: the relay's Lambda handlers in one Node process on embedded engines.
 *
 * dynalite (persisted under `<dataDir>/dynamo`) stands in for DynamoDB, fauxqs for SQS, the 1fichier sandbox
 * for 1fichier when no key is given; the API app is served over HTTP, an SQS loop feeds the worker handler
 * real `SQSEvent`s, and a schedule runs the poller. Used by `npm start` (main.ts), the end-to-end tests,
 * the benchmarks and the chaos runs.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAdaptorServer } from '@hono/node-server';
import { createApiApp } from '../../functions/api.js';
import { createFeedsHandler } from '../../functions/feeds.js';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import { loadConfig, type RelayConfig } from '../../shared/app/config.js';
import { createDeps, type Deps, type Hooks, type RelayLogger } from '../../shared/app/deps.js';
import { createNotifyServices } from '../../shared/app/notify-deps.js';
import { DynamoFeedStore } from '../../shared/aws/dynamo-feed-store.js';
import { DynamoJobStore } from '../../shared/aws/dynamo-job-store.js';
import { DynamoPacer } from '../../shared/aws/dynamo-pacer.js';
import { DynamoRemoteStore } from '../../shared/aws/dynamo-remote-store.js';
import { DynamoReportStore } from '../../shared/aws/dynamo-report-store.js';
import { DynamoTokenStore } from '../../shared/aws/dynamo-token-store.js';
import { ensureQueue, SqsJobQueue } from '../../shared/aws/queue.js';
import { ensureTable } from '../../shared/aws/table.js';
import { ENV } from '../../shared/config/env-names.js';
import type { RunDueSummary } from '../../shared/feeds/run-feeds.js';
import { systemClock } from '../../shared/fichier/clock.js';
import { SlotBank } from '../../shared/fichier/slot-bank.js';
import { generateToken } from '../../shared/jobs/ids.js';
import {
  coalesceSoonPolls,
  POLL_SAFETY_NET_S,
  type PollTimer,
  pollPlanPolicy,
} from '../../shared/jobs/poll-plan.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import type { NotifyServices } from '../../shared/notify/deliver.js';
import { guardedSender } from '../../shared/notify/send.js';
import type { Report } from '../../shared/reports/store.js';
import { registerToken } from '../../shared/tokens/manage.js';
import {
  type SandboxHandle,
  type SandboxOptions,
  type SandboxStats,
  sandboxOptionsFromEnv,
  startSandbox,
} from '../sandbox/server.js';
import { DEFAULT_HOST, isLoopbackHost, parseBindHost, resolveBindHost, urlHostFor } from './bind.js';
import { type Engines, startEngines } from './engines.js';
import { type JobChange, observeJobStore, observeRemoteStore } from './job-events.js';
import { readLocalKey } from './keystore.js';
import { type LocalDeliveries, prepareLocalNotify, startLocalDeliveries } from './notify.js';
import { ensurePrivateDir, tightenModes } from './private-state.js';
import { removeRuntimeInfo, writeRuntimeInfo } from './runtime-info.js';
import { sampleUrl, serveSample } from './sample.js';
import { type Schedule, startSchedule } from './schedule.js';
import { type SqsLoop, type SqsLoopStats, startSqsLoop } from './sqs-loop.js';

/** The one user of the local runtime: every local token maps to it. */
export const LOCAL_USER_ID = 'local';
/** Table and queue names inside the embedded engines. */
export const LOCAL_TABLE_NAME = 'fichier-relay';
export const LOCAL_QUEUE_NAME = 'fichier-relay-jobs';
/** Same redrive limit as the CDK stack's default (infra/cdk/config.ts). */
const LOCAL_MAX_RECEIVE_COUNT = 10;
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Options of {@link startRuntime}; every field is optional. `runtimeOptionsFromEnv` reads them from env. */
export interface RuntimeOptions {
  /** API port; 0 picks a free one. @default 3000 */
  port?: number;
  /**
   * API bind address (`HOST`). Beyond loopback the sandbox the runtime starts refuses private and
   * loopback sources except the sample file; the sandbox itself always stays on 127.0.0.1. @default '127.0.0.1'
   */
  host?: string;
  /** Local state: dynalite files and the generated token. @default './.relay' */
  dataDir?: string;
  /** Client token to create at start. @default the one generated at the first start (kept in `<dataDir>/token`) */
  token?: string;
  /** The real 1fichier key; unset means the sandbox. */
  fichierApiKey?: string;
  /** 1fichier API base URL. @default the sandbox's URL when sandboxed, else https://api.1fichier.com/v1 */
  fichierApiUrl?: string;
  /**
   * A running sandbox to use (tests keep one across runtime restarts). Without it and without a key, the
   * runtime starts its own with `sandboxOptions` and closes it on `close()`.
   */
  sandbox?: SandboxHandle;
  /**
   * Options of the sandbox the runtime starts. @default { port: 3001, dataDir: '<dataDir>/sandbox', persist: true }
   * (given fields win; `persist: false` without a `dataDir` means a temporary directory removed on close)
   */
  sandboxOptions?: SandboxOptions;
  /** Poller schedule. @default 30000 */
  pollIntervalMs?: number;
  /** First poll after start (reconciles what a previous run left). @default min(pollIntervalMs, 1000) */
  firstPollDelayMs?: number;
  /**
   * Bring the next poll to this delay after a job is `submitted`, so a sandboxed first job finishes in
   * seconds rather than one poll interval. Costs one remote/ls.cgi per burst of submissions.
   * @default 1500 when sandboxed, else the poll plan's first delay (3 s)
   */
  pollSoonAfterSubmitMs?: number;
  /**
   * Feeds reader schedule: the due check runs this often (`FEEDS_INTERVAL_S`); each feed keeps its own
   * interval (at least 5 minutes). @default 60000
   */
  feedsIntervalMs?: number;
  /** First due check after start. @default min(feedsIntervalMs, 2000) */
  firstFeedsDelayMs?: number;
  /** `FICHIER_MIN_INTERVAL_MS`. @default 1000 */
  minIntervalMs?: number;
  /** `FICHIER_FLOOD_PAUSE_MS`. @default 60000 */
  floodPauseMs?: number;
  /** `FICHIER_BATCH_MAX_URLS`. @default 10 */
  batchMaxUrls?: number;
  /** Other relay variables for `loadConfig` (e.g. `RELAY_STUCK_AFTER_S`); typed options above win. */
  env?: NodeJS.ProcessEnv;
  /** Config fields without a variable (lease, requeue delay...), applied after `loadConfig`. */
  config?: Partial<RelayConfig>;
  /** Fault-injection seams passed to `createDeps` (crash tests). */
  hooks?: Hooks;
  /** Parallel SQS receive→worker lanes. @default 1 (one pacer serialises the calls anyway) */
  workerConcurrency?: number;
  /** Long-poll wait of each receive, seconds. @default 20 */
  receiveWaitSeconds?: number;
  /** Structured logger of the handlers. @default Powertools Logger at `POWERTOOLS_LOG_LEVEL` or WARN */
  logger?: RelayLogger;
  /** Hears every job creation and transition (the console printer, tests). */
  onJobChange?: (change: JobChange) => void;
  /** Hears every poller report. */
  onReport?: (report: Report) => void;
  /**
   * Hears each invocation of the worker (one SQS batch) and of the poller (one cycle) as it starts; the
   * function it returns hears its end. Lambda bills each function from its handler's start to its end,
   * so this is what the bench's cost model times.
   */
  onInvocation?: (fn: 'worker' | 'poller') => () => void;
  /** Replaces parts of the notification services (tests: a sender with a test resolver). */
  notify?: Partial<NotifyServices>;
  /** Fault injection: ended jobs are not handed to the delivery path, as if the process died right after. */
  dropJobEvents?: boolean;
}

/** Counters of a running runtime. */
export interface RuntimeStats {
  worker: SqsLoopStats;
  polls: number;
  /** Poll triggers sent through the poll plan's timer (each a delayed SQS message in AWS). */
  pollTimerMessages: number;
  /** Completed runs of the feeds reader. */
  feedRuns: number;
  /** Jobs re-enqueued at start because fauxqs had lost their messages. */
  requeuedAtStart: number;
  /** The deliveries loop, and the ended jobs whose events were sent again at start. */
  deliveries: SqsLoopStats & { recoveredAtStart: number };
  sandbox?: SandboxStats;
}

/** A running local runtime. */
export interface RuntimeHandle {
  /** `http://127.0.0.1:<port>` (or the bind address when it is a specific one) */
  baseUrl: string;
  port: number;
  /** The bind address. */
  host: string;
  /** True when the API listens beyond loopback (then `npm start` prints a warning). */
  exposed: boolean;
  /** The client token created (or confirmed) at start. */
  token: string;
  /** Whether `token` was generated by this runtime rather than given. */
  tokenGenerated: boolean;
  dataDir: string;
  /** The sandbox in use, when sandboxed (started here or given). */
  sandbox?: SandboxHandle;
  /** The 1fichier API URL in use. */
  fichierApiUrl: string;
  pollIntervalMs: number;
  deps: Deps;
  stats(): RuntimeStats;
  /** Runs the poller now (after any run in progress) and returns its report. */
  pollNow(): Promise<Report>;
  /** Runs the feeds reader now (after any run in progress) and returns what it did. */
  feedsNow(): Promise<RunDueSummary>;
  /** Stops the loops (letting in-flight batches and polls finish), the servers, the sandbox if started here, and the engines. */
  close(): Promise<void>;
  /**
   * Stops everything at once without waiting for in-flight work, like a killed process (crash and chaos
   * tests): a worker batch or poll in progress is cut off from the engines and its writes fail.
   */
  kill(): Promise<void>;
}

/** Maps the documented environment (docs/local.md) to runtime options. */
export function runtimeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeOptions {
  const str = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const int = (name: string, min: number): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min) {
      throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return Number(v);
  };
  const pollS = int(ENV.pollIntervalS, 1);
  const feedsS = int(ENV.feedsIntervalS, 1);
  return {
    port: int(ENV.port, 0),
    host: parseBindHost(env[ENV.host], ENV.host),
    dataDir: str(ENV.relayDataDir),
    token: str(ENV.relayToken),
    // `relay key set` stores the key in the data dir's keystore; the variable wins.
    fichierApiKey: str(ENV.fichierApiKey) ?? readLocalKey(resolvePath(str(ENV.relayDataDir) ?? './.relay')),
    fichierApiUrl: str(ENV.fichierApiUrl),
    pollIntervalMs: pollS === undefined ? undefined : pollS * 1000,
    feedsIntervalMs: feedsS === undefined ? undefined : feedsS * 1000,
    // FICHIER_* and RELAY_STUCK_AFTER_S are validated by loadConfig, naming the variable.
    env,
    // SANDBOX_PORT, SANDBOX_KEYS, SANDBOX_RATE... as for `npm run sandbox`.
    sandboxOptions: sandboxOptionsFromEnv(env),
  };
}

/** Starts everything; on a failure part-way, stops what was started and rethrows. */
export async function startRuntime(opts: RuntimeOptions = {}): Promise<RuntimeHandle> {
  const cleanups: Cleanup[] = [];
  const cleanup = async (kill = false) => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn(kill);
      } catch {
        // Keep closing the rest; the first failure is what the caller sees.
      }
    }
  };
  try {
    return await start(opts, cleanups, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** One stop step; `kill` means "do not wait for in-flight work". */
type Cleanup = (kill: boolean) => Promise<void> | void;

async function start(
  opts: RuntimeOptions,
  cleanups: Cleanup[],
  cleanup: (kill?: boolean) => Promise<void>,
): Promise<RuntimeHandle> {
  const dataDir = resolvePath(opts.dataDir ?? './.relay');
  // Private state: the token, job URLs (often signed), the sandbox's keys and files.
  ensurePrivateDir(dataDir);
  tightenModes(dataDir);
  cleanups.push(() => tightenModes(dataDir));
  // A name (HOST=localhost, or a host name some environments export) is resolved once, here.
  const host = await resolveBindHost(parseBindHost(opts.host ?? DEFAULT_HOST));
  const exposed = !isLoopbackHost(host);
  // Known once the API listens; the sandbox's guard reads it at fetch time.
  let ownSampleUrl: string | undefined;
  const pollIntervalMs = opts.pollIntervalMs ?? 30_000;

  // Engines. DynamoDB persists (the table is the source of truth); fauxqs 1.x does not (rebuilt below).
  const engines: Engines = await startEngines({ dynamoPath: resolvePath(dataDir, 'dynamo') });
  cleanups.push(() => engines.close());
  // Explicit endpoints rather than AWS_ENDPOINT_URL_* in process.env: several runtimes (tests, restarts)
  // can live in one process. fauxqs queue URLs name an unresolvable host, hence useQueueUrlAsEndpoint.
  const ddb = new DynamoDBClient({
    endpoint: engines.dynamoEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
  });
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = new SQSClient({
    endpoint: engines.sqsEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
    useQueueUrlAsEndpoint: false,
  });
  cleanups.push(() => {
    ddb.destroy();
    sqs.destroy();
  });
  await ensureTable(ddb, LOCAL_TABLE_NAME);
  const dlqUrl = await ensureQueue(sqs, `${LOCAL_QUEUE_NAME}-dlq`);
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const queueUrl = await ensureQueue(sqs, LOCAL_QUEUE_NAME, {
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: LOCAL_MAX_RECEIVE_COUNT }),
  });

  // 1fichier: the real API with a key, else a sandbox (given, or started here).
  let sandbox = opts.sandbox;
  if (!sandbox && !opts.fichierApiKey) {
    // Persisted next to the jobs, so a restart keeps the sandbox's key, requests and links: jobs left
    // `submitted` are found again and their file URLs keep working (infra/sandbox/persist.ts).
    const sandboxOptions: SandboxOptions = { port: 3001, ...opts.sandboxOptions };
    const persist = sandboxOptions.persist ?? true;
    sandbox = await startSandbox({
      ...sandboxOptions,
      // Reachable from the network (HOST, or SANDBOX_REFUSE_PRIVATE=1 behind a tunnel), the API must not
      // let a caller use the sandbox to fetch from it; its own sample file stays fetchable.
      ...(exposed || sandboxOptions.privateTargets
        ? { privateTargets: { exceptions: () => (ownSampleUrl ? [ownSampleUrl] : []) } }
        : {}),
      persist,
      ...(persist ? { dataDir: sandboxOptions.dataDir ?? resolvePath(dataDir, 'sandbox') } : {}),
    });
    const started = sandbox;
    cleanups.push(() => started.close());
  }
  const fichierApiUrl = opts.fichierApiUrl ?? sandbox?.baseUrl;
  const fichierApiKey = opts.fichierApiKey ?? sandbox?.keys.premium;

  const configEnv: NodeJS.ProcessEnv = {
    ...pick(opts.env ?? {}, [
      ENV.minIntervalMs,
      ENV.floodPauseMs,
      ENV.batchMaxUrls,
      ENV.stuckAfterS,
      ENV.ipLockPauseMs,
      ENV.unknownBackoffMs,
      ENV.unknownGiveUpS,
      ENV.circuitProbeS,
      ENV.allowPrivateUrls,
      ENV.tokenRatePerMin,
      ENV.feedsMaxBytes,
      ENV.feedsSeenDays,
      ENV.notifyRetryBaseMs,
      ENV.notifyMaxPerHour,
      ENV.notifyIftttUrl,
      ENV.notifyTelegramUrl,
    ]),
    ...(await prepareLocalNotify(sqs, dataDir)),
    // Reconciliation's two readings must be a real poll cycle apart.
    [ENV.pollIntervalS]: String(Math.max(1, Math.ceil(pollIntervalMs / 1000))),
    [ENV.tableName]: LOCAL_TABLE_NAME,
    [ENV.queueUrl]: queueUrl,
    ...(fichierApiUrl ? { [ENV.fichierApiUrl]: fichierApiUrl } : {}),
    ...(fichierApiKey ? { [ENV.fichierApiKey]: fichierApiKey } : {}),
    ...(opts.minIntervalMs !== undefined ? { [ENV.minIntervalMs]: String(opts.minIntervalMs) } : {}),
    ...(opts.floodPauseMs !== undefined ? { [ENV.floodPauseMs]: String(opts.floodPauseMs) } : {}),
    ...(opts.batchMaxUrls !== undefined ? { [ENV.batchMaxUrls]: String(opts.batchMaxUrls) } : {}),
  };
  const config: RelayConfig = { ...loadConfig(configEnv), ...opts.config };

  const logger =
    opts.logger ??
    new Logger({
      serviceName: 'fichier-relay',
      logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN',
    });
  let schedule: Schedule<Report> | undefined;
  const pollSoonMs = opts.pollSoonAfterSubmitMs ?? (sandbox ? 1500 : undefined);
  let deliveries: LocalDeliveries | undefined;
  /** URLs of unfinished jobs, so a `submitted` change (heard from the remotes store) can name its URL. */
  const urls = new Map<string, string>();
  const onJobChange = (change: JobChange, job?: JobRecord) => {
    if (change.status === 'done' || change.status === 'failed') urls.delete(change.id);
    else if (change.url) urls.set(change.id, change.url);
    deliveries?.onJobChange(change, job);
    opts.onJobChange?.(change);
  };
  const tableStore = new DynamoJobStore(doc, config.tableName, { jobTtlDays: config.jobTtlDays });
  const store = observeJobStore(tableStore, onJobChange);
  const remotes = observeRemoteStore(
    new DynamoRemoteStore(doc, config.tableName),
    (id) => urls.get(id) ?? '',
    onJobChange,
  );
  // The poll plan (shared/jobs/poll-plan.ts) on the local timer: soon after a submission, then what each
  // cycle planned; the schedule's own period is only the safety net. A nudge costs nothing here, so every
  // ask is a nudge; `pollTimerMessages` counts what AWS's coalesced SQS timer would have sent.
  let pollTimerMessages = 0;
  const awsTimerModel = coalesceSoonPolls(
    {
      pollIn: async () => {
        pollTimerMessages += 1;
      },
    },
    systemClock,
    pollPlanPolicy(config.pollIntervalS).firstDelayMs / 2,
  );
  const pollTimer: PollTimer = {
    pollIn: async (delayMs, trigger) => {
      await awsTimerModel.pollIn(delayMs, trigger);
      schedule?.nudge(trigger.kind === 'soon' && pollSoonMs !== undefined ? pollSoonMs : delayMs);
    },
  };
  const deps = createDeps(config, {
    store,
    remotes,
    pollTimer,
    reports: new DynamoReportStore(doc, config.tableName, { ttlDays: config.jobTtlDays }),
    tokens: new DynamoTokenStore(doc, config.tableName),
    feeds: new DynamoFeedStore(doc, config.tableName, { seenDays: config.feedsSeenDays }),
    queue: new SqsJobQueue(sqs, config.queueUrl),
    pacer: new SlotBank(new DynamoPacer(doc, config.tableName, { policy: config.pacing }), systemClock),
    logger,
    hooks: opts.hooks ?? {},
    notify: createNotifyServices(config, doc, systemClock, {
      sqs,
      send: guardedSender({ allowPrivate: config.allowPrivateUrls }),
      ...opts.notify,
    }),
  });

  // The client token, stored only as its hash. A generated one is kept in the data dir so it stays valid
  // and the same across restarts.
  const { token, generated: tokenGenerated } = localToken(dataDir, opts.token);
  // The first token is admin: it can make tokens for other users (docs/pipeline.md, "Tokens").
  await registerToken(
    deps.tokens,
    { token, userId: LOCAL_USER_ID, scope: 'admin', name: 'local' },
    Date.now(),
  );

  // fauxqs lost every message of the previous run: send the jobs still `queued` again. Jobs left in
  // `submitting` are reconciled by the poller once their lease ends (never blindly resubmitted).
  const requeuedAtStart = await requeueUnfinishedJobs(tableStore, deps);

  // Deliveries: the same handler as the Lambda, on its own fauxqs queue; ended jobs a crash left first.
  const localDeliveries = await startLocalDeliveries({
    sqs,
    doc,
    deps,
    region: REGION,
    receiveWaitSeconds: opts.receiveWaitSeconds ?? 20,
    ...(opts.dropJobEvents ? { dropJobEvents: true } : {}),
  });
  deliveries = localDeliveries;
  cleanups.push((kill) => localDeliveries.stop(kill));

  // HTTP: the API app plus the sample file, on HOST (loopback unless told otherwise).
  const app = createApiApp(deps);
  const server = createAdaptorServer({
    fetch: (req: Request) => serveSample(req) ?? app.fetch(req),
  }) as Server;
  const port = await listen(server, opts.port ?? 3000, host);
  cleanups.push((kill) => closeServer(server, kill));
  const baseUrl = `http://${urlHostFor(host)}:${port}`;
  ownSampleUrl = sampleUrl(baseUrl);

  // Worker: SQS → handler, like Lambda's event source mapping with ReportBatchItemFailures.
  const worker = timed('worker', createWorkerHandler(deps), opts.onInvocation);
  const loop: SqsLoop = await startSqsLoop({
    client: sqs,
    queueUrl: config.queueUrl,
    handler: worker,
    batchSize: 10,
    waitTimeSeconds: opts.receiveWaitSeconds ?? 20,
    concurrency: opts.workerConcurrency ?? 1,
    region: REGION,
    // As Lambda's timeout does: a batch stops sending at half its claim's lease, so it can never outlive
    // the claim while the poller hands its jobs to another worker.
    deadlineMs: (config.submittingLeaseS * 1000) / 2,
    logger: { warn: (m, e) => logger.warn(m, e ?? {}), error: (m, e) => logger.error(m, e ?? {}) },
  });
  cleanups.push((kill) => {
    const stopped = loop.stop();
    return kill ? undefined : stopped;
  });

  // Poller: on a schedule, never overlapping itself.
  const poller = createPollerHandler(deps);
  const pollCycle = timed('poller', () => poller(), opts.onInvocation);
  schedule = startSchedule<Report>({
    name: 'poller',
    task: pollCycle,
    intervalMs: Math.max(pollIntervalMs, POLL_SAFETY_NET_S * 1000),
    firstDelayMs: opts.firstPollDelayMs ?? Math.min(pollIntervalMs, 1000),
    logger: { error: (m, e) => logger.error(m, e ?? {}) },
    ...(opts.onReport ? { onResult: opts.onReport } : {}),
  });
  const sched = schedule;
  cleanups.push((kill) => {
    const stopped = sched.stop();
    return kill ? undefined : stopped;
  });

  // Feeds reader: the same handler as the Lambda on its EventBridge minute, here every FEEDS_INTERVAL_S.
  const feedsIntervalMs = opts.feedsIntervalMs ?? 60_000;
  const feedsReader = createFeedsHandler(deps);
  const feedsSchedule = startSchedule<RunDueSummary>({
    name: 'feeds',
    task: () => feedsReader(),
    intervalMs: feedsIntervalMs,
    firstDelayMs: opts.firstFeedsDelayMs ?? Math.min(feedsIntervalMs, 2000),
    logger: { error: (m, e) => logger.error(m, e ?? {}) },
  });
  cleanups.push((kill) => {
    const stopped = feedsSchedule.stop();
    return kill ? undefined : stopped;
  });
  // For the `relay` CLI: where this runtime answers, with a token (0600), removed on close.
  writeRuntimeInfo(dataDir, {
    url: baseUrl,
    token,
    user: LOCAL_USER_ID,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    fichierApiUrl: config.fichierApiUrl,
    sandboxed: sandbox !== undefined,
  });
  cleanups.push(() => removeRuntimeInfo(dataDir));

  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    port,
    host,
    exposed,
    token,
    tokenGenerated,
    dataDir,
    ...(sandbox ? { sandbox } : {}),
    fichierApiUrl: config.fichierApiUrl,
    pollIntervalMs,
    deps,
    stats: () => ({
      worker: loop.stats(),
      polls: sched.runs(),
      pollTimerMessages,
      feedRuns: feedsSchedule.runs(),
      requeuedAtStart,
      deliveries: { ...localDeliveries.stats(), recoveredAtStart: localDeliveries.recoveredAtStart },
      ...(sandbox ? { sandbox: sandbox.stats() } : {}),
    }),
    pollNow: () => sched.runNow(),
    feedsNow: () => feedsSchedule.runNow(),
    close() {
      // Order (reverse of start): poller and worker finish their current run, then the HTTP server,
      // the sandbox if started here, the SDK clients and the engines.
      closing ??= cleanup();
      return closing;
    },
    kill() {
      closing ??= cleanup(true);
      return closing;
    },
  };
}

/** `handler`, telling `onInvocation` when each call starts and ends (the handler itself when not given). */
function timed<A extends unknown[], R>(
  fn: 'worker' | 'poller',
  handler: (...args: A) => Promise<R>,
  onInvocation: RuntimeOptions['onInvocation'],
): (...args: A) => Promise<R> {
  if (!onInvocation) return handler;
  return async (...args) => {
    const ended = onInvocation(fn);
    try {
      return await handler(...args);
    } finally {
      ended();
    }
  };
}

function pick(env: NodeJS.ProcessEnv, names: string[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const n of names) if (env[n] !== undefined) out[n] = env[n];
  return out;
}

function localToken(dataDir: string, given: string | undefined): { token: string; generated: boolean } {
  if (given) return { token: given, generated: false };
  const file = resolvePath(dataDir, 'token');
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (saved) return { token: saved, generated: true };
  }
  const token = generateToken();
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, generated: true };
}

/**
 * fauxqs keeps no messages across restarts: every unfinished job gets one again (a `submitting` one is
 * reconciled by the worker once its lease has ended, never sent blindly).
 */
async function requeueUnfinishedJobs(store: DynamoJobStore, deps: Deps): Promise<number> {
  const jobs = await store.scanUnfinished();
  if (jobs.length > 0) await deps.queue.enqueue(jobs.map((j) => j.id));
  return jobs.length;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} on ${host} is in use; set PORT to another port`, { cause: err })
          : err.code === 'EADDRNOTAVAIL'
            ? new Error(`HOST=${host} is not an address of this machine; set HOST to one of its addresses`, {
                cause: err,
              })
            : err,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server, now = false): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    if (now) server.closeAllConnections();
    // Keep-alive connections would hold close() open; idle ones can go now, busy ones after a grace.
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 2_000).unref();
  });
}
