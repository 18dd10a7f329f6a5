import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KEYSTORE_FILE, readLocalKey, saveLocalKey } from '../../../infra/local/keystore.js';
import {
  RUNTIME_INFO_FILE,
  readRuntimeInfo,
  removeRuntimeInfo,
  writeRuntimeInfo,
} from '../../../infra/local/runtime-info.js';
import { removeDir, tempDir } from '../../support/runtime.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) removeDir(dir);
  dir = undefined;
});

const info = (pid: number) => ({
  url: 'http://127.0.0.1:3000',
  token: 'fr_x',
  user: 'local',
  pid,
  startedAt: new Date(0).toISOString(),
  fichierApiUrl: 'http://127.0.0.1:3001/v1',
  sandboxed: true,
});

describe('runtime info and keystore files', () => {
  it('runtime.json is written 0600, even over a wider existing file, and read back', () => {
    dir = tempDir('relay-info-');
    writeFileSync(join(dir, RUNTIME_INFO_FILE), '{}', { mode: 0o644 });
    writeRuntimeInfo(dir, info(process.pid));
    expect(statSync(join(dir, RUNTIME_INFO_FILE)).mode & 0o777).toBe(0o600);
    expect(readRuntimeInfo(dir)).toMatchObject({ url: 'http://127.0.0.1:3000', token: 'fr_x' });
  });

  it('close removes only its own process’s record', () => {
    dir = tempDir('relay-info-');
    writeRuntimeInfo(dir, info(process.pid + 1));
    removeRuntimeInfo(dir);
    expect(readRuntimeInfo(dir)).toBeDefined();
    writeRuntimeInfo(dir, info(process.pid));
    removeRuntimeInfo(dir);
    expect(readRuntimeInfo(dir)).toBeUndefined();
  });

  it('the keystore holds the key 0600; an absent or broken one reads as no key', () => {
    dir = tempDir('relay-key-');
    expect(readLocalKey(dir)).toBeUndefined();
    saveLocalKey(dir, 'k3y');
    expect(statSync(join(dir, KEYSTORE_FILE)).mode & 0o777).toBe(0o600);
    expect(readLocalKey(dir)).toBe('k3y');
    writeFileSync(join(dir, KEYSTORE_FILE), 'not json');
    expect(readLocalKey(dir)).toBeUndefined();
  });
});
