/**
 * `RuntimeHandle.kill()` is the crash seam of the chaos and crash tests ("like a killed process"). With
 * requests in flight it used to close dynalite under them, and dynalite (node_modules/dynalite/index.js,
 * `if (err) throw err`) threw "Database is closed" as an uncaught exception, ending the process that hosts
 * the runtime — the test runner itself (fixed in infra/local/engines.ts). Run in a child process so a
 * crash is observable.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('runtime kill() with work in flight', () => {
  it('leaves the hosting process alive', {
    timeout: 60_000,
  }, () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--no-warnings', join(here, 'kill-child.ts')],
      {
        encoding: 'utf8',
        timeout: 50_000,
      },
    );
    expect(child.stderr).not.toContain('Database is closed');
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('survived');
  });
});
