/**
 * The chaos scenario in `npm test`: 120 jobs through the local runtime while the sandbox injects 5xx,
 * resets, held requests, slow answers and a flood burst, the worker and poller crash, SQS delivers
 * duplicates, and the runtime is stopped once and killed once. `npm run chaos` runs the same with 1,000
 * jobs.
 */
import { describe, expect, it } from 'vitest';
import { type ChaosResult, formatInvariants, runChaos } from './scenario.js';

describe('chaos: faults, crashes, duplicates and a restart', () => {
  let result: ChaosResult | undefined;
  const run = async (): Promise<ChaosResult> => {
    result ??= await runChaos({ jobs: 120, deadlineMs: 100_000 });
    return result;
  };

  it('injects every kind of fault it claims to', { timeout: 150_000 }, async () => {
    const r = await run();
    console.log(`${r.timeline.join('\n')}\n${formatInvariants(r)}`);
    expect(r.injected.crashBeforeSubmit).toBeGreaterThan(0);
    expect(r.injected.crashAfterAccepted).toBeGreaterThan(0);
    expect(r.injected.crashDuringPoll).toBeGreaterThan(0);
    expect(r.injected.restarts).toBe(2);
    expect(r.injected.duplicateMessages).toBeGreaterThan(0);
    expect(r.injected.forcedFloods).toBeGreaterThan(0);
    expect(r.sandbox.faultsInjected).toBeGreaterThan(0);
  });

  it('ends every job terminal, failed only for the URLs designed to fail', { timeout: 150_000 }, async () => {
    const r = await run();
    for (const name of [
      'every job ends terminal',
      'failed only for the URLs designed to fail (404 sources), done for the others',
      'every failed job carries a reason',
    ]) {
      const inv = r.invariants.find((i) => i.name === name);
      expect(inv?.ok, `${name}: ${inv?.detail}`).toBe(true);
    }
  });

  it('submits no URL twice and loses no job', { timeout: 150_000 }, async () => {
    const r = await run();
    for (const name of ['0 URLs submitted twice to 1fichier', '0 jobs lost']) {
      const inv = r.invariants.find((i) => i.name === name);
      expect(inv?.ok, `${name}: ${inv?.detail}`).toBe(true);
    }
  });

  it('causes no flood lock beyond the injected ones', { timeout: 150_000 }, async () => {
    const r = await run();
    const inv = r.invariants.find((i) => i.name === '0 flood locks caused by us');
    expect(inv?.ok, inv?.detail).toBe(true);
  });
});
