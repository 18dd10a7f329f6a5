/**
 * What a running local runtime records under its data dir so tools on the same machine (the `relay` CLI)
 * find it without being told: its base URL, a client token, its user and its pid. Written at start
 * (mode 0600: it holds a token) and removed on close; a file left by a killed process is recognised by
 * its pid no longer running.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';

/** The file's name inside the data dir. */
export const RUNTIME_INFO_FILE = 'runtime.json';

/** Contents of `<dataDir>/runtime.json`. */
export interface RuntimeInfo {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** A client token of the runtime's user. */
  token: string;
  /** The user every local token acts as. */
  user: string;
  pid: number;
  /** ISO 8601. */
  startedAt: string;
  /** The 1fichier API the runtime calls (the sandbox's URL when sandboxed). */
  fichierApiUrl: string;
  sandboxed: boolean;
}

/** Writes the record (0600, also when the file existed with wider permissions). */
export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  const file = resolvePath(dataDir, RUNTIME_INFO_FILE);
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Removes the record if it is this process's (a newer runtime on the same dir keeps its own). */
export function removeRuntimeInfo(dataDir: string, pid = process.pid): void {
  const info = readRuntimeInfo(dataDir);
  if (info && info.pid === pid) rmSync(resolvePath(dataDir, RUNTIME_INFO_FILE), { force: true });
}

/** The record, or undefined when absent or unreadable. */
export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  try {
    const parsed = JSON.parse(readFileSync(resolvePath(dataDir, RUNTIME_INFO_FILE), 'utf8')) as RuntimeInfo;
    return typeof parsed.url === 'string' && typeof parsed.token === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
