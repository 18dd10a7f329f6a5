/**
 * The sandbox's rate limit (docs/1fichier-api.md, "Rate limits") and flood locks (§3.3): per key and per client IP.
 * Each test starts its own sandbox, because a lock on 127.0.0.1 would leak into the next test.
 * A second client IP is 127.0.0.2 connecting to the sandbox on 127.0.0.1.
 */
import type { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import { agentFrom, callApi, koSchema, waitFor } from '../support/sandbox-helpers.js';

const FLOOD = { status: 'KO', message: 'Flood detected: IP Locked #412' };
const KEY_A = 'flood-key-aaaaaaaaaaaaaaaaaaaaaaaa';
const KEY_B = 'flood-key-bbbbbbbbbbbbbbbbbbbbbbbb';

const opened: Array<SandboxHandle | Agent> = [];
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
});

async function sandboxWith(rate: number, floodLockMs: number): Promise<SandboxHandle> {
  const sandbox = await startSandbox({
    port: 0,
    rate,
    floodLockMs,
    keys: [
      { key: KEY_A, tier: 'premium' },
      { key: KEY_B, tier: 'premium' },
    ],
  });
  opened.push(sandbox);
  return sandbox;
}

/** Sends `n` remote/ls.cgi calls at once and returns their HTTP statuses. */
async function burst(sandbox: SandboxHandle, key: string | undefined, n: number): Promise<number[]> {
  const answers = await Promise.all(
    Array.from({ length: n }, () => callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, key)),
  );
  for (const a of answers) if (a.status === 403) expect(a.json).toEqual(FLOOD);
  return answers.map((a) => a.status);
}

describe('rate limit and flood locks', () => {
  it('answers 403 "Flood detected: IP Locked #412" past the rate and counts the lock', async () => {
    const sandbox = await sandboxWith(2, 60_000);
    const statuses = await burst(sandbox, KEY_A, 6);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(2);
    expect(statuses).toContain(403);
    const stats = sandbox.stats();
    expect(stats.floodLocks).toBeGreaterThanOrEqual(1);
    expect(stats.floodAnswers).toBe(statuses.filter((s) => s === 403).length);
  });

  it('keeps answering the flood 403 during the lock, then lifts it after floodLockMs', async () => {
    const sandbox = await sandboxWith(1, 1500);
    expect(await burst(sandbox, KEY_A, 3)).toContain(403);
    const locked = await callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, KEY_A);
    expect(locked).toEqual({ status: 403, json: FLOOD });

    await waitFor(
      async () =>
        (await callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, KEY_A)).status === 200 ? true : undefined,
      'the flood lock to lift',
      10_000,
      250,
    );
  });

  it('locks both the key (from any IP) and the IP (for any key)', async () => {
    const sandbox = await sandboxWith(1, 60_000);
    const otherIp = agentFrom('127.0.0.2');
    opened.push(otherIp);
    expect(await burst(sandbox, KEY_A, 3)).toContain(403);

    const keyElsewhere = await callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, KEY_A, { dispatcher: otherIp });
    expect(keyElsewhere).toEqual({ status: 403, json: FLOOD });
    const otherKeySameIp = await callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, KEY_B);
    expect(otherKeySameIp).toEqual({ status: 403, json: FLOOD });
    const otherKeyOtherIp = await callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, KEY_B, {
      dispatcher: otherIp,
    });
    expect(otherKeyOtherIp.status).toBe(200);
  });

  it('locks an IP that floods without a valid key', async () => {
    const sandbox = await sandboxWith(1, 60_000);
    const statuses = await burst(sandbox, undefined, 3);
    expect(statuses).toContain(401);
    expect(statuses).toContain(403);
    const withKey = await callApi(sandbox.baseUrl, 'remote/ls.cgi', {}, KEY_A);
    expect(withKey).toEqual({ status: 403, json: FLOOD });
  });

  it('takes a rate override from the faults and lets requests under the rate through', async () => {
    const sandbox = await sandboxWith(1, 60_000);
    sandbox.setFaults({ rate: 1000 });
    expect(await burst(sandbox, KEY_A, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(sandbox.stats().floodLocks).toBe(0);
  });

  it('answers user/info.cgi once per interval per key with a flood-style 403 KO in between', async () => {
    // No per-IP interval, so only the per-key one refuses the second call.
    const sandbox = await startSandbox({
      port: 0,
      rate: 1000,
      userInfoMinIntervalMs: 0,
      userInfoKeyMinIntervalMs: 60_000,
    });
    opened.push(sandbox);
    const first = await callApi(sandbox.baseUrl, 'user/info.cgi', {}, sandbox.keys.premium);
    expect(first.status).toBe(200);
    const second = await callApi(sandbox.baseUrl, 'user/info.cgi', {}, sandbox.keys.premium);
    expect(second.status).toBe(403);
    expect(koSchema.parse(second.json).message).toMatch(/^Flood detected/);
    expect(sandbox.stats().floodAnswers).toBe(1);
  });
});
