/**
 * The 1fichier key provider of the functions that read the key (the API's status page, the worker, the
 * poller). It lives apart from `common-deps.ts` so that the functions that never read it (the feeds reader,
 * the deliveries) do not build it; the feeds reader then bundles no Secrets Manager client.
 */
import { envKeyProvider, missingKeyProvider, SecretsKeyProvider } from '../aws/secrets-key-provider.js';
import { ENV } from '../config/env-names.js';
import type { KeyProvider } from '../fichier/types.js';
import type { RelayConfig } from './config.js';
import type { Deps } from './deps.js';

/** What a function that reads the 1fichier key adds to the common deps. */
export type KeyDeps = Pick<Deps, 'keyProvider'>;

/** The key from Secrets Manager (AWS), from the config (local mode), or one that fails naming both. */
export function createKeyProvider(config: RelayConfig): KeyProvider {
  if (config.fichierSecretId) {
    return new SecretsKeyProvider({ secretId: config.fichierSecretId, maxAgeS: config.secretMaxAgeS });
  }
  if (config.fichierApiKey) return envKeyProvider(config.fichierApiKey);
  return missingKeyProvider(`${ENV.fichierSecretId} (AWS) or ${ENV.fichierApiKey} (local)`);
}

/** The overriding key provider, else {@link createKeyProvider}'s. */
export function createKeyDeps(config: RelayConfig, overrides: Partial<KeyDeps>): KeyDeps {
  return { keyProvider: overrides.keyProvider ?? createKeyProvider(config) };
}
