import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SecretsStub, startSecretsStub } from '../../infra/local/secrets-stub.js';
import { type SandboxHandle, startSandbox } from '../../infra/sandbox/server.js';
import { keyFromSecretString, SecretsKeyProvider } from '../../shared/aws/secrets-key-provider.js';
import { DEFAULT_PACING } from '../../shared/fichier/backoff.js';
import { createFichierClient } from '../../shared/fichier/client.js';
import { FichierApiError } from '../../shared/fichier/errors.js';
import { MemoryPacer } from '../../shared/fichier/memory-pacer.js';

let stub: SecretsStub;
let sandbox: SandboxHandle;
let sm: SecretsManagerClient;

beforeAll(async () => {
  stub = await startSecretsStub();
  sandbox = await startSandbox({ port: 0 });
  // The SDK reaches the stub the way it would in the local runtime: through the endpoint variable.
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = stub.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  sm = new SecretsManagerClient({});
});
afterAll(async () => {
  sm?.destroy();
  await sandbox?.close();
  await stub?.close();
});

describe('SecretsKeyProvider with the real SDK against the stub', () => {
  it('caches the key for maxAge and reads the rotated key on refresh', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'relay/key-a', SecretString: 'old-key' }));
    const provider = new SecretsKeyProvider({ secretId: 'relay/key-a', maxAgeS: 300, client: sm });
    expect(await provider.get()).toBe('old-key');
    await sm.send(
      new PutSecretValueCommand({ SecretId: 'relay/key-a', SecretString: '{"apiKey":"new-key"}' }),
    );
    expect(await provider.get()).toBe('old-key');
    expect(stub.reads('relay/key-a')).toBe(1);
    expect(await provider.refresh()).toBe('new-key');
    expect(await provider.get()).toBe('new-key');
    expect(stub.reads('relay/key-a')).toBe(2);
  });

  it('fails naming the secret, never its value, when the secret is missing or empty', async () => {
    const provider = new SecretsKeyProvider({ secretId: 'relay/missing', client: sm });
    await expect(provider.get()).rejects.toThrow();
    expect(() => keyFromSecretString('relay/x', '{"other":"s3cr3t"}')).toThrow(/relay\/x/);
    expect(() => keyFromSecretString('relay/x', '{"other":"s3cr3t"}')).not.toThrow(/s3cr3t/);
  });

  it('lets the 1fichier client pick up a key rotated while the old one was cached, after one auth error', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 'relay/key-b', SecretString: 'revoked-key-000000000000000000' }),
    );
    // No client given: the provider builds its own, which finds the stub through AWS_ENDPOINT_URL_SECRETS_MANAGER.
    const provider = new SecretsKeyProvider({ secretId: 'relay/key-b', maxAgeS: 300 });
    expect(await provider.get()).toBe('revoked-key-000000000000000000');
    // The operator rotates the key at 1fichier and in the secret; our cache still holds the old one.
    await sm.send(new PutSecretValueCommand({ SecretId: 'relay/key-b', SecretString: sandbox.keys.premium }));
    const pacer = new MemoryPacer({ policy: { ...DEFAULT_PACING, minIntervalMs: 0 } });
    const client = createFichierClient({ baseUrl: sandbox.baseUrl, keyProvider: provider, pacer });
    try {
      sandbox.resetStats();
      const list = await client.remoteList();
      expect(Array.isArray(list)).toBe(true);
      expect(await provider.get()).toBe(sandbox.keys.premium);
      expect(stub.reads('relay/key-b')).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('sends nothing more with a refused key once its circuit is open', async () => {
    await sm.send(
      new CreateSecretCommand({ Name: 'relay/key-c', SecretString: 'revoked-key-111111111111111111' }),
    );
    const provider = new SecretsKeyProvider({ secretId: 'relay/key-c', maxAgeS: 300 });
    const pacer = new MemoryPacer({ policy: { ...DEFAULT_PACING, minIntervalMs: 0 } });
    const client = createFichierClient({ baseUrl: sandbox.baseUrl, keyProvider: provider, pacer });
    try {
      sandbox.resetStats();
      const first = await client.remoteList().catch((e: unknown) => e);
      expect(first).toBeInstanceOf(FichierApiError);
      expect((first as FichierApiError).kind).toBe('auth');
      const sentAfterFirst = sandbox.stats().requests['remote/ls.cgi'] ?? 0;
      const second = await client.remoteList().catch((e: unknown) => e);
      expect((second as FichierApiError).kind).toBe('auth');
      expect(sandbox.stats().requests['remote/ls.cgi'] ?? 0).toBe(sentAfterFirst);
    } finally {
      await client.close();
    }
  });
});
