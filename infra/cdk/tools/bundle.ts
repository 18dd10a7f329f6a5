/**
 * Bundles a Lambda entry with esbuild the way `RelayFunction` (`lambda-defaults.ts`) has NodejsFunction do
 * it (ESM, minified, platform node, the runtime's target, the `require` banner, ESM builds first, the AWS
 * SDK inlined), with esbuild's metafile, so a bundle can say what it is made of: its input files and the
 * bytes each package adds. Used by `measure-bundling.ts`, the cold-start bench and test/infra/bundles.test.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_BANNER, BUNDLE_TARGET } from '../lambda-defaults.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** An entry file (absolute or relative to the repository root), or source text resolved from the root. */
export type BundleEntry = string | { contents: string };

/** Options of {@link bundleLikeCdk}. */
export interface BundleOptions {
  /** Where to write the bundle; without it, nothing is written (the code is in the result). */
  outfile?: string;
  /** Packages left out of the bundle, e.g. `['@aws-sdk/*', '@smithy/*']`. @default [] */
  external?: string[];
  /** Write a source map next to `outfile`, as the CDK does. @default false */
  sourcemap?: boolean;
}

/** A bundle and what it is made of. */
export interface BundleResult {
  code: Uint8Array;
  bytes: number;
  gzipBytes: number;
  metafile: Metafile;
  /** Every file the entry imports, directly or not, relative to the repository root (even if tree-shaken away). */
  imported: string[];
  /** Input files with code in the bundle, relative to the repository root (`node_modules/undici/index.js`). */
  inputs: string[];
  /** Bytes of minified output per package (`zod`, `@aws-sdk/client-sqs`); the repository's files are `(ours)`. */
  bytesByPackage: Map<string, number>;
}

/** The package an input file belongs to (the innermost `node_modules/<name>`), or `(ours)`. */
export function packageOf(input: string): string {
  const parts = input.split('node_modules/');
  if (parts.length < 2) return '(ours)';
  const rest = parts[parts.length - 1]!.split('/');
  return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

/** Bundles one entry like the CDK does. */
export async function bundleLikeCdk(entry: BundleEntry, opts: BundleOptions = {}): Promise<BundleResult> {
  const out = await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [resolve(repoRoot, entry)] }
      : { stdin: { contents: entry.contents, resolveDir: repoRoot, loader: 'ts' as const } }),
    ...(opts.outfile
      ? { outfile: opts.outfile }
      : { outfile: resolve(repoRoot, 'bundle.mjs'), write: false }),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    minify: true,
    sourcemap: opts.sourcemap === true,
    banner: { js: BUNDLE_BANNER },
    mainFields: ['module', 'main'],
    external: opts.external ?? [],
    metafile: true,
    logLevel: 'error',
    absWorkingDir: repoRoot,
  });
  const metafile = out.metafile;
  const [, output] =
    Object.entries(metafile.outputs).find(([path]) => path.endsWith('.mjs') || path.endsWith('.js')) ?? [];
  if (!output) throw new Error('esbuild wrote no JavaScript output');
  const code = opts.outfile
    ? readFileSync(opts.outfile)
    : (out.outputFiles?.find((f) => f.path.endsWith('.mjs'))?.contents ?? new Uint8Array());
  const inputs: string[] = [];
  const bytesByPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output.inputs)) {
    if (input.bytesInOutput === 0) continue;
    inputs.push(path);
    const pkg = packageOf(path);
    bytesByPackage.set(pkg, (bytesByPackage.get(pkg) ?? 0) + input.bytesInOutput);
  }
  return {
    code,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    metafile,
    imported: Object.keys(metafile.inputs),
    inputs,
    bytesByPackage,
  };
}

/** The groups docs/performance.md and the bench report a bundle's weight in. */
export type PackageGroup = 'AWS SDK' | 'zod' | 'undici' | 'hono' | 'Powertools' | 'ours' | 'other';

/**
 * Bytes per {@link PackageGroup}. `AWS SDK` is `@aws-sdk/*`, `@smithy/*`, `@aws-crypto/*` and every package
 * only they import (e.g. mnemonist for DynamoDB's endpoint cache); `Powertools` is `@aws-lambda-powertools/*`.
 */
export function bytesByGroup(
  bundle: Pick<BundleResult, 'metafile' | 'bytesByPackage'>,
): Map<PackageGroup, number> {
  const sdk = sdkPackages(bundle.metafile);
  const groupOf = (pkg: string): PackageGroup => {
    if (sdk.has(pkg)) return 'AWS SDK';
    if (pkg.startsWith('@aws-lambda-powertools/')) return 'Powertools';
    if (pkg === '(ours)') return 'ours';
    if (pkg === 'zod' || pkg === 'undici' || pkg === 'hono') return pkg;
    return 'other';
  };
  const groups = new Map<PackageGroup, number>();
  for (const [pkg, bytes] of bundle.bytesByPackage) {
    const g = groupOf(pkg);
    groups.set(g, (groups.get(g) ?? 0) + bytes);
  }
  return groups;
}

/** The SDK's own packages plus those imported by nothing but them (a fixpoint over the import graph). */
function sdkPackages(metafile: Metafile): Set<string> {
  const importers = new Map<string, Set<string>>();
  for (const [path, input] of Object.entries(metafile.inputs)) {
    const from = packageOf(path);
    for (const imp of input.imports) {
      if (imp.external) continue;
      const to = packageOf(imp.path);
      if (to === from) continue;
      const set = importers.get(to) ?? new Set<string>();
      set.add(from);
      importers.set(to, set);
    }
  }
  const sdk = new Set<string>();
  for (const pkg of importers.keys()) if (/^@(aws-sdk|smithy|aws-crypto)\//.test(pkg)) sdk.add(pkg);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pkg, from] of importers) {
      if (sdk.has(pkg) || pkg === '(ours)') continue;
      if ([...from].every((f) => sdk.has(f))) {
        sdk.add(pkg);
        grew = true;
      }
    }
  }
  return sdk;
}
