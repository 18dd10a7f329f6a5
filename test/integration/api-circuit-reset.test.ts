/**
 * The API function's own composition root resets the auth circuit without the pacer: `POST
 * /admin/circuit/reset` reads and resets the pacer item that the worker's DynamoDB pacer wrote, and sends
 * the waiting jobs again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { createApiDeps } from '../../shared/app/api-deps.js';
import { MemoryMetrics } from '../../shared/app/metrics.js';
import { DynamoPacer } from '../../shared/aws/dynamo-pacer.js';
import { PacerItem } from '../../shared/aws/pacer-item.js';
import { keyIdOf } from '../../shared/fichier/key-id.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { CaptureLogger } from '../unit/jobs/fakes.js';

const KEY = 'api-reset-key-00000000000000000';
const TOKEN = 'fr_api-reset-token';
let aws: TestAws;

beforeAll(async () => {
  aws = await startTestAws();
});
afterAll(async () => {
  await aws?.close();
});

describe('POST /admin/circuit/reset on the API deps', () => {
  it('closes a circuit and ends a pause written by the DynamoDB pacer, then requeues the waiting job', async () => {
    // Prepare: the worker's pacer opened the circuit and paused the key; one job waits queued.
    const config = await aws.fresh({ fichierApiKey: KEY });
    const keyId = keyIdOf(KEY);
    const pacer = new DynamoPacer(aws.doc, config.tableName);
    await pacer.recordAuthFailure(keyId, 'Not authenticated #247');
    await pacer.recordFlood(keyId);
    const deps = createApiDeps(config, { logger: new CaptureLogger(), metrics: new MemoryMetrics() });
    await registerToken(deps.tokens, { token: TOKEN, userId: 'alice', scope: 'admin' }, Date.now());
    const app = createApiApp(deps);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const created = await app.request('/jobs', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://reset.example/a.iso' }),
    });
    expect(created.status).toBe(202);
    // The worker acknowledged its message while the circuit was open, putting it in the pending index.
    const [job] = ((await created.json()) as { jobs: { id: string }[] }).jobs;
    await deps.store.markPending([job?.id ?? ''], Date.now());

    // Act
    const res = await app.request('/admin/circuit/reset', { method: 'POST', headers: auth });

    // Assess: the answer reports the state before; the item is reset as DynamoPacer.reset leaves it.
    expect(deps.pacer).toBeInstanceOf(PacerItem);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ circuit: 'closed', wasOpen: true, reason: 'Not authenticated #247' });
    expect(Date.parse(body.pausedUntil as string)).toBeGreaterThan(Date.now());
    expect(body.requeued).toBe(1);
    const after = await pacer.state(keyId);
    expect(after).toMatchObject({ circuitOpen: false, pausedUntil: 0, floodCount: 0 });
    expect(after.circuitReason).toBeUndefined();
    expect(await deps.pacer.state(keyId)).toEqual(after);
  });
});
