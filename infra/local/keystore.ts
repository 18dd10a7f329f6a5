/**
 * The local keystore: the 1fichier key stored by `relay key set` in `<dataDir>/keystore.json` (mode
 * 0600), read by the local runtime when `ONEFICHIER_API_KEY` is unset. The key is never logged; the
 * file holds only the key and when it was saved.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';

/** The file's name inside the data dir. */
export const KEYSTORE_FILE = 'keystore.json';

interface KeystoreFile {
  fichierApiKey: string;
  savedAt: string;
}

/** Stores the key (0600, replacing any previous one). */
export function saveLocalKey(dataDir: string, key: string, now = new Date()): string {
  const file = resolvePath(dataDir, KEYSTORE_FILE);
  const body: KeystoreFile = { fichierApiKey: key, savedAt: now.toISOString() };
  writeFileSync(file, `${JSON.stringify(body)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The stored key, or undefined when none is stored (or the file is unreadable). */
export function readLocalKey(dataDir: string): string | undefined {
  try {
    const parsed = JSON.parse(
      readFileSync(resolvePath(dataDir, KEYSTORE_FILE), 'utf8'),
    ) as Partial<KeystoreFile>;
    const key = typeof parsed.fichierApiKey === 'string' ? parsed.fichierApiKey.trim() : '';
    return key || undefined;
  } catch {
    return undefined;
  }
}
