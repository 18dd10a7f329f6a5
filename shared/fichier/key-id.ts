/** The short id of a 1fichier key, in a module of its own so the API can use it without the pacer. */
import { createHash } from 'node:crypto';

/**
 * Stable, short id for a 1fichier key: the first 16 hex chars of its sha256.
 * Use it for pacer state, logs and metrics; never log or store the key itself.
 */
export function keyIdOf(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex').slice(0, 16);
}
