/**
 * Where the 1fichier client gets its key in-process: a fixed key (tests, the sandbox) or
 * `ONEFICHIER_API_KEY` (local mode). The Secrets Manager provider for AWS is in `shared/aws/`.
 */
import { ENV } from '../config/env-names.js';
import { FichierError } from './errors.js';
import type { KeyProvider } from './types.js';

/** A {@link KeyProvider} for a fixed key (local mode, tests): `refresh` returns the same key. */
export function staticKeyProvider(key: string): KeyProvider {
  if (!key) throw new FichierError('staticKeyProvider: empty 1fichier API key');
  return { get: async () => key, refresh: async () => key };
}

/**
 * A {@link KeyProvider} for local mode: the key in `ONEFICHIER_API_KEY`, read once.
 * Fails fast naming the variable when it is unset or blank (AWS reads the key from Secrets Manager instead).
 */
export function keyProviderFromEnv(env: NodeJS.ProcessEnv = process.env): KeyProvider {
  const key = env[ENV.fichierApiKey]?.trim();
  if (!key) throw new FichierError(`${ENV.fichierApiKey} is not set: the 1fichier API key is required`);
  return staticKeyProvider(key);
}

/** Replaces any `Bearer <token>` in a text, so a key never reaches a log line. */
export function redactSecrets(text: string): string {
  return text.replace(/Bearer\s+[^\s"',]+/gi, 'Bearer [redacted]');
}
