/**
 * Modules a function loads on first use. In a Lambda asset each one is a file of its own beside the
 * function's `index.mjs` (its `afterBundling` step writes it: infra/cdk/on-demand.ts), so the function's cold
 * start does not parse it; from the sources (the local runtime, the tests) it is the TypeScript module. The
 * callers compute the specifiers, so esbuild follows neither and the module stays out of the bundle.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where one on-demand module is: its file beside a bundle, and its TypeScript source. */
export interface OnDemandSource {
  /** File name beside the bundle, e.g. `feed-tools.mjs`. */
  file: string;
  /** URL of the TypeScript module, computed by the caller (never a literal esbuild could follow). */
  sourceUrl: string;
  /** The function whose asset must hold the file, for the error when it does not. */
  asset: string;
}

/**
 * The module for code at `besideUrl` (a bundle's `import.meta.url`, or the caller's): the bundled file when
 * it is there, else the source. In Lambda a missing file is an error naming the asset, never the source.
 */
export async function importOnDemand<T>(where: OnDemandSource, besideUrl: string | URL): Promise<T> {
  const bundled = new URL(`./${where.file}`, besideUrl);
  if (existsSync(fileURLToPath(bundled))) return (await import(bundled.href)) as T;
  if (process.env.LAMBDA_TASK_ROOT) {
    throw new Error(
      `${where.file} is missing beside the bundle (the ${where.asset} asset was built without it)`,
    );
  }
  return (await import(where.sourceUrl)) as T;
}

/** `load` once per process; a failed load is tried again by the next caller. */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
}
