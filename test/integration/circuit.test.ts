/**
 * The auth circuit closes: by the half-open probe (user/info.cgi within its limit) once the key works, or
 * by an operator's reset; `No such user #93` waits for a person. Against the sandbox, over the whole path.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateSandboxKey, type SandboxHandle } from '../../infra/sandbox/server.js';
import { keyIdOf } from '../../shared/fichier/memory-pacer.js';
import type { TestAws } from '../support/engines.js';
import type { FileServer } from '../support/runtime.js';
import {
  RELAY_TEST_TOKEN,
  type SandboxRelayOptions,
  type SandboxRelayWorld,
  sandboxRelay,
  startSandboxRelayWorld,
} from '../support/sandbox-relay.js';

let aws: TestAws;
let sandbox: SandboxHandle;
let files: FileServer;
let run = 0;

let world: SandboxRelayWorld;
beforeAll(async () => {
  world = await startSandboxRelayWorld({ rate: 200, userInfoMinIntervalMs: 0, userInfoKeyMinIntervalMs: 0 });
  ({ aws, sandbox, files } = world);
});
afterAll(async () => {
  await world?.close();
});
beforeEach(() => {
  sandbox.resetStats();
  run += 1;
});

const relay = (opts: SandboxRelayOptions = {}) =>
  sandboxRelay({
    aws,
    sandbox,
    filesOrigin: `${files.origin}/files`,
    namePrefix: `c${run}-`,
    config: { circuitProbeS: 1 },
    ...opts,
  });
const userInfoCalls = () => sandbox.stats().requests['user/info.cgi'] ?? 0;

describe('the auth circuit', () => {
  it('is probed with user/info.cgi after FICHIER_CIRCUIT_PROBE_S, closes when the key works, and queued jobs go on', async () => {
    const r = await relay();
    const keyId = keyIdOf(sandbox.keys.premium);
    await r.deps.pacer.recordAuthFailure(keyId, 'Not authenticated #247');
    const ids = await r.enqueue(['a.bin', 'b.bin']);
    await r.work();
    expect((await r.jobs(ids)).map((j) => j.status)).toEqual(['queued', 'queued']);

    await r.poller(); // too early: no probe yet
    expect(userInfoCalls()).toBe(0);
    await sleep(1100);
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done', 'done']);
    expect((await r.deps.pacer.state(keyId)).circuitOpen).toBe(false);
    expect(userInfoCalls()).toBe(1);
    expect(r.logger.lines.some((l) => /circuit closed/.test(l.message))).toBe(true);
  });

  it('stays open after a failed probe, and probes again only after another interval', async () => {
    const wrongKey = generateSandboxKey();
    const r = await relay({ fichierApiKey: wrongKey });
    const ids = await r.enqueue(['w.bin']);
    await r.work(); // 401 Not authenticated: the circuit opens, the job waits queued
    const keyId = keyIdOf(wrongKey);
    const opened = await r.deps.pacer.state(keyId);
    expect(opened.circuitOpen).toBe(true);
    expect(opened.circuitReason).toMatch(/Not authenticated/);

    await sleep(1100);
    await r.poller();
    expect(userInfoCalls()).toBe(1);
    await r.poller();
    expect(userInfoCalls()).toBe(1);
    const after = await r.deps.pacer.state(keyId);
    expect(after.circuitOpen).toBe(true);
    expect(after.circuitProbedAt).toBeGreaterThan(opened.circuitOpenedAt ?? 0);
    expect((await r.jobs(ids))[0]?.status).toBe('queued');
  });

  it('"No such user #93" is never probed; its reason says what to do; an operator reset closes it', async () => {
    const r = await relay();
    const keyId = keyIdOf(sandbox.keys.premium);
    await r.deps.pacer.recordAuthFailure(keyId, 'No such user #93: log in to 1fichier…', { manual: true });
    const ids = await r.enqueue(['m.bin']);
    await r.work();
    await sleep(1100);
    await r.poller();
    expect(userInfoCalls()).toBe(0);

    const refused = await r.app.request('/admin/circuit/reset', { method: 'POST' });
    expect(refused.status).toBe(401);
    const res = await r.app.request('/admin/circuit/reset', {
      method: 'POST',
      headers: { authorization: `Bearer ${RELAY_TEST_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ circuit: 'closed', wasOpen: true, requeued: 1 });
    const jobs = await r.drive(ids);
    expect(jobs.map((j) => j.status)).toEqual(['done']);
  });

  it('a real "No such user" answer opens a circuit only a person can close, with the steps in its reason', async () => {
    const r = await relay();
    sandbox.setFaults({ forceUnknownKo: 1, unknownKoMessage: 'No such user #93', unknownKoHttpStatus: 403 });
    await r.enqueue(['n.bin']);
    await r.work();
    sandbox.resetFaults();
    const state = await r.deps.pacer.state(keyIdOf(sandbox.keys.premium));
    expect(state.circuitOpen).toBe(true);
    expect(state.circuitManual).toBe(true);
    expect(state.circuitReason).toMatch(/No such user #93.*create a new API key/);
  });
});
