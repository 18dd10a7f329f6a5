/**
 * `npm start` runs the local runtime with the flags the pipeline benchmark's child uses
 * (`RUNTIME_NODE_FLAGS`), so the memory the bench reports is what `npm start` gets, and Node accepts them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RUNTIME_NODE_FLAGS } from '../../infra/local/node-flags.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

describe('the local runtime’s Node flags', () => {
  it('npm start passes exactly RUNTIME_NODE_FLAGS before the runtime', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const words = (pkg.scripts.start ?? '').split(/\s+/);
    expect(words[0]).toBe('node');
    const flags = words.slice(1, words.indexOf('--import'));
    expect(flags).toEqual([...RUNTIME_NODE_FLAGS]);
    expect(words.at(-1)).toBe('infra/local/main.ts');
  });

  it('node accepts them', () => {
    const out = execFileSync(process.execPath, [...RUNTIME_NODE_FLAGS, '-e', 'process.stdout.write("ok")'], {
      encoding: 'utf8',
    });
    expect(out).toBe('ok');
  });
});
