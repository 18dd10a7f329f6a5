/**
 * What the use-cases may need (`Deps`; each takes a `Pick` of it), and `createDeps`, which builds all of
 * it for a process that runs every handler over one set of clients: the local runtime, tests, operator
 * scripts. The Lambda functions have their own composition roots, each building only what that function
 * uses: `api-deps.ts`, `worker-deps.ts`, `poller-deps.ts` (test/infra/bundles.test.ts checks that the API
 * bundles no 1fichier client or pacer, and the worker and poller no Hono).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { JobQueue } from '../aws/queue.js';
import type { FeedStore } from '../feeds/store.js';
import type { Clock } from '../fichier/clock.js';
import type { Pacer } from '../fichier/pacer.js';
import type { FichierApi, KeyProvider } from '../fichier/types.js';
import type { PollTimer } from '../jobs/poll-plan.js';
import type { RemoteStore } from '../jobs/remote-store.js';
import type { JobStore } from '../jobs/store.js';
import type { NotifyServices } from '../notify/deliver.js';
import { guardedSender } from '../notify/send.js';
import type { ReportStore } from '../reports/store.js';
import type { TokenStore } from '../tokens/store.js';
import { createCommonDeps, lazyDocClient } from './common-deps.js';
import type { RelayConfig } from './config.js';
import { createFichierDeps } from './fichier-deps.js';
import { createKeyDeps } from './key-deps.js';
import type { RelayMetrics } from './metrics.js';
import { createNotifyServices } from './notify-deps.js';

/** Fault-injection seams (crash tests). */
export interface Hooks {
  /**
   * Called after 1fichier answered OK to remote/request.cgi and before its request item is written.
   * A throw here behaves like a crash at the worst moment: the jobs stay `submitting` and must be reconciled.
   */
  afterRemoteAccepted?(jobIds: string[]): void | Promise<void>;
}

/** The structured logger the use-cases write to (Powertools Logger's shape). */
export type RelayLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Everything a use-case may need. */
export interface Deps {
  config: RelayConfig;
  /** The jobs aggregate. */
  store: JobStore;
  /** The followed 1fichier remote requests (a job's `submitted` phase). */
  remotes: RemoteStore;
  /** The poller's reports, relay-wide and per user. */
  reports: ReportStore;
  /** Client tokens: lookup by hash, listing, revocation, usage counters, signed-request replays. */
  tokens: TokenStore;
  /** Feeds, their item keys and decisions (its own aggregate). */
  feeds: FeedStore;
  queue: JobQueue;
  /** Runs the poller soon (after a submission) or when the last cycle planned it. */
  pollTimer: PollTimer;
  fichier: FichierApi;
  pacer: Pacer;
  keyProvider: KeyProvider;
  clock: Clock;
  logger: RelayLogger;
  metrics: RelayMetrics;
  hooks: Hooks;
  /** Notification targets, deliveries, signing secrets, REST hooks (shared/notify). */
  notify: NotifyServices;
}

/**
 * Builds every dependency once, for one process running all the handlers (the Lambdas use their own
 * roots). Only what is not overridden is built; the 1fichier client is built last so it uses the
 * (possibly overridden) key provider, pacer and clock.
 * @example
 * const deps = createDeps(loadConfig(), { clock: fakeClock, fichier: fakeApi });
 */
export function createDeps(config: RelayConfig, overrides: Partial<Deps> = {}): Deps {
  const docClient = lazyDocClient();
  const common = { ...createCommonDeps(config, overrides, docClient), ...createKeyDeps(config, overrides) };
  return {
    ...common,
    ...createFichierDeps(common, overrides, docClient),
    hooks: overrides.hooks ?? {},
    notify:
      overrides.notify ??
      createNotifyServices(config, docClient(), common.clock, {
        send: guardedSender({ allowPrivate: config.allowPrivateUrls }),
      }),
  };
}
