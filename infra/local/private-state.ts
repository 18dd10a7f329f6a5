/**
 * The local state directory is private to the user who runs the relay: it holds the client token, the
 * jobs (URLs, often signed), the sandbox's keys and stored files. Directories get mode 0700, files 0600.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Mode of every directory under the data directory. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file under the data directory. */
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and its parents) with mode 0700, and sets 0700 on it if it already existed. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Sets 0700 on every directory and 0600 on every file under `dir` (symbolic links are left alone). For
 * files written by code that takes no mode, such as LevelDB's under dynalite, and state left by older
 * versions. `npm start` also sets the process umask to 077, so files created while it runs are private
 * from the start.
 */
export function tightenModes(dir: string): void {
  chmodSync(dir, PRIVATE_DIR_MODE);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    try {
      if (entry.isDirectory()) tightenModes(path);
      else if (entry.isFile() && (lstatSync(path).mode & 0o777) !== PRIVATE_FILE_MODE)
        chmodSync(path, PRIVATE_FILE_MODE);
    } catch (err) {
      // A file removed meanwhile (LevelDB compaction, a fetch's .part file) needs no mode.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
