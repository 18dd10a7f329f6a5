import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_BANNER } from '../../infra/cdk/lambda-defaults.js';
import { FUNCTION_ENV } from '../../shared/config/function-env.js';
import { repoRoot } from './relay-app.js';

describe('npx cdk synth', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'relay-synth-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('exits 0 offline, with bundled ESM handlers, when cdk-nag finds nothing unacknowledged', () => {
    const result = spawnSync('npx', ['cdk', 'synth', '--quiet', '-o', outdir], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_DISABLE_CLI_TELEMETRY: 'true',
        // Any attempt to reach the network goes to a closed local port and fails at once.
        HTTPS_PROXY: 'http://127.0.0.1:9',
        HTTP_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '',
      },
      timeout: 180_000,
    });

    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    const template = JSON.parse(readFileSync(join(outdir, 'FichierRelay-prod.template.json'), 'utf8'));
    const functions = Object.values(template.Resources as Record<string, { Type: string }>).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    expect(functions).toHaveLength(Object.keys(FUNCTION_ENV).length);
    const bundles = readdirSync(outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(outdir, d, 'index.mjs'))
      .filter((f) => existsSync(f));
    expect(bundles).toHaveLength(Object.keys(FUNCTION_ENV).length);
    for (const bundle of bundles) {
      expect(readFileSync(bundle, 'utf8').startsWith(BUNDLE_BANNER)).toBe(true);
    }
  });
});
