/**
 * Found by `npm run chaos` (1,000 jobs, seed 42: 40-50 URLs submitted twice): a worker that crashes after
 * 1fichier accepted its request leaves the jobs `submitting`; reconciliation used to read only the 20
 * newest remote requests made since the attempt, so when more followed it the accepted request was not
 * found and the jobs were submitted again. Fixed in shared/jobs/reconcile.ts (oldest first, a budget,
 * undecided jobs wait, progress kept across tries); these tests hold it, with the real client against
 * the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SourceServer, startSourceServer } from '../../bench/lib/source-server.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import { DEFAULT_PACING } from '../../shared/fichier/backoff.js';
import { createFichierClient, type FichierClient } from '../../shared/fichier/client.js';
import { staticKeyProvider } from '../../shared/fichier/key-providers.js';
import { MemoryPacer } from '../../shared/fichier/memory-pacer.js';
import {
  findRemoteRequests,
  newRemoteView,
  RECONCILE_MAX_INFO_CALLS,
  reconcileRemote,
} from '../../shared/jobs/reconcile.js';
import type { JobRecord } from '../../shared/jobs/store.js';

let sandbox: SandboxHandle;
let source: SourceServer;
let client: FichierClient;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, rate: 1000 });
  source = await startSourceServer();
  const policy = { ...DEFAULT_PACING, minIntervalMs: 0 };
  client = createFichierClient({
    baseUrl: sandbox.baseUrl,
    keyProvider: staticKeyProvider(sandbox.keys.premium),
    pacer: new MemoryPacer({ policy }),
    policy,
  });
});

afterAll(async () => {
  await client?.close();
  await source?.close();
  await sandbox?.close();
});

function submittingJob(url: string, submitAttemptAt: number): JobRecord {
  const at = new Date(submitAttemptAt).toISOString();
  return {
    id: 'job-crashed',
    userId: 'local',
    url,
    status: 'submitting',
    folder: '',
    source: 'api',
    createdAt: at,
    updatedAt: at,
    attempts: 1,
    claimToken: 'claim',
    leaseUntil: submitAttemptAt + 3_000,
    submitAttemptAt,
  };
}

describe('reconciliation after a crash between 1fichier OK and our write', () => {
  it('finds the accepted request when fewer than 20 requests followed it', async () => {
    const attemptAt = Date.now() - 1_000;
    const url = source.fileUrl('few-after');
    const { id } = await client.remoteRequest({ urls: [url] });
    for (let i = 0; i < 5; i++) await client.remoteRequest({ urls: [source.fileUrl(`few-${i}`)] });

    const found = await findRemoteRequests([submittingJob(url, attemptAt)], client, newRemoteView());

    expect(found.get('job-crashed')).toBe(id);
  });

  it('finds the accepted request when more requests than the info budget followed it', async () => {
    const attemptAt = Date.now() - 1_000;
    const url = source.fileUrl('many-after');
    const { id } = await client.remoteRequest({ urls: [url] });
    for (let i = 0; i < RECONCILE_MAX_INFO_CALLS + 5; i++) {
      await client.remoteRequest({ urls: [source.fileUrl(`many-${i}`)] });
    }

    const found = await findRemoteRequests([submittingJob(url, attemptAt)], client, newRemoteView());

    expect(found.get('job-crashed')).toBe(id);
  });

  it('leaves the job undecided, not absent, when the budget runs out before its request', async () => {
    // Requests made just before the attempt are inside the clock-skew window and are read first.
    for (let i = 0; i < RECONCILE_MAX_INFO_CALLS + 2; i++) {
      await client.remoteRequest({ urls: [source.fileUrl(`before-${i}`)] });
    }
    const attemptAt = Date.now();
    const url = source.fileUrl('after-many-before');
    await client.remoteRequest({ urls: [url] });

    const { found, undetermined } = await reconcileRemote(
      [submittingJob(url, attemptAt)],
      client,
      newRemoteView(),
    );

    expect(found.has('job-crashed')).toBe(false);
    expect(undetermined.has('job-crashed')).toBe(true);
  });

  // Found by `npm run chaos` after the fix above (1,000 jobs, seed 42: 130 jobs left `submitting` for good):
  // every poll cycle started a fresh view and spent its info budget on the same oldest candidates of the
  // skew window, so a job whose request had more than RECONCILE_MAX_INFO_CALLS requests before it in that
  // window stayed undecided forever. Fixed: each try returns its progress (stored on the job as
  // `reconcileCheckedThrough`) and the next one starts after it.
  it('decides the job within 5 poll cycles when more requests than the budget precede it', async () => {
    for (let i = 0; i < RECONCILE_MAX_INFO_CALLS + 2; i++) {
      await client.remoteRequest({ urls: [source.fileUrl(`cycle-before-${i}`)] });
    }
    const attemptAt = Date.now();
    const url = source.fileUrl('cycle-target');
    const { id } = await client.remoteRequest({ urls: [url] });
    // The earlier tests' requests are in this window too: more than 100 candidates precede the target.
    let job = submittingJob(url, attemptAt);

    let found: number | undefined;
    let cycles = 0;
    const read = new Set<number>();
    for (; cycles < 5 && found === undefined; cycles++) {
      const view = newRemoteView();
      const rec = await reconcileRemote([job], client, view);
      expect(view.calls.info).toBeLessThanOrEqual(RECONCILE_MAX_INFO_CALLS);
      for (const readId of view.info.keys()) {
        expect(read.has(readId)).toBe(false); // no candidate is read twice across cycles
        read.add(readId);
      }
      found = rec.found.get(job.id);
      if (found === undefined) {
        // Undecided, never "not at 1fichier": it must not be submitted again.
        expect(rec.undetermined.has(job.id)).toBe(true);
        const through = rec.progress.get(job.id);
        expect(through).toBeGreaterThan(job.reconcileCheckedThrough ?? 0);
        // What the store's recordReconcileProgress keeps for the next cycle.
        job = { ...job, reconcileCheckedThrough: through };
      }
    }

    expect(cycles).toBeGreaterThan(1);
    expect(found).toBe(id);
  });
});
