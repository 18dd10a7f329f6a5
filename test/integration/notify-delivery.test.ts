/**
 * The delivery use-case on dynalite with a fake clock and a recording sender (a small fake passed as an
 * argument): coalescing, the hourly cap, signatures during a rotation, idempotence, and the SSRF guard at
 * send time (every private spelling, and a DNS answer that switches to 127.0.0.1).
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import type { RelayConfig } from '../../shared/app/config.js';
import type { RelayLogger } from '../../shared/app/deps.js';
import { createNotifyServices } from '../../shared/app/notify-deps.js';
import { DynamoJobStore } from '../../shared/aws/dynamo-job-store.js';
import { DynamoOutageStore } from '../../shared/aws/dynamo-outage-store.js';
import { enqueueJobs } from '../../shared/jobs/enqueue.js';
import { currentKeyState } from '../../shared/jobs/key-state.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import { aesGcmCipher } from '../../shared/notify/cipher.js';
import {
  type DeliveryDeps,
  type DeliveryMessage,
  type NotifyServices,
  planJobEvent,
  processDelivery,
} from '../../shared/notify/deliver.js';
import { deliverDueDigests } from '../../shared/notify/digest.js';
import type { NotifyRequest } from '../../shared/notify/formats.js';
import { outageObservationOf, watchOutage } from '../../shared/notify/outage.js';
import { guardedSender, type SendResult } from '../../shared/notify/send.js';
import type { StoredTarget } from '../../shared/notify/store.js';
import { parseTargetConfig } from '../../shared/notify/targets.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness, receiveEvent } from '../support/engines-pipeline.js';
import { ManualClock } from '../unit/jobs/fakes.js';

let aws: TestAws;
const quiet: RelayLogger = { debug() {}, info() {}, warn() {}, error() {} } as unknown as RelayLogger;

beforeAll(async () => {
  aws = await startTestAws();
});
afterAll(async () => {
  await aws?.close();
});

interface World {
  deps: DeliveryDeps;
  jobs: DynamoJobStore;
  clock: ManualClock;
  sent: NotifyRequest[];
  notify: NotifyServices;
  target(config: unknown): Promise<StoredTarget>;
  /** Creates a job and ends it at the clock's time. */
  end(name: string, status: 'done' | 'failed', code?: string): Promise<JobRecord>;
  /** Runs a message until it settles (following `later` steps with the clock), returning the steps. */
  drain(messages: DeliveryMessage[]): Promise<string[]>;
}

async function world(
  opts: { maxPerHour?: number; answer?: (r: NotifyRequest) => SendResult } = {},
): Promise<World> {
  const config: RelayConfig = await aws.fresh();
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 10, 0, 5));
  const sent: NotifyRequest[] = [];
  const jobs = new DynamoJobStore(aws.doc, config.tableName);
  const key = randomBytes(32);
  const notify = createNotifyServices(
    { ...config, notify: { ...config.notify, maxPerHour: opts.maxPerHour ?? 30 } },
    aws.doc,
    clock,
    {
      cipher: aesGcmCipher(async () => key),
      send: async (request) => {
        sent.push(request);
        return opts.answer?.(request) ?? { answer: { kind: 'http', status: 200 }, body: 'ok' };
      },
      queue: { send: async () => {} },
    },
  );
  const deps: DeliveryDeps = { notify, store: jobs, clock, logger: quiet };
  let n = 0;
  return {
    deps,
    jobs,
    clock,
    sent,
    notify,
    async target(input) {
      const t: StoredTarget = {
        id: `ntf_${String(++n).padStart(20, '0')}`,
        userId: 'u1',
        config: parseTargetConfig(input),
        createdAt: new Date(clock.now()).toISOString(),
      };
      await notify.targets.putTarget(t);
      return t;
    },
    async end(name, status, code = 'notFound') {
      const id = `job_${name}`;
      await jobs.createJob(
        {
          id,
          userId: 'u1',
          url: `https://files.example.com/${name}`,
          folder: '',
          source: 'api',
          notify: true,
        },
        clock.now(),
      );
      return jobs.transition(
        id,
        { status: 'queued' },
        status === 'done'
          ? { status, fileUrl: `https://1fichier.com/?${name}` }
          : { status, error: { code, message: `${code} for ${name}` } },
        clock.now(),
      );
    },
    async drain(messages) {
      const out: string[] = [];
      for (const m of messages) {
        const step = await processDelivery(m, deps);
        out.push(step.kind === 'settled' ? step.status : 'later');
      }
      return out;
    },
  };
}

describe('coalescing (chat and push targets)', () => {
  it('folds 5 failures within a minute into one "5 uploads failed" message, sent when the window closes', async () => {
    const w = await world();
    await w.target({ type: 'ntfy', topic: 'relay-test', server: 'https://ntfy.example.com' });
    const messages: DeliveryMessage[] = [];
    for (const [i, code] of ['notFound', 'notFound', 'notFound', 'rejected', 'notFound'].entries()) {
      messages.push(...(await planJobEvent(await w.end(`f${i}.bin`, 'failed', code), w.deps)));
      w.clock.advance(5_000);
    }
    expect(await w.drain(messages)).toEqual(['later', 'later', 'later', 'later', 'later']);
    expect(w.sent).toHaveLength(0);

    w.clock.t = Date.UTC(2026, 2, 1, 10, 1, 0) + 1;
    expect(await w.drain(messages)).toEqual([
      'delivered',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    expect(w.sent).toHaveLength(1);
    const body = JSON.parse(w.sent[0]!.body) as { title: string; message: string };
    expect(body.title).toBe('5 uploads failed');
    expect(body.message).toContain('4 × notFound, 1 × rejected');
  });

  it('sends each failure on its own to a machine target (webhook): programs need every job id', async () => {
    const w = await world();
    await w.target({ type: 'webhook', url: 'https://hooks.example.com/in' });
    const messages: DeliveryMessage[] = [];
    for (const i of [1, 2, 3])
      messages.push(...(await planJobEvent(await w.end(`m${i}.bin`, 'failed'), w.deps)));
    expect(await w.drain(messages)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(w.sent.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual([
      'job.failed',
      'job.failed',
      'job.failed',
    ]);
  });
});

describe('hourly cap', () => {
  it('holds back messages over NOTIFY_MAX_PER_HOUR and says how many were skipped once a slot frees', async () => {
    const w = await world({ maxPerHour: 3 });
    await w.target({ type: 'ntfy', topic: 'relay-cap', server: 'https://ntfy.example.com' });
    const steps: string[] = [];
    for (const i of [1, 2, 3, 4, 5]) {
      steps.push(...(await w.drain(await planJobEvent(await w.end(`c${i}.bin`, 'done'), w.deps))));
      w.clock.advance(60_000);
    }
    expect(steps).toEqual(['delivered', 'delivered', 'delivered', 'suppressed', 'suppressed']);
    expect(w.sent).toHaveLength(3);

    w.clock.advance(60 * 60_000);
    expect(await w.drain(await planJobEvent(await w.end('c6.bin', 'done'), w.deps))).toEqual(['delivered']);
    expect((JSON.parse(w.sent[3]!.body) as { message: string }).message).toContain(
      '2 earlier notifications were skipped: hourly limit reached',
    );
    const log = await w.notify.deliveries.listDeliveries('u1', { limit: 10 });
    expect(log.filter((d) => d.status === 'suppressed')).toHaveLength(2);
  });
});

describe('signatures and idempotence', () => {
  it('signs with both secrets during the 24 h after a rotation, each verifying on its own, then with the new one only', async () => {
    const w = await world();
    await w.target({ type: 'webhook', url: 'https://hooks.example.com/in' });
    const old = (
      await w.notify.secrets.getOrCreate('u1', () => `whsec_${randomBytes(32).toString('base64')}`)
    ).current;
    const fresh = `whsec_${randomBytes(32).toString('base64')}`;
    expect(await w.notify.secrets.rotate('u1', old, fresh, w.clock.now())).toBe(true);
    expect(await w.notify.secrets.rotate('u1', old, 'whsec_lost', w.clock.now())).toBe(false);

    await w.drain(await planJobEvent(await w.end('r1.bin', 'done'), w.deps));
    const [during] = w.sent;
    expect(during!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    // The library's own signer, at the attempt's timestamp (its verify reads the wall clock, not ours).
    const expected = (secret: string, r: NotifyRequest) =>
      new Webhook(secret).sign(
        r.headers['webhook-id']!,
        new Date(Number(r.headers['webhook-timestamp']) * 1000),
        r.body,
      );
    const entries = during!.headers['webhook-signature']!.split(' ');
    expect(entries).toEqual([expected(fresh, during!), expected(old, during!)]);

    w.clock.advance(24 * 3_600_000 + 1);
    await w.drain(await planJobEvent(await w.end('r2.bin', 'done'), w.deps));
    const after = w.sent[1]!;
    expect(after.headers['webhook-signature']).toBe(expected(fresh, after));
  });

  it('sends a message once even when its queue message comes twice', async () => {
    const w = await world();
    await w.target({ type: 'webhook', url: 'https://hooks.example.com/in' });
    const messages = await planJobEvent(await w.end('twice.bin', 'done'), w.deps);
    expect(await w.drain([...messages, ...messages])).toEqual(['delivered', 'duplicate']);
    expect(w.sent).toHaveLength(1);
  });

  it('retries a 503 with backoff and records the attempt count and last answer', async () => {
    let calls = 0;
    const w = await world({
      answer: () => ({ answer: { kind: 'http', status: ++calls === 1 ? 503 : 200 } }),
    });
    await w.target({ type: 'webhook', url: 'https://hooks.example.com/in' });
    const [message] = await planJobEvent(await w.end('retry.bin', 'done'), w.deps);
    const first = await processDelivery(message!, w.deps);
    expect(first.kind).toBe('later');
    if (first.kind !== 'later') return;
    expect(first.delayS).toBeGreaterThanOrEqual(10);
    const [pending] = await w.notify.deliveries.listDeliveries('u1', { limit: 1 });
    expect(pending).toMatchObject({ status: 'retrying', attempts: 1, lastStatus: 503 });
    w.clock.advance(first.delayS * 1000);
    expect(await processDelivery(first.message, w.deps)).toEqual({ kind: 'settled', status: 'delivered' });
    expect(w.sent[0]!.headers['webhook-id']).toBe(w.sent[1]!.headers['webhook-id']);
    const [done] = await w.notify.deliveries.listDeliveries('u1', { limit: 1 });
    expect(done).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 });
  });
});

describe('the SSRF guard at send time', () => {
  const send = guardedSender({ allowPrivate: false });
  const request = (url: string): NotifyRequest => ({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    messageId: 'msg_x',
    signed: false,
  });

  it.each([
    'http://127.0.0.1/hook',
    'http://2130706433/hook',
    'http://0x7f.1/hook',
    'http://0177.0.0.1/hook',
    'http://[::1]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://10.0.0.1/hook',
    'http://192.168.1.10/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://localhost/hook',
    'http://[fd00::1]/hook',
  ])('refuses %s without sending', async (url) => {
    const result = await send(request(url), { operation: 'webhook delivery' });
    expect(result.answer.kind).toBe('blocked');
  });

  it('refuses a public-looking name whose DNS answer switches to 127.0.0.1 (rebinding)', async () => {
    // The name answered a public address when the target was created; now it answers loopback. The guard
    // checks the answer it connects with and pins the socket to it, so the switch is caught at send time.
    const rebinding = guardedSender({
      allowPrivate: false,
      fetchOptions: { lookup: async () => [{ address: '127.0.0.1', family: 4 }] },
    });
    const result = await rebinding(request('http://hooks.rebind.example/in'), {
      operation: 'webhook delivery',
    });
    expect(result.answer).toMatchObject({ kind: 'blocked' });
    expect(result.error).toContain('127.0.0.1');
  });

  it('records a refused target as failed, not retried', async () => {
    const w = await world({
      answer: () => ({ answer: { kind: 'blocked', reason: '10.0.0.1 is a private network address' } }),
    });
    await w.target({ type: 'webhook', url: 'http://10.0.0.1/in' });
    expect(await w.drain(await planJobEvent(await w.end('ssrf.bin', 'done'), w.deps))).toEqual(['failed']);
  });
});

describe('outages', () => {
  it('sends exactly one problem and one recovered message per outage, however many cycles and jobs', async () => {
    const config = await aws.fresh();
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 9, 0, 0));
    const queued: DeliveryMessage[] = [];
    const notify = createNotifyServices(config, aws.doc, clock, {
      cipher: aesGcmCipher(async () => randomBytes(32)),
      queue: { send: async (items) => void queued.push(...items.map((i) => i.message)) },
    });
    const put = (id: string, input: unknown) =>
      notify.targets.putTarget({
        id,
        userId: id.startsWith('ntf_a') ? 'alice' : 'bob',
        config: parseTargetConfig(input),
        createdAt: new Date(clock.now()).toISOString(),
      });
    await put('ntf_a0000000000000000000', { type: 'webhook', url: 'https://hooks.example.com/a' });
    await put('ntf_b0000000000000000000', {
      type: 'ntfy',
      topic: 'bob-alerts',
      server: 'https://ntfy.example.com',
      events: ['outage'],
    });
    await put('ntf_b1111111111111111111', {
      type: 'ntfy',
      topic: 'bob-jobs',
      server: 'https://ntfy.example.com',
      events: ['job.done'],
    });
    const deps = { notify, outages: new DynamoOutageStore(aws.doc, config.tableName) };
    const pacer = (circuitOpen: boolean) => ({
      keyId: 'k',
      lastCallAt: 0,
      pausedUntil: 0,
      floodCount: 0,
      circuitOpen,
      ...(circuitOpen ? { circuitReason: 'Not authenticated #100' } : {}),
    });

    // 30 cycles with the circuit open, then 10 cycles (5 min) clear: one problem, then one recovered.
    for (let i = 0; i < 30; i++) {
      await watchOutage(outageObservationOf(pacer(true), clock.now()), deps);
      clock.advance(30_000);
    }
    for (let i = 0; i < 12; i++) {
      await watchOutage(outageObservationOf(pacer(false), clock.now()), deps);
      clock.advance(30_000);
    }
    const states = queued.map(
      (m) => `${m.to.kind === 'target' ? m.to.id : ''}:${(m.event.data as { state: string }).state}`,
    );
    expect(states.sort()).toEqual([
      'ntf_a0000000000000000000:problem',
      'ntf_a0000000000000000000:recovered',
      'ntf_b0000000000000000000:problem',
      'ntf_b0000000000000000000:recovered',
    ]);
  });
});

describe('queue age', () => {
  it('a job that waited over an hour, seen by a worker, sends one problem; once no long wait is seen, one recovered', async () => {
    const config = await aws.fresh();
    const h = harness(config);
    const queued: DeliveryMessage[] = [];
    const notify = createNotifyServices(config, aws.doc, h.clock, {
      cipher: aesGcmCipher(async () => randomBytes(32)),
      queue: { send: async (items) => void queued.push(...items.map((i) => i.message)) },
    });
    await notify.targets.putTarget({
      id: 'ntf_a0000000000000000000',
      userId: 'alice',
      config: parseTargetConfig({ type: 'webhook', url: 'https://hooks.example.com/a', events: ['outage'] }),
      createdAt: new Date(h.clock.now()).toISOString(),
    });
    const deps = { notify, outages: new DynamoOutageStore(aws.doc, config.tableName) };
    const createdAt = h.clock.now();
    await enqueueJobs(
      { userId: 'alice', source: 'api', requests: [{ url: 'https://files.example/late.bin', folder: '' }] },
      h.deps,
    );
    const { keyId } = await currentKeyState(h.deps);
    const watch = async () =>
      watchOutage(outageObservationOf(await h.deps.pacer.state(keyId), h.clock.now()), deps);

    // Nothing has been seen waiting: no cause.
    expect(await watch()).toBeUndefined();
    // Two hours later a worker finally receives the message: it notes the wait on the pacer item.
    h.clock.advance(2 * 3_600_000);
    await createWorkerHandler(h.deps)(await receiveEvent(aws.sqs, config.queueUrl, 1));
    expect((await h.deps.pacer.state(keyId)).oldestWaiting).toEqual({
      createdAt,
      seenAt: h.clock.now(),
    });
    const problem = await watch();
    expect(problem).toMatchObject({ state: 'problem', causes: ['queueAge'] });
    // The poller's report says how long the oldest job waited.
    await createPollerHandler(h.deps)({});
    expect((await h.deps.reports.latestReport())?.summary?.queue.oldestWaitingS).toBe(7200);

    // Nobody sees a long wait any more: the note goes stale, the watch recovers once, after its quiet time.
    const notices = [];
    for (let i = 0; i < 60; i++) {
      h.clock.advance(60_000);
      const notice = await watch();
      if (notice) notices.push(notice.state);
    }
    expect(notices).toEqual(['recovered']);
    expect(queued.map((m) => (m.event.data as { state: string }).state)).toEqual(['problem', 'recovered']);
  });
});

describe('report digests', () => {
  it('sends an hourly digest of the hour to a target that asks for one, once, and nothing to others', async () => {
    const queued: DeliveryMessage[] = [];
    const w = await world();
    const deps = {
      ...w.deps,
      notify: {
        ...w.notify,
        queue: {
          send: async (items: readonly { message: DeliveryMessage }[]) =>
            void queued.push(...items.map((i) => i.message)),
        },
      },
      lookBackMs: 120_000,
    };
    await w.target({
      type: 'ntfy',
      topic: 'relay-digest',
      server: 'https://ntfy.example.com',
      digest: 'hourly',
      events: ['job.failed'],
    });
    await w.target({ type: 'ntfy', topic: 'relay-nodigest', server: 'https://ntfy.example.com' });
    w.clock.t = Date.UTC(2026, 2, 1, 10, 15);
    await w.end('d1.bin', 'done');
    await w.end('d2.bin', 'done');
    w.clock.t = Date.UTC(2026, 2, 1, 10, 40);
    await w.end('d3.bin', 'failed', 'rejected');

    w.clock.t = Date.UTC(2026, 2, 1, 10, 59);
    expect(await deliverDueDigests(deps)).toBe(0);
    w.clock.t = Date.UTC(2026, 2, 1, 11, 0, 30);
    expect(await deliverDueDigests(deps)).toBe(1);
    expect(queued[0]!.event).toMatchObject({
      type: 'report',
      data: { digest: 'hourly', done: 2, failed: 1 },
    });

    expect(await w.drain(queued)).toEqual(['delivered']);
    const body = JSON.parse(w.sent[0]!.body) as { title: string; message: string };
    expect(body.title).toBe('Hourly report: 2 done, 1 failed');
    expect(body.message).toContain('1 × rejected');

    // The next cycle looks back over 11:00 again: already recorded, so nothing is queued twice.
    w.clock.t = Date.UTC(2026, 2, 1, 11, 1, 30);
    expect(await deliverDueDigests(deps)).toBe(0);
  });
});

describe('one retry chain per message', () => {
  it('keeps the other failures of a window watching while the first retries, and lets one take over a lost carrier', async () => {
    const w = await world({ answer: () => ({ answer: { kind: 'http', status: 503 } }) });
    await w.target({ type: 'ntfy', topic: 'relay-down', server: 'https://ntfy.example.com' });
    const messages: DeliveryMessage[] = [];
    for (const i of [1, 2, 3])
      messages.push(...(await planJobEvent(await w.end(`w${i}.bin`, 'failed'), w.deps)));
    w.clock.t = Date.UTC(2026, 2, 1, 10, 1, 1);
    const steps = [];
    for (const m of messages) steps.push(await processDelivery(m, w.deps));
    expect(w.sent).toHaveLength(1);
    expect(
      steps.map((s) => (s.kind === 'later' ? (s.message.watch === undefined ? 'retry' : 'watch') : s.status)),
    ).toEqual(['retry', 'watch', 'watch']);

    // The carrier is lost (a crash): past its due time plus the grace, one watcher takes over, the other
    // sees the progress and keeps watching.
    w.clock.advance(3_600_000);
    const [, a, b] = steps as Extract<(typeof steps)[number], { kind: 'later' }>[];
    const takeover = await processDelivery(a!.message, w.deps);
    expect(w.sent).toHaveLength(2);
    expect(takeover.kind === 'later' && takeover.message.watch === undefined).toBe(true);
    const other = await processDelivery(b!.message, w.deps);
    expect(other.kind === 'later' && other.message.watch).toBe(2);
    expect(w.sent).toHaveLength(2);
  });
});
