/**
 * `RuntimeHandle.kill()` is the crash seam of the chaos and crash tests ("like a killed process"). With
 * requests in flight it closes dynalite under them, and dynalite (node_modules/dynalite/index.js:408,
 * `if (err) throw err`) throws "Database is closed" as an uncaught exception, which ends the process that
 * hosts the runtime — the test runner itself. Run in a child process so the crash is observable.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('runtime kill() with work in flight', () => {
  it.fails('leaves the hosting process alive (BUG: dynalite throws "Database is closed" uncaught; owner of infra/local not yet fixed)', {
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
