import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import type { RelayConfig } from '../../shared/app/config.js';
import { RELAY_METRICS } from '../../shared/app/metric-names.js';
import { FichierApiError, FichierPacedError } from '../../shared/fichier/errors.js';
import { enqueueJobs } from '../../shared/jobs/enqueue.js';
import { POLL_INFO_CHUNK } from '../../shared/jobs/poll.js';
import { RECONCILE_MAX_INFO_CALLS } from '../../shared/jobs/reconcile.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness, receiveEvent } from '../support/engines-pipeline.js';
import { shownJob, shownJobs } from '../support/shown.js';

let aws: TestAws;

beforeAll(async () => {
  aws = await startTestAws();
});
afterAll(async () => {
  await aws?.close();
});

const urls = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `https://files.example/${prefix}/${i}.bin`);

async function setup(overrides: Partial<RelayConfig> = {}) {
  const config = await aws.fresh(overrides);
  const h = harness(config);
  const worker = createWorkerHandler(h.deps);
  const poller = createPollerHandler(h.deps);
  const enqueue = (list: string[], folder = '') =>
    enqueueJobs({ userId: 'u1', source: 'api', requests: list.map((url) => ({ url, folder })) }, h.deps);
  return { config, ...h, worker, poller, enqueue };
}

const floodError = () =>
  new FichierApiError({
    kind: 'flood',
    retryable: true,
    operation: 'remote/request.cgi',
    httpStatus: 403,
    apiMessage: 'Flood detected: IP Locked #412',
    retryAfterMs: 120_000,
  });

describe('worker (submitJobs) with a fake 1fichier', () => {
  it('groups jobs by folder and sends at most batchMaxUrls URLs per remote/request.cgi', async () => {
    const t = await setup({ batchMaxUrls: 5 });
    const a = await t.enqueue(urls('a', 12), 'Movies/2026');
    const b = await t.enqueue(urls('b', 2), 'Music');
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 14);
    expect(event.Records).toHaveLength(14);

    const res = await t.worker(event);

    expect(res.batchItemFailures).toEqual([]);
    const sizes = t.fake.requests.map((r) => [r.body.folder_id, r.body.urls.length]);
    const movies = t.fake.folders.get('Movies/2026');
    const music = t.fake.folders.get('Music');
    expect(sizes).toEqual([
      [movies, 5],
      [movies, 5],
      [movies, 2],
      [music, 2],
    ]);
    const jobs = await shownJobs(
      t.deps,
      [...a, ...b].map((j) => j.id),
    );
    expect(jobs.every((j) => j.status === 'submitted' && typeof j.remoteId === 'number')).toBe(true);
    expect(jobs.every((j) => j.attempts === 1)).toBe(true);
  });

  it('acknowledges a redelivered message of a submitted job without sending it again', async () => {
    const t = await setup();
    await t.enqueue(urls('r', 3));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 3);
    await t.worker(event);
    const again = await t.worker(event);
    expect(again.batchItemFailures).toEqual([]);
    expect(t.fake.requests).toHaveLength(1);
  });

  it('on a flood, puts the jobs back to queued and returns the messages with the pause as visibility delay', async () => {
    const t = await setup();
    const jobs = await t.enqueue(urls('f', 3));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 3);
    t.fake.submitErrors = [floodError()];

    const res = await t.worker(event);

    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    );
    const after = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(after.map((j) => [j.status, j.attempts])).toEqual([
      ['queued', 0],
      ['queued', 0],
      ['queued', 0],
    ]);
    expect(t.metrics.counts.get('SubmitDeferred')).toBe(3);
    // The messages are invisible for the pause (120 s), not back at once.
    const early = await receiveEvent(aws.sqs, t.config.queueUrl, 3, 1);
    expect(early.Records).toHaveLength(0);
  });

  it('claims no job that waits out a deferral, and fails a job past its attempts without calling 1fichier', async () => {
    const t = await setup({ maxAttempts: 1 });
    const [job] = await t.enqueue(urls('attempts', 1));
    const first = await receiveEvent(aws.sqs, t.config.queueUrl, 1);
    t.fake.submitErrors = [
      new FichierApiError({
        kind: 'transient',
        retryable: true,
        operation: 'remote/request.cgi',
        httpStatus: 503,
      }),
    ];
    await t.worker(first);
    const deferred = await shownJob(t.deps, job?.id ?? '');
    expect(deferred).toMatchObject({ status: 'queued', attempts: 1 });
    expect(deferred?.nextAttemptAt).toBeGreaterThan(t.clock.now());

    // The same message again before the deferral ends: not claimed, handed back for the rest of the wait.
    const early = await t.worker(first);
    expect(early.batchItemFailures).toHaveLength(1);
    expect((await shownJob(t.deps, job?.id ?? ''))?.attempts).toBe(1);

    // After it: claimed, found past its one attempt, failed with the reason, never sent again.
    t.clock.advance((deferred?.nextAttemptAt ?? 0) + 1 - t.clock.now());
    t.fake.requests.length = 0;
    await t.worker(first);
    expect(t.fake.requests).toHaveLength(0);
    expect(await shownJob(t.deps, job?.id ?? '')).toMatchObject({
      status: 'failed',
      error: { code: 'gaveUp', message: expect.stringMatching(/^gave up after 1 attempts/) },
    });
  });

  it('while the shared pacer is paused, hands messages back without claiming or calling 1fichier', async () => {
    const t = await setup();
    const jobs = await t.enqueue(urls('p', 2));
    const keyId = (await import('../../shared/fichier/memory-pacer.js')).keyIdOf(
      await t.deps.keyProvider.get(),
    );
    await t.deps.pacer.recordFlood(keyId);
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 2);

    const res = await t.worker(event);

    expect(res.batchItemFailures).toHaveLength(2);
    expect(t.fake.calls).toEqual([]);
    const after = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(after.every((j) => j.status === 'queued' && j.attempts === 0)).toBe(true);
  });

  it('deletes a message deferred too often and leaves its job to the poller, which sends it again later', async () => {
    const t = await setup();
    const jobs = await t.enqueue(urls('deferred', 1));
    const { keyIdOf } = await import('../../shared/fichier/memory-pacer.js');
    const keyId = keyIdOf(await t.deps.keyProvider.get());
    await t.deps.pacer.recordFlood(keyId);
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 1);
    for (const r of event.Records) r.attributes.ApproximateReceiveCount = '4';

    const res = await t.worker(event);

    expect(res.batchItemFailures).toEqual([]);
    expect((await shownJob(t.deps, jobs[0]?.id ?? ''))?.status).toBe('queued');
    await t.deps.pacer.reset(keyId);
    t.clock.advance(t.config.requeueAfterS * 1000 + 1);
    const report = await t.poller();
    expect(report.requeued).toBe(1);
    const again = await receiveEvent(aws.sqs, t.config.queueUrl, 1);
    expect(again.Records.map((r) => JSON.parse(r.body).jobId)).toEqual([jobs[0]?.id]);
  });

  it('on an auth error, puts the jobs back to queued, acknowledges the messages and says why', async () => {
    const t = await setup();
    const jobs = await t.enqueue(urls('auth', 2));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 2);
    t.fake.submitErrors = [
      new FichierPacedError('remote/request.cgi', 'circuitOpen', 900_000, 'Not authenticated #247'),
    ];

    const res = await t.worker(event);

    expect(res.batchItemFailures).toEqual([]);
    const after = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(after.every((j) => j.status === 'queued')).toBe(true);
    expect(t.metrics.counts.get(RELAY_METRICS.authFailures)).toBe(1);
    expect(t.logger.lines.some((l) => l.level === 'warn' && /refused the key/.test(l.message))).toBe(true);
  });

  it('fails only the URL 1fichier rejects, with its message, and submits the others', async () => {
    const t = await setup();
    const jobs = await t.enqueue(urls('ko', 3));
    const bad = jobs[1]?.url;
    t.fake.rejectUrl = (u) =>
      u === bad
        ? new FichierApiError({
            kind: 'rejected',
            retryable: false,
            operation: 'remote/request.cgi',
            httpStatus: 403,
            apiMessage: 'Invalid URL #599',
          })
        : undefined;
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 3);

    const res = await t.worker(event);

    expect(res.batchItemFailures).toEqual([]);
    const after = new Map(
      (
        await shownJobs(
          t.deps,
          jobs.map((j) => j.id),
        )
      ).map((j) => [j.url, j]),
    );
    expect(after.get(bad ?? '')).toMatchObject({
      status: 'failed',
      error: { code: 'rejected', message: 'Invalid URL #599' },
    });
    expect([...after.values()].filter((j) => j.status === 'submitted')).toHaveLength(2);
    expect(t.fake.requests.map((r) => r.body.urls.length)).toEqual([1, 1]);
  });

  it('after a crash between the accepted request and our write, reconciles instead of submitting twice', async () => {
    const t = await setup();
    let crashes = 1;
    t.deps.hooks.afterRemoteAccepted = () => {
      if (crashes-- > 0) throw new Error('simulated crash');
    };
    const jobs = await t.enqueue(urls('crash', 3));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 3);

    const crashed = await t.worker(event);
    expect(crashed.batchItemFailures).toHaveLength(3);
    expect(
      (
        await shownJobs(
          t.deps,
          jobs.map((j) => j.id),
        )
      ).every((j) => j.status === 'submitting'),
    ).toBe(true);

    // Redelivered while the lease holds: handed back until the lease ends, nothing sent.
    const early = await t.worker(event);
    expect(early.batchItemFailures).toHaveLength(3);
    expect(t.fake.requests).toHaveLength(1);

    t.clock.advance(t.config.submittingLeaseS * 1000 + 1);
    // Past the lease the worker hands them to the poller (pending index) and is done with the messages.
    const late = await t.worker(event);
    expect(late.batchItemFailures).toEqual([]);
    await t.poller();

    expect(t.fake.requests).toHaveLength(1);
    const after = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(after.every((j) => j.status === 'submitted' && j.remoteId === t.fake.requests[0]?.id)).toBe(true);
    expect(t.fake.calls.filter((c) => c === 'ls')).toHaveLength(1);
  });

  it('stops sending once half the lease is spent and gives the rest back to the queue', async () => {
    const t = await setup({ batchMaxUrls: 1 });
    const jobs = await t.enqueue(urls('slow', 3));
    // Each answer takes 40 s: the third request would start after 80 s, past half of the 120 s lease.
    t.fake.onRequest = () => t.clock.advance(40_000);
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 3);

    const res = await t.worker(event);

    expect(t.fake.requests).toHaveLength(2);
    expect(res.batchItemFailures).toHaveLength(1);
    const after = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(after.map((j) => j.status).sort()).toEqual(['queued', 'submitted', 'submitted']);
  });

  it('reconciles to the accepted request even when many later requests followed it', async () => {
    const t = await setup();
    let crashes = 1;
    t.deps.hooks.afterRemoteAccepted = () => {
      if (crashes-- > 0) throw new Error('simulated crash');
    };
    const jobs = await t.enqueue(urls('many', 2));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 2);
    await t.worker(event);
    const accepted = t.fake.requests[0]?.id;
    // 30 other requests (other jobs, other workers) land after ours.
    for (let i = 0; i < 30; i++) {
      t.clock.advance(1000);
      await t.fake.remoteRequest({ urls: [`https://files.example/other/${i}`] });
    }
    t.clock.advance(t.config.submittingLeaseS * 1000);
    t.fake.calls.length = 0;

    const res = await t.worker(event);
    expect(res.batchItemFailures).toEqual([]);
    await t.poller();

    const after = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(after.map((j) => [j.status, j.remoteId])).toEqual([
      ['submitted', accepted],
      ['submitted', accepted],
    ]);
    expect(t.fake.calls).toEqual(['ls', `info:${accepted}`]);
    expect(t.fake.requests.filter((r) => r.body.urls.includes(jobs[0]?.url ?? ''))).toHaveLength(1);
  });

  it('reconciles across tries when more requests than the info budget precede the accepted one: progress is stored, nothing is sent again meanwhile', async () => {
    const t = await setup();
    // 40 requests of others in the minute before the attempt: inside the job's window (2 min of skew).
    for (let i = 0; i < 40; i++) {
      await t.fake.remoteRequest({ urls: [`https://files.example/before/${i}`] });
      t.clock.advance(1000);
    }
    const before = t.fake.requests.map((r) => r.id);
    let crashes = 1;
    t.deps.hooks.afterRemoteAccepted = () => {
      if (crashes-- > 0) throw new Error('simulated crash');
    };
    const [job] = await t.enqueue(urls('budget', 1));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 1);
    await t.worker(event);
    const accepted = t.fake.requests[40]?.id;
    const claimed = await shownJob(t.deps, job?.id ?? '');
    expect(claimed?.status).toBe('submitting');
    t.clock.advance(t.config.submittingLeaseS * 1000 + 1);
    t.fake.calls.length = 0;

    // Try 1 (poller, after the redelivered message handed the job to it): 30 info calls, undecided;
    // progress stored.
    const handed = await t.worker(event);
    expect(handed.batchItemFailures).toEqual([]);
    await t.poller();
    const undecided = await shownJob(t.deps, job?.id ?? '');
    expect(undecided?.status).toBe('submitting');
    expect(undecided?.claimToken).toBe(claimed?.claimToken);
    expect(undecided?.updatedAt).toBe(claimed?.updatedAt);
    expect(undecided?.reconcileCheckedThrough).toBe(before[RECONCILE_MAX_INFO_CALLS - 1]);
    expect(t.fake.requests).toHaveLength(41);

    // Try 2 (the next poll cycle): starts after the stored progress and finds the accepted request.
    const report = await t.poller();
    expect(report.reconciled).toBe(1);
    const after = await shownJob(t.deps, job?.id ?? '');
    expect([after?.status, after?.remoteId]).toEqual(['submitted', accepted]);
    // Followed through its request from now on: a third cycle reads nothing more for it.
    await t.poller();
    expect(t.fake.requests).toHaveLength(41);
    // Each candidate was read once over both tries: 40 others + the accepted one.
    const infos = t.fake.calls.filter((c) => c.startsWith('info:'));
    expect(infos).toHaveLength(41);
    expect(new Set(infos).size).toBe(41);
  });

  it('spends no remote/info.cgi on requests the relay sent and recorded in full', async () => {
    const t = await setup({ batchMaxUrls: 1 });
    // 40 requests of the relay itself just before the attempt: each followed by a complete REMOTE item.
    await t.enqueue(urls('own', 40));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 40));
    expect(t.fake.requests).toHaveLength(40);
    let crashes = 1;
    t.deps.hooks.afterRemoteAccepted = () => {
      if (crashes-- > 0) throw new Error('simulated crash');
    };
    const [job] = await t.enqueue(urls('own-crash', 1));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 1));
    const accepted = t.fake.requests[40]?.id;
    t.clock.advance(t.config.submittingLeaseS * 1000 + 1);
    t.fake.calls.length = 0;
    // The poller reconciles the jobs the pending index holds (a message that may be lost).
    await t.deps.store.markPending([job?.id ?? ''], t.clock.now());

    const report = await t.poller();

    expect(report.reconciled).toBe(1);
    const after = await shownJob(t.deps, job?.id ?? '');
    expect([after?.status, after?.remoteId]).toEqual(['submitted', accepted]);
    // Only the request whose item the crash prevented is read.
    expect(t.fake.calls).toEqual(['ls', `info:${accepted}`]);
  });

  it('does not trust an item reconciliation created for one job: the other job of the same request is still found, not sent again', async () => {
    const t = await setup();
    let crashes = 1;
    t.deps.hooks.afterRemoteAccepted = () => {
      if (crashes-- > 0) throw new Error('simulated crash');
    };
    const jobs = await t.enqueue(urls('pair', 2));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 2);
    await t.worker(event);
    expect(t.fake.requests).toHaveLength(1);
    const accepted = t.fake.requests[0]?.id;
    t.clock.advance(t.config.submittingLeaseS * 1000 + 1);

    // The two messages come back at different times: the first job is reconciled alone, and its request
    // followed with that job only.
    const [first, second] = event.Records;
    await t.worker({ Records: first ? [first] : [] });
    await t.poller();
    const open = await t.deps.remotes.openRemotes();
    expect(open).toHaveLength(1);
    expect(open[0]?.complete).toBeUndefined();
    t.fake.calls.length = 0;

    await t.worker({ Records: second ? [second] : [] });
    await t.poller();

    expect(t.fake.calls).toEqual(['ls', `info:${accepted}`]);
    expect(t.fake.requests).toHaveLength(1);
    const after = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(after.map((j) => [j.status, j.remoteId])).toEqual([
      ['submitted', accepted],
      ['submitted', accepted],
    ]);
  });

  it('after an unknown submit outcome, the poller reconciles: not at 1fichier on two readings a cycle apart → queued again, then sent once', async () => {
    const t = await setup();
    const jobs = await t.enqueue(urls('unknown', 2));
    const event = await receiveEvent(aws.sqs, t.config.queueUrl, 2);
    t.fake.submitErrors = [
      new FichierApiError({
        kind: 'transient',
        retryable: false,
        operation: 'remote/request.cgi',
        maybeSubmitted: true,
      }),
    ];
    const res = await t.worker(event);
    // Their fate is unknown: handed to the poller's reconciliation (pending index), messages done.
    expect(res.batchItemFailures).toEqual([]);
    expect(
      (
        await shownJobs(
          t.deps,
          jobs.map((j) => j.id),
        )
      ).every((j) => j.status === 'submitting'),
    ).toBe(true);

    t.clock.advance(t.config.submittingLeaseS * 1000 + 1);
    // One reading is no proof (the listing may be cut or lag): the jobs wait for the next cycle.
    expect((await t.poller()).reconciled).toBe(0);
    const waiting = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(waiting.every((j) => j.status === 'submitting' && j.absentSince !== undefined)).toBe(true);

    t.clock.advance(t.config.pollIntervalS * 1000);
    const report = await t.poller();
    expect(report.reconciled).toBe(2);
    expect(
      (
        await shownJobs(
          t.deps,
          jobs.map((j) => j.id),
        )
      ).every((j) => j.status === 'queued'),
    ).toBe(true);

    const redelivered = await receiveEvent(aws.sqs, t.config.queueUrl, 2);
    expect(redelivered.Records).toHaveLength(2);
    await t.worker(redelivered);
    expect(t.fake.requests).toHaveLength(1);
    expect(
      (
        await shownJobs(
          t.deps,
          jobs.map((j) => j.id),
        )
      ).every((j) => j.status === 'submitted'),
    ).toBe(true);
  });
});

describe('poller (pollRemoteRequests) with a fake 1fichier', () => {
  it('marks jobs done with the file link or failed with 1fichier’s message, with one ls and info only for finished requests', async () => {
    const t = await setup({ batchMaxUrls: 3 });
    const jobs = await t.enqueue(urls('poll', 5));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 5));
    const [first, second] = t.fake.requests;
    const koUrl = first?.body.urls[2] ?? '';
    t.fake.finish(first?.id ?? 0, { [koUrl]: 'Download failed: HTTP 404 #612' });
    t.fake.calls.length = 0;

    const report = await t.poller();

    expect(t.fake.calls).toEqual(['ls', `info:${first?.id}`]);
    const after = new Map(
      (
        await shownJobs(
          t.deps,
          jobs.map((j) => j.id),
        )
      ).map((j) => [j.url, j]),
    );
    for (const url of first?.body.urls.slice(0, 2) ?? []) {
      expect(after.get(url)).toMatchObject({
        status: 'done',
        fileUrl: expect.stringMatching(/^https:\/\/1fichier\.com\/\?/),
      });
    }
    expect(after.get(koUrl)).toMatchObject({
      status: 'failed',
      error: { code: 'remoteFailed', message: 'Download failed: HTTP 404 #612' },
    });
    for (const url of second?.body.urls ?? []) expect(after.get(url)?.status).toBe('submitted');
    expect(report.counts).toMatchObject({ submitted: 2, done: 2, failed: 1 });
    expect(report.completed).toHaveLength(2);
    // The summary (issue 12, reports): stored with the report, counts emitted as metrics.
    expect(report.summary?.counts.done).toBe(2);
    expect(report.summary?.failuresByReason.map((r) => r.count)).toEqual([1]);
    expect(t.metrics.counts.get('ReportUploadsDone')).toBe(2);
    expect((await t.deps.reports.latestReport('u1'))?.summary?.completed).toHaveLength(2);
    expect(report.failures).toEqual([
      { id: after.get(koUrl)?.id, url: koUrl, error: after.get(koUrl)?.error },
    ]);
    expect(report.calls).toEqual({ ls: 1, info: 1 });
    // The finished request is no longer followed; the pending one still is.
    expect((await t.deps.remotes.openRemotes()).map((r) => r.remoteId)).toEqual([second?.id]);
    expect(await t.deps.reports.latestReport()).toEqual(report);
    expect(t.logger.lines.filter((l) => l.message === 'poll report')).toHaveLength(1);
  });

  it('shows the first chunk of finished requests done while the next chunk’s remote/info.cgi are still unanswered', async () => {
    const t = await setup({ batchMaxUrls: 1 });
    const jobs = await t.enqueue(urls('chunk', POLL_INFO_CHUNK + 2));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 10));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, POLL_INFO_CHUNK + 2 - 10));
    expect(t.fake.requests).toHaveLength(POLL_INFO_CHUNK + 2);
    for (const r of t.fake.requests) t.fake.finish(r.id);
    const ids = jobs.map((j) => j.id);
    const doneWhenAsked: number[] = [];
    const doneWhenAnswered: number[] = [];
    const info = t.fake.remoteInfo.bind(t.fake);
    let asked = 0;
    t.fake.remoteInfo = async (id: number) => {
      const done = async () => (await shownJobs(t.deps, ids)).filter((j) => j.status === 'done').length;
      doneWhenAsked.push(await done());
      asked += 1;
      if (asked > POLL_INFO_CHUNK) {
        // The next chunk answers only once the first chunk's jobs show done (or gives up after 5 s).
        const until = Date.now() + 5_000;
        while ((await done()) < POLL_INFO_CHUNK && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 10));
        }
        doneWhenAnswered.push(await done());
      }
      return info(id);
    };

    const report = await t.poller();

    // One ls for the cycle; nothing was done before the first answers, and the first chunk's jobs were
    // done before any answer of the next chunk came.
    expect(report.calls).toEqual({ ls: 1, info: POLL_INFO_CHUNK + 2 });
    expect(doneWhenAsked.slice(0, POLL_INFO_CHUNK)).toEqual(Array(POLL_INFO_CHUNK).fill(0));
    expect(doneWhenAnswered).toEqual([POLL_INFO_CHUNK, POLL_INFO_CHUNK]);
    expect((await shownJobs(t.deps, ids)).every((j) => j.status === 'done')).toBe(true);
  });

  it('reads the next chunk’s remote/info.cgi while the first chunk’s jobs are settled, not after', async () => {
    const t = await setup({ batchMaxUrls: 1 });
    await t.enqueue(urls('overlap', POLL_INFO_CHUNK + 2));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 10));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, POLL_INFO_CHUNK + 2 - 10));
    for (const r of t.fake.requests) t.fake.finish(r.id);
    const events: string[] = [];
    const info = t.fake.remoteInfo.bind(t.fake);
    t.fake.remoteInfo = (id: number) => {
      events.push('info');
      return info(id);
    };
    const store = t.deps.store;
    t.deps.store = Object.assign(Object.create(store) as typeof store, {
      transition: (...args: Parameters<typeof store.transition>) => {
        if (args[2].status === 'done') events.push('done');
        return store.transition(...args);
      },
    });

    const report = await t.poller();

    expect(report.counts.done).toBe(POLL_INFO_CHUNK + 2);
    // All the calls of both chunks came before the first job was ended: settling the first chunk did
    // not hold the second chunk's calls (and their reserved slots) back.
    expect(events.indexOf('done')).toBe(POLL_INFO_CHUNK + 2);
    expect(events.filter((e) => e === 'done')).toHaveLength(POLL_INFO_CHUNK + 2);
  });

  it('settles the finished requests of a chunk one after another, never all their jobs at once', async () => {
    const t = await setup({ batchMaxUrls: 2 });
    await t.enqueue(urls('in-turn', 8));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 8));
    expect(t.fake.requests).toHaveLength(4);
    for (const r of t.fake.requests) t.fake.finish(r.id);
    let inFlight = 0;
    let most = 0;
    const store = t.deps.store;
    t.deps.store = Object.assign(Object.create(store) as typeof store, {
      transition: async (...args: Parameters<typeof store.transition>) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          return await store.transition(...args);
        } finally {
          inFlight -= 1;
        }
      },
    });

    const report = await t.poller();

    expect(report.counts.done).toBe(8);
    // The two jobs of one request at a time, not the eight of the chunk.
    expect(most).toBe(2);
  });

  it('starts the remote/info.cgi calls of one chunk together, so a slow answer does not hold the next call', async () => {
    const t = await setup({ batchMaxUrls: 1 });
    await t.enqueue(urls('together', 4));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 4));
    for (const r of t.fake.requests) t.fake.finish(r.id);
    let inFlight = 0;
    let most = 0;
    const info = t.fake.remoteInfo.bind(t.fake);
    t.fake.remoteInfo = async (id: number) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 50));
        return await info(id);
      } finally {
        inFlight -= 1;
      }
    };

    const report = await t.poller();

    expect(report.calls).toEqual({ ls: 1, info: 4 });
    expect(most).toBe(4);
    expect(report.counts.done).toBe(4);
  });

  it('fails jobs 1fichier has not finished after stuckAfterS with a clear reason', async () => {
    const t = await setup({ stuckAfterS: 3600 });
    const jobs = await t.enqueue(urls('stuck', 1));
    await t.worker(await receiveEvent(aws.sqs, t.config.queueUrl, 1));
    t.clock.advance(3600 * 1000 + 1);

    await t.poller();

    const [job] = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(job).toMatchObject({ status: 'failed', error: { code: 'stuck' } });
    expect(job?.error?.message).toMatch(/has not finished remote request \d+ after 1 h/);
    expect(t.metrics.counts.get(RELAY_METRICS.stuckJobs)).toBe(1);
  });

  it('re-sends queued jobs left without a message only once the key may be used again', async () => {
    const keys = ['revoked-key-0000000000000000000', 'rotated-key-0000000000000000000'];
    let current = keys[0] as string;
    const config = await aws.fresh();
    const h = harness(config, { keyProvider: { get: async () => current, refresh: async () => current } });
    const worker = createWorkerHandler(h.deps);
    const poller = createPollerHandler(h.deps);
    const jobs = await enqueueJobs(
      { userId: 'u1', source: 'api', requests: urls('circuit', 2).map((url) => ({ url, folder: '' })) },
      h.deps,
    );
    const { keyIdOf } = await import('../../shared/fichier/memory-pacer.js');
    await h.deps.pacer.recordAuthFailure(keyIdOf(keys[0] as string), 'Not authenticated #247');
    const res = await worker(await receiveEvent(aws.sqs, config.queueUrl, 2));
    expect(res.batchItemFailures).toEqual([]);
    expect(h.fake.calls).toEqual([]);
    expect(h.metrics.counts.get(RELAY_METRICS.circuitOpen)).toBe(2);

    h.clock.advance(config.requeueAfterS * 1000 + 1);
    const blocked = await poller();
    expect(blocked.requeued).toBe(0);
    expect(blocked.pacer?.circuitOpen).toBe(true);

    current = keys[1] as string;
    h.clock.advance(61_000);
    const resumed = await poller();
    expect(resumed.requeued).toBe(2);
    const event = await receiveEvent(aws.sqs, config.queueUrl, 2);
    await worker(event);
    const after = await shownJobs(
      h.deps,
      jobs.map((j) => j.id),
    );
    expect(after.every((j) => j.status === 'submitted')).toBe(true);
  });
});
