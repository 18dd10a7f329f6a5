import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayConfig } from '../../shared/app/config.js';
import { DynamoJobStore } from '../../shared/aws/dynamo-job-store.js';
import { DynamoRemoteStore } from '../../shared/aws/dynamo-remote-store.js';
import { DynamoReportStore } from '../../shared/aws/dynamo-report-store.js';
import { SqsJobQueue } from '../../shared/aws/queue.js';
import { TTL_ATTRIBUTE } from '../../shared/aws/table.js';
import { jobIdFor } from '../../shared/jobs/ids.js';
import { withShownStatus } from '../../shared/jobs/shown-status.js';
import { InvalidCursorError, type JobRecord, TransitionConflictError } from '../../shared/jobs/store.js';
import { startTestAws, type TestAws } from '../support/engines.js';

let aws: TestAws;
let config: RelayConfig;
let store: DynamoJobStore;
const T0 = Date.UTC(2026, 10, 27, 12);

const newJob = (user: string, url: string, folder = '') => ({
  id: jobIdFor(user, url, folder),
  userId: user,
  url,
  folder,
  source: 'api' as const,
});

beforeAll(async () => {
  aws = await startTestAws();
  config = await aws.fresh();
  store = new DynamoJobStore(aws.doc, config.tableName);
});
afterAll(async () => {
  await aws?.close();
});

describe('DynamoJobStore', () => {
  it('creates a job once and returns the existing job for a duplicate', async () => {
    const a = await store.createJob(newJob('u1', 'https://example.com/a.iso'), T0);
    const b = await store.createJob(newJob('u1', 'https://example.com/a.iso'), T0 + 5000);
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.job.id).toBe(a.job.id);
    expect(b.job.createdAt).toBe(new Date(T0).toISOString());
    const otherFolder = await store.createJob(newJob('u1', 'https://example.com/a.iso', 'Music'), T0);
    const otherUser = await store.createJob(newJob('u2', 'https://example.com/a.iso'), T0);
    expect(otherFolder.created).toBe(true);
    expect(otherUser.created).toBe(true);
  });

  it('records reconciliation progress under the claim, forward only, without touching status or updatedAt; a new attempt clears it', async () => {
    const { job } = await store.createJob(newJob('u1', 'https://example.com/progress.bin'), T0);
    const claim = {
      status: 'submitting' as const,
      claimToken: 'p1',
      leaseUntil: T0 + 3_000,
      submitAttemptAt: T0,
    };
    const claimed = await store.transition(job.id, { status: 'queued' }, { ...claim, attemptsDelta: 1 }, T0);

    expect(await store.recordReconcileProgress(job.id, 'p1', { checkedThrough: 1030 })).toBe(true);
    expect(await store.recordReconcileProgress(job.id, 'other-claim', { checkedThrough: 2000 })).toBe(false);
    expect(await store.recordReconcileProgress(job.id, 'p1', { checkedThrough: 1010 })).toBe(false); // never backwards
    expect(await store.recordReconcileProgress(job.id, 'p1', { checkedThrough: 1030 })).toBe(false);
    let stored = await store.getJob(job.id);
    expect(stored?.reconcileCheckedThrough).toBe(1030);
    expect(stored?.status).toBe('submitting');
    expect(stored?.updatedAt).toBe(claimed.updatedAt);
    // Once in the pending index, the poller still finds it as a lease-ended `submitting` job.
    await store.markPending([job.id], T0);
    const listed = await store.listByStatus('submitting', { changedBefore: T0 + 3_001 });
    expect(listed.items.map((j) => j.id)).toContain(job.id);

    // A new attempt (the worker's re-claim after "not found") starts from scratch.
    const again = await store.transition(
      job.id,
      { status: 'submitting', claimToken: 'p1' },
      { ...claim, claimToken: 'p2', submitAttemptAt: T0 + 10_000, attemptsDelta: 1 },
      T0 + 10_000,
    );
    expect(again.reconcileCheckedThrough).toBeUndefined();
    expect(await store.recordReconcileProgress(job.id, 'p2', { checkedThrough: 1040 })).toBe(true);
    // The first absent reading is kept: a second one never moves it forward.
    expect(await store.recordReconcileProgress(job.id, 'p2', { absentSince: T0 + 11_000 })).toBe(true);
    expect(await store.recordReconcileProgress(job.id, 'p2', { absentSince: T0 + 12_000 })).toBe(false);
    expect((await store.getJob(job.id))?.absentSince).toBe(T0 + 11_000);
    // Leaving `submitting` drops it too.
    const queued = await store.transition(
      job.id,
      { status: 'submitting', claimToken: 'p2' },
      { status: 'queued', claimToken: null, leaseUntil: null },
      T0 + 20_000,
    );
    expect(queued.reconcileCheckedThrough).toBeUndefined();
    expect(queued.absentSince).toBeUndefined();
    expect(await store.recordReconcileProgress(job.id, 'p2', { checkedThrough: 1050 })).toBe(false);
    stored = await store.getJob(job.id);
    expect(stored?.reconcileCheckedThrough).toBeUndefined();
  });

  it('applies a transition only from the expected state and claim (a second apply is refused)', async () => {
    const { job } = await store.createJob(newJob('u1', 'https://example.com/t.bin'), T0);
    const claimed = await store.transition(
      job.id,
      { status: 'queued' },
      {
        status: 'submitting',
        claimToken: 'c1',
        leaseUntil: T0 + 120_000,
        submitAttemptAt: T0,
        attemptsDelta: 1,
      },
      T0 + 1,
    );
    expect(claimed.status).toBe('submitting');
    expect(claimed.attempts).toBe(1);
    await expect(
      store.transition(job.id, { status: 'queued' }, { status: 'submitting', claimToken: 'c2' }, T0 + 2),
    ).rejects.toBeInstanceOf(TransitionConflictError);
    await expect(
      store.transition(
        job.id,
        { status: 'submitting', claimToken: 'c2' },
        { status: 'submitted', remoteId: 1 },
        T0 + 3,
      ),
    ).rejects.toBeInstanceOf(TransitionConflictError);
    const submitted = await store.transition(
      job.id,
      { status: 'submitting', claimToken: 'c1' },
      { status: 'submitted', remoteId: 42, claimToken: null, leaseUntil: null },
      T0 + 4,
    );
    expect(submitted).toMatchObject({ status: 'submitted', remoteId: 42 });
    expect(submitted.claimToken).toBeUndefined();
    await expect(
      store.transition(
        job.id,
        { status: 'submitting', claimToken: 'c1' },
        { status: 'submitted', remoteId: 43 },
        T0 + 5,
      ),
    ).rejects.toBeInstanceOf(TransitionConflictError);
    expect((await store.getJob(job.id))?.remoteId).toBe(42);
  });

  it('takes terminal jobs out of the status index and sets their TTL', async () => {
    const { job } = await store.createJob(newJob('u3', 'https://example.com/ttl.bin'), T0);
    await store.transition(
      job.id,
      { status: 'queued' },
      { status: 'failed', error: { code: 'x', message: 'y' } },
      T0 + 10,
    );
    const raw = await aws.doc.send(
      new GetCommand({ TableName: config.tableName, Key: { pk: `JOB#${job.id}`, sk: 'JOB' } }),
    );
    expect(raw.Item?.gsi1pk).toBeUndefined();
    expect(raw.Item?.[TTL_ATTRIBUTE]).toBe(Math.floor((T0 + 10) / 1000) + 30 * 86_400);
    const queued = await store.listByStatus('queued', { limit: 100 });
    expect(queued.items.map((j) => j.id)).not.toContain(job.id);
    expect(JSON.stringify(raw.Item).length).toBeLessThan(1024);
  });

  it('lists the jobs put in the pending index by status, oldest first, bounded by changedBefore, queued apart from submitting', async () => {
    const cfg = await aws.fresh();
    const s = new DynamoJobStore(aws.doc, cfg.tableName);
    for (let i = 0; i < 5; i++) {
      const { job } = await s.createJob(newJob('u', `https://example.com/s${i}`), T0 + i * 1000);
      // A new job is not in the pending index: its SQS message is its reminder.
      expect(await s.countByStatus('queued')).toBe(i);
      expect(await s.markPending([job.id], T0 + i * 1000)).toBe(1);
      expect(await s.markPending([job.id], T0 + i * 1000)).toBe(0);
    }
    const all = await s.listByStatus('queued', { limit: 2 });
    expect(all.items.map((j) => j.url)).toEqual(['https://example.com/s0', 'https://example.com/s1']);
    const rest = await s.listByStatus('queued', { limit: 10, cursor: all.next });
    expect(rest.items.map((j) => j.url)).toEqual([
      'https://example.com/s2',
      'https://example.com/s3',
      'https://example.com/s4',
    ]);
    const old = await s.listByStatus('queued', { limit: 10, changedBefore: T0 + 2000 });
    expect(old.items).toHaveLength(2);
    expect(await s.countByStatus('queued')).toBe(5);
    const first = all.items[0]?.id ?? '';
    await s.transition(first, { status: 'queued' }, { status: 'submitting', claimToken: 'c' }, T0 + 10_000);
    expect(await s.countByStatus('queued')).toBe(4);
    expect(await s.countByStatus('submitting')).toBe(1);
    expect((await s.listByStatus('submitting', { limit: 10 })).items.map((j) => j.id)).toEqual([first]);
    // Changed at T0 + 10 s: no longer "changed before T0 + 2 s".
    const stillOld = await s.listByStatus('queued', { limit: 10, changedBefore: T0 + 2000 });
    expect(stillOld.items.map((j) => j.url)).toEqual(['https://example.com/s1']);
  });

  it("lists a user's jobs newest first with an opaque cursor, a status filter, and refuses a foreign cursor", async () => {
    const cfg = await aws.fresh();
    const s = new DynamoJobStore(aws.doc, cfg.tableName);
    for (let i = 0; i < 7; i++) {
      const { job } = await s.createJob(newJob('alice', `https://example.com/n${i}`), T0 + i * 1000);
      if (i % 2 === 0)
        await s.transition(
          job.id,
          { status: 'queued' },
          { status: 'failed', error: { code: 'c', message: 'm' } },
          T0 + i * 1000 + 1,
        );
    }
    await s.createJob(newJob('bob', 'https://example.com/bob'), T0);
    const p1 = await s.listForUser('alice', { limit: 3 });
    expect(p1.items.map((j) => j.url)).toEqual([
      'https://example.com/n6',
      'https://example.com/n5',
      'https://example.com/n4',
    ]);
    expect(p1.next).toBeTypeOf('string');
    const p2 = await s.listForUser('alice', { limit: 3, cursor: p1.next });
    expect(p2.items.map((j) => j.url)).toEqual([
      'https://example.com/n3',
      'https://example.com/n2',
      'https://example.com/n1',
    ]);
    const p3 = await s.listForUser('alice', { limit: 3, cursor: p2.next });
    expect(p3.items.map((j) => j.url)).toEqual(['https://example.com/n0']);
    expect(p3.next).toBeUndefined();
    const failed1 = await s.listForUser('alice', { limit: 2, status: 'failed' });
    expect(failed1.items.map((j) => j.url)).toEqual(['https://example.com/n6', 'https://example.com/n4']);
    const failed2 = await s.listForUser('alice', { limit: 2, status: 'failed', cursor: failed1.next });
    expect(failed2.items.map((j) => j.url)).toEqual(['https://example.com/n2', 'https://example.com/n0']);
    await expect(s.listForUser('bob', { limit: 3, cursor: p1.next })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(s.listForUser('alice', { limit: 3, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it('follows remote requests: track is idempotent and adds jobs, open lists them oldest first, close ends it', async () => {
    const cfg = await aws.fresh();
    const r = new DynamoRemoteStore(aws.doc, cfg.tableName);
    await r.trackRemote({ remoteId: 7, jobIds: ['a', 'b'], submittedAt: T0 + 5000, claimToken: 'k1' });
    await r.trackRemote({ remoteId: 3, jobIds: ['c'], submittedAt: T0, claimToken: 'k2' });
    await r.trackRemote({ remoteId: 7, jobIds: ['b', 'd'], submittedAt: T0 + 9000, claimToken: 'k1' });
    expect(await r.openRemotes()).toEqual([
      { remoteId: 3, jobIds: ['c'], submittedAt: T0, claimToken: 'k2' },
      { remoteId: 7, jobIds: ['a', 'b', 'd'], submittedAt: T0 + 5000, claimToken: 'k1' },
    ]);
    await r.closeRemote({ remoteId: 3, claimToken: 'k2' });
    expect((await r.openRemotes()).map((x) => x.remoteId)).toEqual([7]);
    // The sending worker's call marks the item complete; a later partial add keeps the mark.
    await r.trackRemote({
      remoteId: 9,
      jobIds: ['e', 'f'],
      submittedAt: T0 + 10_000,
      claimToken: 'k1',
      complete: true,
    });
    await r.trackRemote({ remoteId: 9, jobIds: ['e'], submittedAt: T0 + 11_000, claimToken: 'k1' });
    expect((await r.openRemotes()).find((x) => x.remoteId === 9)).toEqual({
      remoteId: 9,
      jobIds: ['e', 'f'],
      submittedAt: T0 + 10_000,
      claimToken: 'k1',
      complete: true,
    });
    // A claim's requests are one query away (a job's shown status).
    expect((await r.remotesOfClaim('k1')).map((x) => x.remoteId)).toEqual([7, 9]);
    expect(await r.remotesOfClaim('k2')).toEqual([]);
  });

  it('keeps a sent job submitting with no index entry, and shows it submitted through its claim request', async () => {
    const cfg = await aws.fresh();
    const s = new DynamoJobStore(aws.doc, cfg.tableName);
    const r = new DynamoRemoteStore(aws.doc, cfg.tableName);
    const { job } = await s.createJob(newJob('u', 'https://example.com/sub'), T0);
    const claimed = await s.transition(
      job.id,
      { status: 'queued' },
      { status: 'submitting', claimToken: 'c' },
      T0 + 1,
    );
    expect((await withShownStatus([claimed], r))[0]?.status).toBe('submitting');
    await r.trackRemote({ remoteId: 55, jobIds: [job.id], submittedAt: T0 + 2, claimToken: 'c' });
    const raw = await aws.doc.send(
      new GetCommand({ TableName: cfg.tableName, Key: { pk: `JOB#${job.id}`, sk: 'JOB' } }),
    );
    expect(raw.Item?.status).toBe('submitting');
    expect(raw.Item?.gsi1pk).toBeUndefined();
    expect(raw.Item?.[TTL_ATTRIBUTE]).toBeUndefined();
    const [shown] = await withShownStatus([(await s.getJob(job.id)) as JobRecord], r);
    expect(shown).toMatchObject({ status: 'submitted', remoteId: 55, submittedAt: T0 + 2 });
    // Another claim's request does not make it submitted.
    const other = { ...(await s.getJob(job.id)), claimToken: 'someone-else' } as JobRecord;
    expect((await withShownStatus([other], r))[0]?.status).toBe('submitting');
    expect(await s.countByStatus('submitting')).toBe(0);
  });
});

describe('DynamoReportStore', () => {
  const report = (toMs: number, done: number) => ({
    period: { from: null, to: new Date(toMs).toISOString() },
    counts: { queued: 1, submitting: 0, submitted: 2, done, failed: 0 },
    completed: [],
    failures: [],
    pacer: null,
    calls: { ls: 1, info: 0 },
    requeued: 0,
    reconciled: 0,
  });

  it('keeps every report: the latest is the newest, listings go newest first, each user apart', async () => {
    const cfg = await aws.fresh();
    const reports = new DynamoReportStore(aws.doc, cfg.tableName);
    expect(await reports.latestReport()).toBeUndefined();
    await reports.putReport(report(T0, 1));
    await reports.putReport(report(T0 + 60_000, 2));
    await reports.putReport(report(T0 + 30_000, 9), 'alice');
    expect(await reports.latestReport()).toMatchObject(report(T0 + 60_000, 2));
    expect((await reports.listReports(undefined, 10)).map((x) => x.counts.done)).toEqual([2, 1]);
    expect((await reports.listReports(undefined, 1)).map((x) => x.counts.done)).toEqual([2]);
    expect(await reports.latestReport('alice')).toMatchObject(report(T0 + 30_000, 9));
    expect(await reports.listReports('bob', 10)).toEqual([]);
    // The summary is derived on read, never stored: a stored summary is ignored and recomputed.
    await reports.putReport({ ...report(T0 + 90_000, 3), summary: { bogus: true } as never });
    expect((await reports.latestReport())?.summary).toMatchObject({
      counts: { done: 3 },
      throughputPerHour: 0,
    });
    const raw = await aws.doc.send(
      new GetCommand({
        TableName: cfg.tableName,
        Key: { pk: 'REPORTS#relay', sk: `AT#${new Date(T0 + 90_000).toISOString()}` },
      }),
    );
    expect(raw.Item?.report).toBeDefined();
    expect(raw.Item?.report.summary).toBeUndefined();
  });
});

describe('SqsJobQueue', () => {
  it('sends job ids in batches of ten and delays received messages', async () => {
    const cfg = await aws.fresh();
    const queue = new SqsJobQueue(aws.sqs, cfg.queueUrl);
    const ids = Array.from({ length: 23 }, (_, i) => `job-${i}`);
    await queue.enqueue(ids);
    const got: { body: string; receipt: string }[] = [];
    for (let i = 0; i < 10 && got.length < 23; i++) {
      const out = await aws.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: cfg.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of out.Messages ?? []) got.push({ body: m.Body ?? '', receipt: m.ReceiptHandle ?? '' });
    }
    expect(got.map((m) => JSON.parse(m.body).jobId).sort()).toEqual([...ids].sort());
    // Delay one for 1 hour and make another visible at once.
    await queue.delay([
      { receiptHandle: got[0]?.receipt ?? '', delayS: 3600 },
      { receiptHandle: got[1]?.receipt ?? '', delayS: 0 },
    ]);
    const again = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: cfg.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const bodies = (again.Messages ?? []).map((m) => m.Body);
    expect(bodies).toContain(got[1]?.body);
    expect(bodies).not.toContain(got[0]?.body);
  });
});
