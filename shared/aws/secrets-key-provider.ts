/**
 * {@link KeyProvider} reading the 1fichier key from Secrets Manager through Powertools parameters:
 * cached for `maxAgeS`, and fetched again (`forceFetch`) on `refresh()`, which the client calls once after
 * an auth answer so a rotated key is picked up without waiting for the cache to expire.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FICHIER_KEY_PLACEHOLDER } from '../config/fichier-key-placeholder.js';
import type { KeyProvider } from '../fichier/types.js';

/** Options of {@link SecretsKeyProvider}. */
export interface SecretsKeyProviderOptions {
  /** Secret id or ARN. */
  secretId: string;
  /** Cache lifetime in seconds (Powertools' default of 5 s would read the secret on almost every call). @default 300 */
  maxAgeS?: number;
  /** Client to use (tests point it at the local stub); by default the SDK's, which honours `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  client?: SecretsManagerClient;
  /**
   * While the secret holds the placeholder, read it again (past the cache) at most this often, so a key
   * set with put-secret-value is used within this delay rather than `maxAgeS`. @default 30
   */
  placeholderRecheckS?: number;
}

/** Raised when the secret is missing or holds no usable key. The message never contains the secret. */
export class KeyUnavailableError extends Error {
  override readonly name: string = 'KeyUnavailableError';
}

/**
 * The secret still holds the placeholder the stack created it with: the owner has not set the key yet.
 * The worker holds jobs (queued, nothing sent to 1fichier, nothing failed) and the poller makes no call.
 */
export class KeyNotSetError extends KeyUnavailableError {
  override readonly name = 'KeyNotSetError';
}

/**
 * Extracts the key from a secret string: either the key itself or JSON with `apiKey` (or `key`),
 * the two shapes people store in Secrets Manager.
 */
export function keyFromSecretString(secretId: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new KeyUnavailableError(`secret ${secretId} has no string value`);
  }
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new KeyUnavailableError(`secret ${secretId} looks like JSON but does not parse`, { cause: err });
    }
    const obj = parsed as { apiKey?: unknown; key?: unknown };
    const k = obj.apiKey ?? obj.key;
    if (typeof k !== 'string' || k.trim() === '') {
      throw new KeyUnavailableError(`secret ${secretId} JSON has no "apiKey" string`);
    }
    return notPlaceholder(secretId, k.trim());
  }
  return notPlaceholder(secretId, trimmed);
}

function notPlaceholder(secretId: string, key: string): string {
  if (key === FICHIER_KEY_PLACEHOLDER) {
    throw new KeyNotSetError(
      `set the 1fichier key first: secret ${secretId} still holds the placeholder the stack created ` +
        `(aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<your key>'); jobs wait until then`,
    );
  }
  return key;
}

/** The 1fichier key from Secrets Manager. */
export class SecretsKeyProvider implements KeyProvider {
  private readonly provider: SecretsProvider;
  private readonly maxAge: number;
  /** When the placeholder was last read past the cache. */
  private placeholderCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: SecretsKeyProviderOptions) {
    this.provider = new SecretsProvider(opts.client ? { awsSdkV3Client: opts.client } : {});
    this.maxAge = opts.maxAgeS ?? 300;
  }

  get(): Promise<string> {
    return this.read(false);
  }

  refresh(): Promise<string> {
    return this.read(true);
  }

  private async read(forceFetch: boolean): Promise<string> {
    const value = await this.provider.get(this.opts.secretId, { maxAge: this.maxAge, forceFetch });
    try {
      return keyFromSecretString(this.opts.secretId, value);
    } catch (err) {
      const recheckMs = (this.opts.placeholderRecheckS ?? 30) * 1000;
      if (!(err instanceof KeyNotSetError) || forceFetch) {
        if (err instanceof KeyNotSetError) this.placeholderCheckedAt = Date.now();
        throw err;
      }
      // A cached placeholder: look again past the cache now and then, so the key is used soon after it is set.
      if (Date.now() - this.placeholderCheckedAt < recheckMs) throw err;
      return this.read(true);
    }
  }
}

/** A key from the environment (local mode): nothing to refresh. */
export function envKeyProvider(key: string): KeyProvider {
  return { get: async () => key, refresh: async () => key };
}

/** Used when no key is configured: every read fails naming the variables to set. */
export function missingKeyProvider(names: string): KeyProvider {
  const fail = async (): Promise<string> => {
    throw new KeyUnavailableError(`no 1fichier key configured: set ${names}`);
  };
  return { get: fail, refresh: fail };
}
