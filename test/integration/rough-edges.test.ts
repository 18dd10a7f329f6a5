/**
 * The real 1fichier's rough edges, each turned on in the sandbox, against the whole relay path: the worker
 * and the poller over dynalite, fauxqs, the DynamoDB pacer and the undici client. Each test asserts what
 * a user sees (every job `done`, each URL submitted once) and would fail on a relay that retries a gateway
 * error blindly, fails jobs on an odd answer, or stops its poll on one odd entry.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxFaults, SandboxHandle } from '../../infra/sandbox/server.js';
import { keyIdOf } from '../../shared/fichier/memory-pacer.js';
import type { JobRecord } from '../../shared/jobs/store.js';
import type { TestAws } from '../support/engines.js';
import type { FileServer } from '../support/runtime.js';
import {
  type SandboxRelay,
  type SandboxRelayOptions,
  type SandboxRelayWorld,
  sandboxRelay,
  shiftedClock,
  startSandboxRelayWorld,
} from '../support/sandbox-relay.js';
import { shownJobs } from '../support/shown.js';

let aws: TestAws;
let sandbox: SandboxHandle;
let files: FileServer;
let run = 0;

let world: SandboxRelayWorld;
beforeAll(async () => {
  world = await startSandboxRelayWorld({ rate: 200, floodLockMs: 200 });
  ({ aws, sandbox, files } = world);
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  sandbox.resetFaults();
  sandbox.resetStats();
  run += 1;
});

const relay = (opts: SandboxRelayOptions = {}) =>
  sandboxRelay({ aws, sandbox, filesOrigin: `${files.origin}/files`, namePrefix: `r${run}-`, ...opts });

const submissionsOf = (jobs: JobRecord[]) => jobs.map((j) => sandbox.stats().submissions[j.url] ?? 0);
const faults = (f: SandboxFaults) => sandbox.setFaults(f);
const pacerState = (r: SandboxRelay) => r.deps.pacer.state(keyIdOf(sandbox.keys.premium));

describe('the real 1fichier’s rough edges, end to end against the sandbox', () => {
  it('a 502 page after 1fichier created the request: one submission, and the jobs end done', async () => {
    const r = await relay();
    faults({ forceHtmlAfterCreate: 1, paths: ['remote/request.cgi'] });
    const ids = await r.enqueue(['a.bin', 'b.bin', 'c.bin']);
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done', 'done']);
    expect(submissionsOf(jobs)).toEqual([1, 1, 1]);
    expect(sandbox.stats().htmlAfterCreate).toBe(1);
  });

  it('an HTML 403 pauses the key without splitting the batch, and every job ends done', async () => {
    const r = await relay();
    faults({ forceHtmlError: 1, htmlErrorStatus: 403, paths: ['remote/request.cgi'] });
    const ids = await r.enqueue(['a.bin', 'b.bin', 'c.bin']);
    await r.work();
    // The whole batch waits: one refused call, no single-URL retries into a locked IP.
    expect(sandbox.stats().requests['remote/request.cgi']).toBe(1);
    expect((await pacerState(r)).floodCount).toBe(1);
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done', 'done']);
    expect(sandbox.stats().requests['remote/request.cgi']).toBe(2);
    expect(submissionsOf(jobs)).toEqual([1, 1, 1]);
  });

  it('an unknown KO leaves the jobs waiting with the reason, then done once 1fichier answers OK', async () => {
    const r = await relay();
    faults({ forceUnknownKo: 2, paths: ['remote/request.cgi'] });
    const ids = await r.enqueue(['a.bin', 'b.bin']);
    await r.work();
    const waiting = await shownJobs(r.deps, ids);
    expect(waiting.map((j) => j.status)).toEqual(['queued', 'queued']);
    expect(waiting[0]?.waitReason).toMatch(/#913 Premium status/);
    expect(waiting[0]?.unknownAnswer?.count).toBe(1);
    expect(waiting[0]?.nextAttemptAt).toBeGreaterThan(Date.now());
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
    expect(sandbox.stats().requests['remote/request.cgi']).toBe(3);
    expect(submissionsOf(jobs)).toEqual([1, 1]);
  });

  it('the same unknown answer for longer than FICHIER_UNKNOWN_GIVE_UP_S fails the job with that answer', async () => {
    const r = await relay({ retry: { unknownGiveUpS: 1, unknownBackoffMs: 300 } });
    faults({ forceUnknownKo: 100, paths: ['remote/request.cgi'] });
    const ids = await r.enqueue(['a.bin']);
    const [job] = await r.drive(ids);
    expect(job?.status).toBe('failed');
    expect(job?.error?.code).toBe('unknownAnswer');
    expect(job?.error?.message).toMatch(/#913 Premium status/);
    expect(submissionsOf([job as JobRecord])).toEqual([0]);
  });

  it('odd entries in remote/ls.cgi and remote/info.cgi: the other requests’ jobs still end done', async () => {
    const r = await relay();
    faults({ oddEntries: true });
    const ids = await r.enqueue(['a.bin', 'b.bin', 'c.bin', 'd.bin', 'e.bin', 'f.bin', 'g.bin']);
    const jobs = await r.drive(ids);
    expect(jobs.every((j) => j.status === 'done' && j.fileUrl)).toBe(true);
    expect(r.logger.lines.some((l) => l.message === 'fichier answer entry skipped')).toBe(true);
  });

  it('a listing cut to the newest request never causes a second submission; the job is found once listed', async () => {
    const r = await relay();
    // The first request is created but answered 502; later ones push it off a listing of one entry.
    faults({ forceHtmlAfterCreate: 1, lsNewest: 1, paths: ['remote/request.cgi', 'remote/ls.cgi'] });
    const [lost] = await r.enqueue(['lost.bin']);
    await r.work();
    const others = await r.enqueue(['n1.bin']);
    await r.work();
    const more = await r.enqueue(['n2.bin']);
    await r.work();
    // Well past the lease, over several cycles: the lost job waits, never sent again (and n1's request,
    // off the listing too, waits to be listed).
    for (let i = 0; i < 30; i++) {
      await r.work();
      await r.poller();
      await sleep(150);
    }
    const [waiting] = await shownJobs(r.deps, [lost as string]);
    expect(waiting?.status).toBe('submitting');
    expect(submissionsOf([waiting as JobRecord])).toEqual([1]);
    expect((await shownJobs(r.deps, more)).map((j) => j.status)).toEqual(['done']);

    sandbox.resetFaults();
    const all = await r.drive([lost as string, ...others, ...more]);
    expect(all.map((j) => j.status)).toEqual(['done', 'done', 'done']);
    expect(submissionsOf(all)).toEqual([1, 1, 1]);
  });

  it('a request dated in the repeated hour of the October DST change is found: no second submission', async () => {
    // 2026-10-25 00:20 UTC is 02:20 CEST; an hour later 02:20 comes again, in CET. Read with one offset, the
    // date lands an hour away from the attempt.
    const shift = Date.parse('2026-10-25T00:20:00Z') - Date.now();
    faults({
      dateShiftMs: shift,
      forceHtmlAfterCreate: 1,
      paths: ['remote/request.cgi', 'remote/ls.cgi', 'remote/info.cgi'],
    });
    const r = await relay({ clock: shiftedClock(shift) });
    const ids = await r.enqueue(['dst.bin', 'dst2.bin']);
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
    expect(submissionsOf(jobs)).toEqual([1, 1]);
    expect(jobs[0]?.attempts).toBe(1);
  });

  it('dates at a fixed UTC+1 in summer (an hour behind Paris) are matched: no second submission', async () => {
    const shift = Date.parse('2026-07-14T10:00:00Z') - Date.now();
    faults({
      dateShiftMs: shift,
      datesFixedUtcPlus1: true,
      forceHtmlAfterCreate: 1,
      paths: ['remote/request.cgi', 'remote/ls.cgi', 'remote/info.cgi'],
    });
    const r = await relay({ clock: shiftedClock(shift) });
    const ids = await r.enqueue(['summer.bin']);
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done']);
    expect(submissionsOf(jobs)).toEqual([1]);
  });

  it('numbers sent as strings everywhere: the jobs still end done with their links', async () => {
    const r = await relay();
    faults({ numbersAsStrings: true });
    const ids = await r.enqueue(['s1.bin', 's2.bin']);
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
    expect(jobs.every((j) => typeof j.remoteId === 'number')).toBe(true);
  });

  it('a plain-text IP lock pauses every call for the key, then the jobs end done', async () => {
    const r = await relay();
    faults({ forcePlainIpLock: 1, paths: ['remote/request.cgi'] });
    const ids = await r.enqueue(['p1.bin', 'p2.bin']);
    await r.work();
    // The IP-lock pause (3 s here, 1 h by default), not the flood pause (1.5 s here).
    expect((await pacerState(r)).pausedUntil - Date.now()).toBeGreaterThan(2000);
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
    expect(submissionsOf(jobs)).toEqual([1, 1]);
  });
});
