/**
 * The key secret as the stack creates it, holding the placeholder: the relay recognises it and holds
 * (jobs stay queued, nothing is sent to 1fichier, nothing fails, the circuit reset says "set the key
 * first"), then picks the key up once the owner stores it. The real SDK against the Secrets Manager
 * stub, dynalite and fauxqs; a fake 1fichier that counts calls.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api.js';
import { createPollerHandler } from '../../functions/poller.js';
import { createWorkerHandler } from '../../functions/worker.js';
import { type SecretsStub, startSecretsStub } from '../../infra/local/secrets-stub.js';
import {
  KeyNotSetError,
  KeyUnavailableError,
  keyFromSecretString,
  SecretsKeyProvider,
} from '../../shared/aws/secrets-key-provider.js';
import { FICHIER_KEY_PLACEHOLDER } from '../../shared/config/fichier-key-placeholder.js';
import { enqueueJobs } from '../../shared/jobs/enqueue.js';
import { registerToken } from '../../shared/tokens/manage.js';
import { startTestAws, type TestAws } from '../support/engines.js';
import { harness, receiveEvent } from '../support/engines-pipeline.js';
import { shownJobs } from '../support/shown.js';

let aws: TestAws;
let stub: SecretsStub;
let sm: SecretsManagerClient;

beforeAll(async () => {
  aws = await startTestAws();
  stub = await startSecretsStub();
  sm = new SecretsManagerClient({
    endpoint: stub.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  sm?.destroy();
  await stub?.close();
  await aws?.close();
});

let secretCount = 0;
async function placeholderSecret(): Promise<string> {
  const name = `relay/placeholder-${++secretCount}`;
  await sm.send(new CreateSecretCommand({ Name: name, SecretString: FICHIER_KEY_PLACEHOLDER }));
  return name;
}

describe('the placeholder key', () => {
  it('is refused with a distinct "set the key first" error, plain or as JSON', () => {
    for (const value of [
      FICHIER_KEY_PLACEHOLDER,
      ` ${FICHIER_KEY_PLACEHOLDER}\n`,
      JSON.stringify({ apiKey: FICHIER_KEY_PLACEHOLDER }),
    ]) {
      let caught: unknown;
      try {
        keyFromSecretString('relay/k', value);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(KeyNotSetError);
      expect(caught).toBeInstanceOf(KeyUnavailableError);
      expect((caught as Error).message).toMatch(/set the 1fichier key first/);
      expect((caught as Error).message).toMatch(/put-secret-value --secret-id relay\/k/);
    }
    expect(keyFromSecretString('relay/k', 'a-real-key-000000000000000000000')).toBe(
      'a-real-key-000000000000000000000',
    );
  });

  it('is read again past the cache at most every placeholderRecheckS, so a key set later is used soon', async () => {
    const name = await placeholderSecret();
    const slow = new SecretsKeyProvider({ secretId: name, client: sm, maxAgeS: 300 });
    await expect(slow.get()).rejects.toBeInstanceOf(KeyNotSetError);
    await expect(slow.get()).rejects.toBeInstanceOf(KeyNotSetError);
    // One read, one forced read: the second get() does not go past the cache again within 30 s.
    expect(stub.reads(name)).toBe(2);

    const quick = new SecretsKeyProvider({
      secretId: name,
      client: sm,
      maxAgeS: 300,
      placeholderRecheckS: 0,
    });
    await expect(quick.get()).rejects.toBeInstanceOf(KeyNotSetError);
    await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'the-real-key-0000000000000000000' }),
    );
    expect(await quick.get()).toBe('the-real-key-0000000000000000000');
  });
});

describe('worker, poller and API while the secret holds the placeholder', () => {
  it('hold the jobs without calling 1fichier or failing anything, then go on once the key is set', async () => {
    const config = await aws.fresh();
    const name = await placeholderSecret();
    const keyProvider = new SecretsKeyProvider({ secretId: name, client: sm, placeholderRecheckS: 0 });
    const t = harness(config, { keyProvider });
    const worker = createWorkerHandler(t.deps);
    const poller = createPollerHandler(t.deps);
    const jobs = await enqueueJobs(
      {
        userId: 'u1',
        source: 'api',
        requests: ['a', 'b', 'c'].map((n) => ({ url: `https://files.example/held/${n}.bin`, folder: '' })),
      },
      t.deps,
    );

    const event = await receiveEvent(aws.sqs, config.queueUrl, 3);
    expect(event.Records).toHaveLength(3);
    const res = await worker(event);

    // Acknowledged (not redelivered toward the DLQ), the jobs still queued with no attempt, no call made.
    expect(res.batchItemFailures).toEqual([]);
    const held = await t.deps.store.getJobs(jobs.map((j) => j.id));
    expect(held.map((j) => [j.status, j.attempts, j.error])).toEqual([
      ['queued', 0, undefined],
      ['queued', 0, undefined],
      ['queued', 0, undefined],
    ]);
    const pending = await t.deps.store.listByStatus('queued', { limit: 10 });
    expect(pending.items.map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    await poller();
    expect(t.fake.calls).toEqual([]);
    expect(t.logger.lines.some((l) => l.level === 'warn' && /key is not set yet/.test(l.message))).toBe(true);
    expect(t.logger.lines.filter((l) => l.level === 'error')).toEqual([]);

    // The API still takes jobs, and the circuit reset says what to do.
    await registerToken(t.deps.tokens, { token: 'fr_placeholder', userId: 'u1', scope: 'admin' }, Date.now());
    const app = createApiApp(t.deps);
    const reset = await app.request('/admin/circuit/reset', {
      method: 'POST',
      headers: { authorization: 'Bearer fr_placeholder' },
    });
    expect(reset.status).toBe(409);
    expect(((await reset.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'keyNotSet',
      message: expect.stringMatching(/set the 1fichier key first/),
    });

    // The owner stores the key: the next poll past the requeue delay sends the jobs again, the worker submits.
    await sm.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'the-real-key-0000000000000000000' }),
    );
    t.clock.advance((config.requeueAfterS + 1) * 1000);
    const report = await poller();
    expect(report.requeued).toBe(3);
    const again = await receiveEvent(aws.sqs, config.queueUrl, 3);
    expect((await worker(again)).batchItemFailures).toEqual([]);
    expect(t.fake.requests).toHaveLength(1);
    const submitted = await shownJobs(
      t.deps,
      jobs.map((j) => j.id),
    );
    expect(submitted.every((j) => j.status === 'submitted')).toBe(true);
  });
});
