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
    // The API's bundle carries the status page beside index.mjs (infra/cdk/web-assets.ts); the others do not.
    const pages = bundles.filter((b) => existsSync(join(b, '..', 'web-assets', 'manifest.json')));
    expect(pages).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(join(pages[0]!, '..', 'web-assets', 'manifest.json'), 'utf8'));
    for (const { name } of manifest as { name: string }[]) {
      expect(existsSync(join(pages[0]!, '..', 'web-assets', name)), name).toBe(true);
    }
    expect(readFileSync(join(pages[0]!, '..', 'web-assets', 'index.html'), 'utf8')).toContain('/assets/app-');
  }, 200_000); // the synth itself may take up to its spawnSync timeout (180 s) on a busy machine
});
