/**
 * `npm start`: the local stack in one process (docs/local.md). Reads the environment, starts the runtime,
 * prints where everything is plus a ready-to-paste curl line, then one line per job state change.
 * Ctrl-C or SIGTERM stops cleanly (exit 0); state persists in `RELAY_DATA_DIR`.
 */
import type { PacerState } from '../../shared/fichier/pacer.js';
import { formatBanner, formatJobChange, formatPacerChange } from './banner.js';
import { bindWarning } from './bind.js';
import { runtimeOptionsFromEnv, startRuntime } from './runtime.js';
import { sampleUrl } from './sample.js';

async function main(): Promise<void> {
  // Node 20 is the pinned platform here (README); the SDK's upgrade notice would repeat on every start.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Everything this process writes is local state (token, jobs, sandbox keys and files): owner only,
  // including LevelDB's files under dynalite, which take no mode of their own.
  process.umask(0o077);
  const options = runtimeOptionsFromEnv(process.env);
  let pacer: PacerState | null = null;
  const runtime = await startRuntime({
    ...options,
    onJobChange: (c) => process.stdout.write(`${formatJobChange(c)}\n`),
    onReport: (report) => {
      const line = formatPacerChange(pacer, report.pacer, Date.now());
      if (line) process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);
      pacer = report.pacer;
    },
  });
  process.stdout.write(
    formatBanner({
      baseUrl: runtime.baseUrl,
      token: runtime.token,
      tokenGenerated: runtime.tokenGenerated,
      dataDir: runtime.dataDir,
      sampleUrl: sampleUrl(runtime.baseUrl),
      pollIntervalMs: runtime.pollIntervalMs,
      fichierApiUrl: runtime.fichierApiUrl,
      ...(runtime.exposed ? { bindWarning: bindWarning(runtime.host, runtime.port) } : {}),
      ...(runtime.sandbox
        ? { sandbox: { baseUrl: runtime.sandbox.baseUrl, premiumKey: runtime.sandbox.keys.premium } }
        : {}),
    }),
  );
  const requeued = runtime.stats().requeuedAtStart;
  if (requeued > 0) process.stdout.write(`Re-queued ${requeued} job(s) left queued by the previous run.\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second Ctrl-C means "now".
      process.stdout.write('Forced exit.\n');
      process.exit(1);
    }
    stopping = true;
    process.stdout.write(`\n${signal}: stopping (finishing in-flight work)...\n`);
    runtime.close().then(
      () => {
        process.stdout.write(`Stopped. State kept in ${runtime.dataDir}\n`);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`Error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(
    `fichier-relay could not start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
